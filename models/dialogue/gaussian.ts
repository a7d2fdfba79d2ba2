// Diagonal Gaussians for the VHRED latent variable: the reparameterised sample z = μ + σ·ε and the closed-form
// KL(q ‖ p) = ½ Σ (log σp² − log σq² + (σq² + (μq − μp)²) / σp² − 1)  (Kingma & Welling 2014, appendix B).
import * as tf from '@tensorflow/tfjs'

export interface DiagonalGaussian {
  mean: tf.Tensor2D // [B, Z]
  logVariance: tf.Tensor2D // [B, Z]
}

/** ε ~ N(0, I) given (seeded for reproducible replies), so gradients flow through μ and σ. */
export function reparameterise(g: DiagonalGaussian, epsilon: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => g.mean.add(g.logVariance.mul(0.5).exp().mul(epsilon)) as tf.Tensor2D)
}

/** KL(q ‖ p) per example and latent dimension [B, Z]. */
export function gaussianKlPerDimension(q: DiagonalGaussian, p: DiagonalGaussian): tf.Tensor2D {
  return tf.tidy(() => {
    const varianceRatio = q.logVariance.sub(p.logVariance).exp() // σq² / σp²
    const meanTerm = q.mean.sub(p.mean).square().div(p.logVariance.exp()) // (μq − μp)² / σp²
    return p.logVariance.sub(q.logVariance).add(varianceRatio).add(meanTerm).sub(1).mul(0.5) as tf.Tensor2D
  })
}

/** KL(q ‖ p) per example [B]. */
export function gaussianKl(q: DiagonalGaussian, p: DiagonalGaussian): tf.Tensor1D {
  return tf.tidy(() => gaussianKlPerDimension(q, p).sum(1) as tf.Tensor1D)
}
