// Multiplicative attention, Luong, Pham & Manning 2015, eq. 8:
// score(h_t, h̄_s) = h_tᵀ h̄_s ("dot") or h_tᵀ Wₐ h̄_s ("general");  a_t = softmax(score);  c_t = Σ_s a_t(s) h̄_s.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import { Linear } from '../layers/linear.ts'
import type { AttentionResult, StepAttention } from './attention.ts'
import { maskScores } from './mask.ts'

export type LuongScore = 'dot' | 'general'

export class LuongAttention implements StepAttention<tf.Tensor3D> {
  private readonly weight: Linear | null // Wₐ: [valueSize, querySize], "general" only

  constructor(
    params: ParameterStore,
    name: string,
    readonly score: LuongScore,
    querySize: number,
    valueSize: number,
  ) {
    if (score === 'dot' && querySize !== valueSize) {
      throw new Error(`Luong dot attention needs equal query and value sizes (got ${querySize} and ${valueSize}); use "general"`)
    }
    this.weight = score === 'general' ? new Linear(params, `${name}/weight`, valueSize, querySize, { bias: false }) : null
  }

  /** Keys: h̄_s (dot) or Wₐ h̄_s (general), [batch, srcLen, querySize]. */
  prepare(memory: tf.Tensor3D): tf.Tensor3D {
    return this.weight ? this.weight.apply(memory) : memory.clone()
  }

  attend(query: tf.Tensor2D, keys: tf.Tensor3D, memory: tf.Tensor3D, mask: tf.Tensor2D | null): AttentionResult {
    return tf.tidy(() => {
      const scores = tf.matMul(keys, query.expandDims(2)).squeeze([2]) // [B, S, q]·[B, q, 1] → [B, S]
      const weights = tf.softmax(maskScores(scores, mask)) as tf.Tensor2D // [B, S]
      const context = tf.matMul(weights.expandDims(1), memory).squeeze([1]) as tf.Tensor2D // [B, valueSize]
      return { context, weights }
    })
  }

  attendAll(queries: tf.Tensor3D, keys: tf.Tensor3D, memory: tf.Tensor3D, mask: tf.Tensor2D | null): { context: tf.Tensor3D; weights: tf.Tensor3D } {
    return tf.tidy(() => {
      const scores = tf.matMul(queries, keys, false, true) // [B, T, q]·[B, S, q]ᵀ → [B, T, S]
      const weights = tf.softmax(maskScores(scores, mask)) as tf.Tensor3D // [B, T, S]
      const context = tf.matMul(weights, memory) as tf.Tensor3D // [B, T, valueSize]
      return { context, weights }
    })
  }

  disposeKeys(keys: tf.Tensor3D): void {
    keys.dispose()
  }
}
