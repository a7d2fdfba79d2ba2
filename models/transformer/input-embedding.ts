// The Transformer's input, Vaswani et al. 2017 §3.4–3.5 and §5.4: Dropout(E[ids]·√d_model + PE[positions]).
// Where the backend has the fused kernel, the lookup, scaling, positions and dropout are one dispatch forward (four
// as ops), and the backward pass is the embedding gradient with the scale and the dropout mask folded in (two, for
// four). The dropout mask is the fused dropout's (the same hash, counters and element order).
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import { dropout, nextRandomSeed } from '../layers/dropout.ts'
import { embeddingGradKernel, type Embedding, type EmbeddingGradAttrs } from '../layers/embedding.ts'

/** inputs {table [V, d], ids [B·L] int32, positions [P, d]}, attrs InputEmbeddingAttrs → [B·L, d]. */
export const inputEmbeddingKernel = 'KotobaInputEmbedding'

export interface InputEmbeddingAttrs extends EmbeddingGradAttrs {
  /** L: the position of element row n is offset + n mod L. */
  length: number
  offset: number
}

/**
 * ids [B, L] at positions offset … offset + L − 1 → [B, L, d]. `positions` [P, d] is a constant table (sinusoidal);
 * learned positions (a variable, which needs its own gradient) take the ops.
 */
export function inputEmbedding(embedding: Embedding, ids: tf.Tensor2D, positions: tf.Tensor2D | tf.Variable, offset: number, dropoutRate: number): tf.Tensor3D {
  const [batch, length] = ids.shape
  const dim = embedding.dim
  const scale = Math.sqrt(dim)
  if (!backendHasKernels(inputEmbeddingKernel, embeddingGradKernel) || positions instanceof tf.Variable) {
    return tf.tidy(() => {
      const scaled = embedding.apply(ids).mul(scale) // [B, L, d]
      const withPositions = scaled.add(positions.slice([offset, 0], [length, dim])) as tf.Tensor3D
      return dropoutRate > 0 ? dropout(withPositions, dropoutRate) : withPositions
    })
  }
  const attrs: InputEmbeddingAttrs = { vocab: embedding.vocabSize, scale, rate: dropoutRate, seed: dropoutRate > 0 ? nextRandomSeed(batch * length * dim) : 0, length, offset }
  return tf.tidy(() => {
    const flatIds = ids.reshape([-1]) // [N]
    const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [table, save] = args as [tf.Tensor2D, tf.GradSaveFunc]
      save([flatIds])
      return {
        value: tf.engine().runKernel(inputEmbeddingKernel, { table, ids: flatIds, positions }, { ...attrs }) as tf.Tensor2D, // [N, d]
        // dE[v] = Σ_{n: ids[n] = v} dy[n] · mask[n] · √d
        gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => tf.engine().runKernel(embeddingGradKernel, { dy, ids: saved[0]! }, { ...attrs }) as tf.Tensor,
      }
    })
    return lookup(embedding.table).reshape([batch, length, dim]) as tf.Tensor3D
  })
}
