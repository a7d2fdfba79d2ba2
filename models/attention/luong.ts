// Multiplicative attention, Luong, Pham & Manning 2015, eq. 8:
// score(h_t, h̄_s) = h_tᵀ h̄_s ("dot") or h_tᵀ Wₐ h̄_s ("general");  a_t = softmax(score);  c_t = Σ_s a_t(s) h̄_s.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import { Linear } from '../layers/linear.ts'
import type { AttentionResult, StepAttention } from './attention.ts'
import { fusedAttention, hasFusedAttention } from './fused-attention.ts'
import { maskScores } from './mask.ts'

export type LuongScore = 'dot' | 'general'

export class LuongAttention implements StepAttention<tf.Tensor3D> {
  private readonly weight: Linear | null // Wₐ: [valueSize, querySize], "general" only

  constructor(
    params: ParameterStore,
    name: string,
    readonly score: LuongScore,
    private readonly querySize: number,
    private readonly valueSize: number,
  ) {
    if (score === 'dot' && querySize !== valueSize) {
      throw new Error(`Luong dot attention needs equal query and value sizes (got ${querySize} and ${valueSize}); use "general"`)
    }
    this.weight = score === 'general' ? new Linear(params, `${name}/weight`, valueSize, querySize, { bias: false }) : null
  }

  /**
   * Keys: h̄_s (dot) or Wₐ h̄_s (general), [batch, srcLen, querySize]. Where the backend has the fused attention
   * kernel, the keys and the values side by side instead, [batch, srcLen, querySize + valueSize], as it reads them:
   * one kernel a step (or one for all steps) in place of the products, the mask and the softmax.
   */
  prepare(memory: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const keys = this.weight ? this.weight.apply(memory) : memory.clone()
      return hasFusedAttention() ? tf.concat([keys, memory], 2) : keys
    })
  }

  attend(query: tf.Tensor2D, keys: tf.Tensor3D, memory: tf.Tensor3D, mask: tf.Tensor2D | null): AttentionResult {
    return tf.tidy(() => {
      const [batch, srcLen] = keys.shape
      if (this.isPacked(keys) && hasFusedAttention()) {
        const { context, weights } = this.fused(query.expandDims(1) as tf.Tensor3D, keys, mask)
        return { context: context.reshape([batch, this.valueSize]) as tf.Tensor2D, weights: weights.reshape([batch, srcLen]) as tf.Tensor2D }
      }
      const scores = tf.matMul(this.keysOf(keys), query.expandDims(2)).squeeze([2]) // [B, S, q]·[B, q, 1] → [B, S]
      const weights = tf.softmax(maskScores(scores, mask)) as tf.Tensor2D // [B, S]
      const context = tf.matMul(weights.expandDims(1), memory).squeeze([1]) as tf.Tensor2D // [B, valueSize]
      return { context, weights }
    })
  }

  attendAll(queries: tf.Tensor3D, keys: tf.Tensor3D, memory: tf.Tensor3D, mask: tf.Tensor2D | null): { context: tf.Tensor3D; weights: tf.Tensor3D } {
    return tf.tidy(() => {
      if (this.isPacked(keys) && hasFusedAttention()) {
        const { context, weights } = this.fused(queries, keys, mask)
        return { context, weights: weights.squeeze([1]) as tf.Tensor3D } // [B, T, valueSize], [B, T, S]
      }
      const scores = tf.matMul(queries, this.keysOf(keys), false, true) // [B, T, q]·[B, S, q]ᵀ → [B, T, S]
      const weights = tf.softmax(maskScores(scores, mask)) as tf.Tensor3D // [B, T, S]
      const context = tf.matMul(weights, memory) as tf.Tensor3D // [B, T, valueSize]
      return { context, weights }
    })
  }

  /** queries [B, T, q] over packed keys as the fused kernel's one unscaled head → context [B, T, valueSize], weights [B, 1, T, S]. */
  private fused(queries: tf.Tensor3D, packed: tf.Tensor3D, mask: tf.Tensor2D | null): { context: tf.Tensor3D; weights: tf.Tensor4D } {
    return fusedAttention(queries, packed, { heads: 1, keyMask: mask, causal: false, dropout: 0, scale: 1 })
  }

  /** Keys prepared with the values beside them (the querySize + valueSize width cannot be a plain key's). */
  private isPacked(keys: tf.Tensor3D): boolean {
    return keys.shape[2] === this.querySize + this.valueSize
  }

  /** The keys alone, [batch, srcLen, querySize] (sliced out of packed keys on a backend without the kernel). */
  private keysOf(keys: tf.Tensor3D): tf.Tensor3D {
    return this.isPacked(keys) ? keys.slice([0, 0, 0], [-1, -1, this.querySize]) : keys
  }

  disposeKeys(keys: tf.Tensor3D): void {
    keys.dispose()
  }
}
