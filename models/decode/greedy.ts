// Greedy decoding: at each step take the most probable token, until EOS or the length limit.
import * as tf from '@tensorflow/tfjs'
import { disposeDecoderState, type DecoderState, type Seq2SeqModel } from '../seq2seq/model.ts'

export interface GreedyResult {
  /** Per sentence, the tokens without BOS and EOS. */
  tokens: number[][]
  /** Per sentence, per target step, the attention over source positions. */
  attention: number[][][]
}

export async function greedyDecode(model: Seq2SeqModel, src: tf.Tensor2D, srcMask: tf.Tensor2D, bos: number, eos: number, maxLength: number): Promise<GreedyResult> {
  const batch = src.shape[0]
  let state: DecoderState = model.encode(src, srcMask)
  let previous = tf.fill([batch], bos, 'int32') as tf.Tensor1D
  const tokens: number[][] = Array.from({ length: batch }, () => [])
  const attention: number[][][] = Array.from({ length: batch }, () => [])
  const finished = new Array<boolean>(batch).fill(false)
  for (let t = 0; t < maxLength && !finished.every(Boolean); t++) {
    const out = model.step(previous, state)
    const next = tf.tidy(() => out.logits.argMax(1).cast('int32')) as tf.Tensor1D
    const chosen = await next.data()
    const weights = await out.attention?.array()
    for (let b = 0; b < batch; b++) {
      if (finished[b]) continue
      if (chosen[b] === eos) finished[b] = true
      else tokens[b]!.push(chosen[b]!)
      if (weights) attention[b]!.push(weights[b]!)
    }
    out.logits.dispose()
    out.attention?.dispose()
    disposeDecoderState(state, true)
    previous.dispose()
    state = out.state
    previous = next
  }
  previous.dispose()
  disposeDecoderState(state)
  return { tokens, attention }
}
