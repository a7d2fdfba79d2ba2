// Layer normalisation (Ba, Kiros & Hinton 2016, eq. 4): y = γ ⊙ (x − μ) / sqrt(σ² + ε) + β over the last axis.
// Where the backend has the fused kernels (the engine registers them) a call is one pass forward and one backward.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import type { ParameterStore } from '../core/params.ts'

/** inputs {x [N, D], gamma [D], beta [D]}, attrs {epsilon} → [y [N, D], mean [N], 1/√(σ² + ε) [N]]. */
export const layerNormKernel = 'KotobaLayerNorm'
/** inputs {dy [N, D], x, gamma, mean, invStd} → [dx [N, D], dγ [D], dβ [D]]. */
export const layerNormGradKernel = 'KotobaLayerNormGrad'

tf.registerGradient({
  kernelName: layerNormKernel,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [dy] = dys as tf.Tensor[]
    const [x, gamma, mean, invStd] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D]
    const [dx, dGamma, dBeta] = tf.engine().runKernel(layerNormGradKernel, { dy: dy!, x, gamma, mean, invStd }) as tf.Tensor[]
    return { x: () => dx!, gamma: () => dGamma!, beta: () => dBeta! }
  },
})

export class LayerNorm {
  readonly gamma: tf.Variable // [dim]
  readonly beta: tf.Variable // [dim]

  constructor(
    params: ParameterStore,
    name: string,
    readonly dim: number,
    readonly epsilon = 1e-5,
  ) {
    this.gamma = params.create(`${name}/gamma`, [dim], { kind: 'ones' })
    this.beta = params.create(`${name}/beta`, [dim], { kind: 'zeros' })
  }

  apply<T extends tf.Tensor>(x: T): T {
    if (backendHasKernels(layerNormKernel, layerNormGradKernel)) {
      return tf.tidy(() => {
        const rows = x.reshape([-1, this.dim])
        const [y] = tf.engine().runKernel(layerNormKernel, { x: rows, gamma: this.gamma, beta: this.beta }, { epsilon: this.epsilon }) as tf.Tensor[]
        return y!.reshape(x.shape) as T
      })
    }
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true) // [..., 1]
      return x.sub(mean).mul(tf.rsqrt(variance.add(this.epsilon))).mul(this.gamma).add(this.beta) as T
    })
  }
}
