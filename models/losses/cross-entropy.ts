// Token-level cross-entropy with label smoothing (Szegedy et al. 2016, §7), averaged over real tokens.
import * as tf from '@tensorflow/tfjs'

/**
 * logits [N, vocab]; targets [N] int32; mask [N] (1 = real token, 0 = padding).
 * Smoothed target distribution: (1 − ε)·onehot(y) + ε/vocab.
 * Returns the mean loss per real token and the number of real tokens.
 */
export function smoothedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, mask: tf.Tensor1D, smoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const vocab = logits.shape[1]
    const logProbs = tf.logSoftmax(logits) // [N, V]
    const target = tf.oneHot(targets, vocab).mul(1 - smoothing).add(smoothing / vocab) // [N, V]
    const perToken = logProbs.mul(target).sum(1).neg() // [N]
    const tokens = mask.sum().maximum(1)
    return perToken.mul(mask).sum().div(tokens) as tf.Scalar
  })
}
