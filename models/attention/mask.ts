import * as tf from '@tensorflow/tfjs'

/** A large negative number added to masked scores (finite, so softmax stays NaN-free on empty rows). */
export const maskedScore = -1e9

/** scores [..., S] + (1 − mask) · −1e9, with mask [batch, S] of 1 (attend) and 0 (padding). */
export function maskScores(scores: tf.Tensor, mask: tf.Tensor | null): tf.Tensor {
  if (!mask) return scores
  return tf.tidy(() => {
    const extra = scores.rank - mask.rank
    let expanded = mask
    for (let i = 0; i < extra; i++) expanded = expanded.expandDims(1) // broadcast over heads / query steps
    return scores.add(tf.sub(1, expanded).mul(maskedScore))
  })
}
