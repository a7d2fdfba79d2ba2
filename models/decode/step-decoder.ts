// What every search (greedy, beam, sampling) needs from a model: encode once, then extend each row's prefix
// by one token at a time. Rows can be reordered or repeated between steps (beam search).
import type * as tf from '@tensorflow/tfjs'

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
