import type * as tf from '@tensorflow/tfjs'

/** One decoder step's attention over the source: a context vector and the weights that made it. */
export interface AttentionResult {
  context: tf.Tensor2D // [batch, valueSize]
  weights: tf.Tensor2D // [batch, srcLen], rows sum to 1 over unmasked positions
}

/** Attention used by RNN decoders: keys are prepared once per source sentence, then queried each step. */
export interface StepAttention<Keys> {
  /** memory [batch, srcLen, valueSize] → whatever the scoring function precomputes. */
  prepare(memory: tf.Tensor3D): Keys
  /** query [batch, querySize]; mask [batch, srcLen] (1 = real token). */
  attend(query: tf.Tensor2D, keys: Keys, memory: tf.Tensor3D, mask: tf.Tensor2D | null): AttentionResult
  disposeKeys(keys: Keys): void
  /**
   * Every target step at once, for teacher forcing when no step depends on the previous step's attention:
   * queries [batch, tgtLen, querySize] → context [batch, tgtLen, valueSize], weights [batch, tgtLen, srcLen].
   */
  attendAll?(queries: tf.Tensor3D, keys: Keys, memory: tf.Tensor3D, mask: tf.Tensor2D | null): { context: tf.Tensor3D; weights: tf.Tensor3D }
}
