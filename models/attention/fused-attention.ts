// Scaled dot-product attention over all heads as one kernel where the backend has it (Vaswani et al. 2017, eq. 1):
// softmax(QKᵀ/√d_k + mask) V with dropout on the weights, reading the projections unsplit, [batch, len, heads·d_k]
// (queries, keys and values side by side as fusedProjections writes them), so no head is ever transposed out. One
// dispatch forward and two backward on a GPU, where the same arithmetic as ops is ~11 and ~14 (multi-head.ts uses the
// ops elsewhere; the results agree, dropout masks included).
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import { nextRandomSeed } from '../layers/dropout.ts'

/** Inputs {q, kv, keyMask}, attrs FusedAttentionAttrs → [context [B, Tq, h·dk], weights [B, h, Tq, Tk]]. */
export const fusedAttentionKernel = 'KotobaAttention'
/** Inputs {dContext, q, kv, weights}, the same attrs → [dq] (self-attention: q, k and v in one tensor) or [dq, dkv]. */
export const fusedAttentionGradKernel = 'KotobaAttentionGrad'

export interface FusedAttentionAttrs {
  heads: number
  /** 1/√d_k */
  scale: number
  /** q holds the queries, keys and values side by side, [B, T, 3·h·dk] (kv is q again); otherwise q is [B, Tq, h·dk]
   *  and kv [B, Tk, h·dk + h·dv] the keys and values side by side (values may be wider). */
  selfPacked: boolean
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
  /** The scores' scale: 1/√d_k unless given (Luong's scores are not scaled). */
  scale?: number
}

/**
 * Self-attention: `queries` [B, T, 3·h·dk] holds the projected queries, keys and values side by side and `keysValues`
 * is null. Cross-attention: `queries` [B, Tq, h·dk], `keysValues` [B, Tk, h·dk + h·dv] the keys and values side by
 * side. (Heads side by side within each.) → the heads' contexts side by side [B, Tq, h·dv] and the attention weights
 * [B, h, Tq, Tk] (before dropout; no gradient flows through them).
 */
export function fusedAttention(queries: tf.Tensor3D, keysValues: tf.Tensor3D | null, options: FusedAttentionOptions): { context: tf.Tensor3D; weights: tf.Tensor4D } {
  const selfPacked = keysValues === null
  const [batch, queryLen, packedWidth] = queries.shape
  const keyLen = selfPacked ? queryLen : keysValues.shape[1]
  const headSize = (selfPacked ? packedWidth / 3 : packedWidth) / options.heads
  const attrs: FusedAttentionAttrs = {
    heads: options.heads,
    scale: options.scale ?? 1 / Math.sqrt(headSize),
    selfPacked,
    masked: options.keyMask !== null,
    causal: options.causal,
    dropout: options.dropout,
    // Drawn where the ops path draws its dropout mask, over the same [B, h, Tq, Tk] elements: the same mask.
    seed: options.dropout > 0 ? nextRandomSeed(batch * options.heads * queryLen * keyLen) : 0,
  }
  const keyMask = options.keyMask ?? queries // a placeholder the kernel does not read
  let kept: tf.Tensor4D | null = null
  const attend = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc
    const [q, kv = q] = args as tf.Tensor3D[]
    const [context, probabilities] = tf.engine().runKernel(fusedAttentionKernel, { q: q!, kv: kv!, keyMask }, { ...attrs }) as [tf.Tensor3D, tf.Tensor4D]
    kept = tf.keep(probabilities) // customGrad's forward runs in a tidy that keeps only `value`
    save([q!, kv!, probabilities])
    return {
      value: context,
      gradFunc: (dContext: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [qSaved, kvSaved, weightsSaved] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor4D]
        const gradInputs = { dContext, q: qSaved, kv: kvSaved, weights: weightsSaved }
        return tf.engine().runKernel(fusedAttentionGradKernel, gradInputs, { ...attrs }) as tf.Tensor[]
      },
    }
  })
  const context = (selfPacked ? attend(queries) : attend(queries, keysValues)) as tf.Tensor3D
  // Back under the caller's tidy: a clone is a reference (no copy), the kept original is released.
  const weights = tf.clone(kept!) as tf.Tensor4D
  kept!.dispose()
  return { context, weights }
}
