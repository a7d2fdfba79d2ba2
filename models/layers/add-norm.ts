// "Add & Norm" of the post-LN Transformer (Vaswani et al. 2017 §3.1 and §5.4): LayerNorm(x + Dropout(s)) as one
// kernel where the backend has it, one pass forward and two backward, where dropout, the residual sum and the norm
// are three and three. The dropout mask is the fused dropout's (the same hash, counters and element order).
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import { nextRandomSeed } from './dropout.ts'
import type { LayerNorm } from './layer-norm.ts'

/** inputs {x, s [N, D], gamma, beta [D]}, attrs AddNormAttrs → [y [N, D], mean [N], 1/√(σ² + ε) [N]]. */
export const addNormKernel = 'KotobaAddNorm'
/** inputs {dy, x, s, gamma, mean, invStd}, the same attrs → [dx, ds, dγ, dβ]. */
export const addNormGradKernel = 'KotobaAddNormGrad'

export interface AddNormAttrs {
  epsilon: number
  /** Dropout on s (0: none), with the fused dropout's seed. */
  rate: number
  seed: number
}

export function hasFusedAddNorm(): boolean {
  return backendHasKernels(addNormKernel, addNormGradKernel)
}

/** norm(x + dropout(s)) for x, s [..., D]; call only where hasFusedAddNorm(). */
export function addNorm<T extends tf.Tensor>(x: T, s: T, norm: LayerNorm, rate: number): T {
  const dim = norm.dim
  const attrs: AddNormAttrs = { epsilon: norm.epsilon, rate, seed: rate > 0 ? nextRandomSeed(s.size) : 0 }
  const fused = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xRows, sRows, gamma, beta, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc]
    const [y, mean, invStd] = tf.engine().runKernel(addNormKernel, { x: xRows, s: sRows, gamma, beta }, { ...attrs }) as tf.Tensor[]
    save([xRows, sRows, gamma, mean!, invStd!])
    return {
      value: y as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [xSaved, sSaved, gammaSaved, meanSaved, invStdSaved] = saved as tf.Tensor[]
        const inputs = { dy, x: xSaved!, s: sSaved!, gamma: gammaSaved!, mean: meanSaved!, invStd: invStdSaved! }
        return tf.engine().runKernel(addNormGradKernel, inputs, { ...attrs }) as tf.Tensor[] // [dx, ds, dγ, dβ]
      },
    }
  })
  return tf.tidy(() => fused(x.reshape([-1, dim]), s.reshape([-1, dim]), norm.gamma, norm.beta).reshape(x.shape) as T)
}
