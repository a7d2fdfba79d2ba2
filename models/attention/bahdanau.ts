// Additive (MLP) attention, Bahdanau, Cho & Bengio 2015, eq. 6 and appendix A.1.2:
// e_ij = vₐᵀ tanh(Wₐ s_{i−1} + Uₐ h_j),  α_ij = softmax_j(e_ij),  c_i = Σ_j α_ij h_j.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import { Linear } from '../layers/linear.ts'
import type { AttentionResult, StepAttention } from './attention.ts'
import { maskScores } from './mask.ts'

export class BahdanauAttention implements StepAttention<tf.Tensor3D> {
  private readonly queryProjection: Linear // Wₐ: [querySize, units]
  private readonly keyProjection: Linear // Uₐ: [valueSize, units]
  private readonly v: tf.Variable // vₐ: [units]

  constructor(params: ParameterStore, name: string, querySize: number, valueSize: number, readonly units: number) {
    this.queryProjection = new Linear(params, `${name}/query`, querySize, units, { bias: false })
    this.keyProjection = new Linear(params, `${name}/key`, valueSize, units)
    this.v = params.create(`${name}/v`, [units], { kind: 'uniform', limit: 1 / Math.sqrt(units) })
  }

  /** Uₐ h_j for every source position, once per sentence: [batch, srcLen, units]. */
  prepare(memory: tf.Tensor3D): tf.Tensor3D {
    return this.keyProjection.apply(memory)
  }

  attend(query: tf.Tensor2D, keys: tf.Tensor3D, memory: tf.Tensor3D, mask: tf.Tensor2D | null): AttentionResult {
    return tf.tidy(() => {
      const [batch, srcLen, units] = keys.shape
      const q = this.queryProjection.apply(query).expandDims(1) // [B, 1, units]
      const hidden = tf.tanh(keys.add(q)) // [B, S, units]
      const scores = tf.matMul(hidden.reshape([batch * srcLen, units]), this.v.reshape([units, 1])).reshape([batch, srcLen]) // [B, S]
      const weights = tf.softmax(maskScores(scores, mask)) as tf.Tensor2D // [B, S]
      const context = tf.matMul(weights.expandDims(1), memory).squeeze([1]) as tf.Tensor2D // [B, valueSize]
      return { context, weights }
    })
  }

  disposeKeys(keys: tf.Tensor3D): void {
    keys.dispose()
  }
}
