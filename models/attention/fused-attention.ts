// Scaled dot-product attention over all heads as one kernel where the backend has it (Vaswani et al. 2017, eq. 1):
// softmax(QKᵀ/√d_k + mask) V with dropout on the weights, reading the projections unsplit, [batch, len, heads·d_k],
// so no head is ever transposed out. One dispatch forward and two backward on a GPU, where the same arithmetic as
// ops is ~11 and ~14 (multi-head.ts uses the ops elsewhere; the results agree, dropout masks included).
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import { nextRandomSeed } from '../layers/dropout.ts'

/** Inputs {q, k, v, keyMask}, attrs FusedAttentionAttrs → [context [B, Tq, h·dk], weights [B, h, Tq, Tk]]. */
export const fusedAttentionKernel = 'KotobaAttention'
/** Inputs {dContext, q, k, v, weights}, the same attrs → [dq, dk, dv]. */
export const fusedAttentionGradKernel = 'KotobaAttentionGrad'

export interface FusedAttentionAttrs {
  heads: number
  /** 1/√d_k */
  scale: number
  /** keyMask is a real [B, Tk] mask (1 = attend); otherwise a placeholder the kernel does not read. */
  masked: boolean
  /** Query i may not see keys after position i + (Tk − Tq). */
  causal: boolean
  /** Dropout on the weights: the fused dropout's hash of (seed + flat index into [B, h, Tq, Tk]). */
  dropout: number
  seed: number
}

export function hasFusedAttention(): boolean {
  return backendHasKernels(fusedAttentionKernel, fusedAttentionGradKernel)
}

export interface FusedAttentionOptions {
  heads: number
  keyMask: tf.Tensor2D | null
  causal: boolean
  dropout: number
}

/**
 * q [B, Tq, h·dk], k and v [B, Tk, h·dk] (projected, heads side by side) → the heads' contexts side by side
 * [B, Tq, h·dk] and the attention weights [B, h, Tq, Tk] (before dropout; no gradient flows through them).
 */
export function fusedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, options: FusedAttentionOptions): { context: tf.Tensor3D; weights: tf.Tensor4D } {
  const [batch, queryLen, width] = q.shape
  const keyLen = k.shape[1]
  const headSize = width / options.heads
  const attrs: FusedAttentionAttrs = {
    heads: options.heads,
    scale: 1 / Math.sqrt(headSize),
    masked: options.keyMask !== null,
    causal: options.causal,
    dropout: options.dropout,
    // Drawn where the ops path draws its dropout mask, over the same [B, h, Tq, Tk] elements: the same mask.
    seed: options.dropout > 0 ? nextRandomSeed(batch * options.heads * queryLen * keyLen) : 0,
  }
  const keyMask = options.keyMask ?? q // a placeholder the kernel does not read
  let kept: tf.Tensor4D | null = null
  const attend = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qIn, kIn, vIn, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc]
    const [context, probabilities] = tf.engine().runKernel(fusedAttentionKernel, { q: qIn, k: kIn, v: vIn, keyMask }, { ...attrs }) as [tf.Tensor3D, tf.Tensor4D]
    kept = tf.keep(probabilities) // customGrad's forward runs in a tidy that keeps only `value`
    save([qIn, kIn, vIn, probabilities])
    return {
      value: context,
      gradFunc: (dContext: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [qSaved, kSaved, vSaved, weightsSaved] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor4D]
        const gradInputs = { dContext, q: qSaved, k: kSaved, v: vSaved, weights: weightsSaved }
        return tf.engine().runKernel(fusedAttentionGradKernel, gradInputs, { ...attrs }) as tf.Tensor[]
      },
    }
  })
  const context = attend(q, k, v) as tf.Tensor3D
  // Back under the caller's tidy: a clone is a reference (no copy), the kept original is released.
  const weights = tf.clone(kept!) as tf.Tensor4D
  kept!.dispose()
  return { context, weights }
}
