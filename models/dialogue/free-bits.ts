// Free bits (Kingma et al. 2016, §C.8, eq. 15): each latent dimension's KL, averaged over the batch, costs at least
// λ nats, so the optimiser gains nothing by pushing a dimension below λ and the latent code stays in use:
// L_KL = Σⱼ max(λ, E_batch[KLⱼ]).
import * as tf from '@tensorflow/tfjs'

/** klPerDimension [B, Z] → the batch's KL term as a sum over its B examples (B · Σⱼ max(λ, meanⱼ)). */
export function freeBitsKl(klPerDimension: tf.Tensor2D, lambda: number): tf.Scalar {
  return tf.tidy(() => {
    const rows = klPerDimension.shape[0]
    const perDimension = klPerDimension.mean(0) // [Z]
    return perDimension.maximum(lambda).sum().mul(rows) as tf.Scalar
  })
}
