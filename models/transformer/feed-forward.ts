// Position-wise feed-forward network, Vaswani et al. 2017 eq. 2: FFN(x) = max(0, xW₁ + b₁)W₂ + b₂.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import { Linear } from '../layers/linear.ts'

export class FeedForward {
  private readonly inner: Linear // [dModel, dFF]
  private readonly outer: Linear // [dFF, dModel]

  constructor(params: ParameterStore, name: string, dModel: number, dFF: number) {
    this.inner = new Linear(params, `${name}/inner`, dModel, dFF)
    this.outer = new Linear(params, `${name}/outer`, dFF, dModel)
  }

  apply(x: tf.Tensor3D, dropoutRate: number): tf.Tensor3D {
    return tf.tidy(() => {
      const hidden = this.inner.apply(x, { activation: 'relu', dropout: dropoutRate }) // [B, T, dFF]
      return this.outer.apply(hidden) // [B, T, dModel]
    })
  }
}
