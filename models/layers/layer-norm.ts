// Layer normalisation (Ba, Kiros & Hinton 2016, eq. 4): y = γ ⊙ (x − μ) / sqrt(σ² + ε) + β over the last axis.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'

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
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true) // [..., 1]
      return x.sub(mean).mul(tf.rsqrt(variance.add(this.epsilon))).mul(this.gamma).add(this.beta) as T
    })
  }
}
