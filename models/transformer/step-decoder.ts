// The Transformer as a StepDecoder without a key/value cache: each step re-runs the decoder over the whole
// prefix and keeps the last position (simple and exact; the cached version belongs with the inspection work).
import * as tf from '@tensorflow/tfjs'
import { tidyResult } from '../core/tidy.ts'
import type { StepDecoder, StepOutput } from '../decode/step-decoder.ts'
import type { TransformerModel } from './model.ts'

export interface TransformerDecodeState {
  memory: tf.Tensor3D // [rows, S, d]
  srcMask: tf.Tensor2D // [rows, S]
  prefix: tf.Tensor2D | null // [rows, T] int32, the tokens fed so far (BOS first); null before the first step
}

export class TransformerStepDecoder implements StepDecoder<TransformerDecodeState> {
  constructor(private readonly model: TransformerModel) {}

  start(src: tf.Tensor2D, srcMask: tf.Tensor2D): TransformerDecodeState {
    const encoded = this.model.encode(src, srcMask)
    tf.dispose(encoded.attention)
    return { memory: encoded.memory, srcMask: srcMask.clone(), prefix: null }
  }

  step(previous: tf.Tensor1D, state: TransformerDecodeState): StepOutput<TransformerDecodeState> {
    const prefix = tf.tidy(() => {
      const column = previous.cast('int32').expandDims(1) as tf.Tensor2D // [rows, 1]
      return state.prefix ? (tf.concat([state.prefix, column], 1) as tf.Tensor2D) : column
    })
    const length = prefix.shape[1]
    const out = tidyResult(() => {
      const tgtIn = prefix
      const decoded = this.model.decode(tgtIn, tf.onesLike(tgtIn).cast('float32') as tf.Tensor2D, state.memory, state.srcMask)
      const logits = decoded.logits.slice([0, length - 1, 0], [-1, 1, -1]).squeeze([1]) as tf.Tensor2D // [rows, V]
      const cross = decoded.crossAttention.at(-1)! // [rows, heads, T, S]: the top layer, averaged over heads
      const attention = cross.slice([0, 0, length - 1, 0], [-1, -1, 1, -1]).mean(1).squeeze([1]) as tf.Tensor2D // [rows, S]
      return { logits, attention }
    })
    return { ...out, state: { memory: state.memory.clone(), srcMask: state.srcMask.clone(), prefix } }
  }

  select(state: TransformerDecodeState, rows: number[]): TransformerDecodeState {
    return tidyResult(() => {
      const index = tf.tensor1d(rows, 'int32')
      return { memory: tf.gather(state.memory, index), srcMask: tf.gather(state.srcMask, index), prefix: state.prefix ? tf.gather(state.prefix, index) : null }
    })
  }

  dispose(state: TransformerDecodeState): void {
    state.memory.dispose()
    state.srcMask.dispose()
    state.prefix?.dispose()
  }
}
