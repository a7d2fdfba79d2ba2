// What every search (greedy, beam, sampling) needs from a model: encode once, then extend each row's prefix
// by one token at a time. Rows can be reordered or repeated between steps (beam search).
import * as tf from '@tensorflow/tfjs'
import { logSoftmaxRows } from './hypothesis.ts'

export interface StepOutput<State> {
  logits: tf.Tensor2D // [rows, tgtVocab]
  attention: tf.Tensor2D | null // [rows, srcLen] cross-attention of this step (averaged over heads, if any)
  state: State
}

export interface StepDecoder<State> {
  /** src [rows, srcLen] int32, srcMask [rows, srcLen] → the state before the first target token. */
  start(src: tf.Tensor2D, srcMask: tf.Tensor2D): State
  /** previous [rows] int32: the last token of each row's prefix. Leaves `state` intact. */
  step(previous: tf.Tensor1D, state: State): StepOutput<State>
  /** A new state whose row i is row rows[i] of `state`. Leaves `state` intact. */
  select(state: State, rows: number[]): State
  dispose(state: State): void
}

export interface SpecialTokens {
  bos: number
  eos: number
}

/** One search step read back to JavaScript: log-probabilities [rows × vocab] and attention rows. */
export interface ReadStep<State> {
  vocab: number
  logProbs: Float32Array
  attention: number[][] | null
  state: State
}

/** Feeds each row's last token, reads the step's outputs (asynchronously: WebGPU cannot read synchronously
 *  under Node) and frees everything but the new state; `state` is disposed once the step is read (when the step
 *  fails, the caller still owns it). */
export async function readStep<State>(decoder: StepDecoder<State>, previous: number[], state: State): Promise<ReadStep<State>> {
  const input = tf.tensor1d(previous, 'int32')
  let out: ReturnType<StepDecoder<State>['step']>
  try {
    out = decoder.step(input, state)
  } finally {
    input.dispose()
  }
  try {
    const vocab = out.logits.shape[1]
    const logProbs = logSoftmaxRows((await out.logits.data()) as Float32Array, vocab)
    const attention = out.attention ? ((await out.attention.array()) as number[][]) : null
    decoder.dispose(state)
    return { vocab, logProbs, attention, state: out.state }
  } catch (error) {
    decoder.dispose(out.state)
    throw error
  } finally {
    out.logits.dispose()
    out.attention?.dispose()
  }
}
