// Token embedding: a lookup table of [vocab, dim] rows (its gradient is UnsortedSegmentSum, or on a GPU our
// embedding-gradient kernel: two dispatches where the stock one transposes the gradient and the table around it).
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import type { ParameterStore } from '../core/params.ts'

/** inputs {dy [N, dim], ids [N] int32}, attrs EmbeddingGradAttrs → [vocab, dim]: row v sums the dy rows whose id is
 *  v, each element times `scale` and its dropout factor. */
export const embeddingGradKernel = 'KotobaEmbeddingGrad'

export interface EmbeddingGradAttrs {
  vocab: number
  /** The factor the lookup was scaled by (1: none). */
  scale: number
  /** Dropout after the lookup (0: none), with the fused dropout's seed. */
  rate: number
  seed: number
}

export class Embedding {
  readonly table: tf.Variable // [vocab, dim]

  constructor(
    params: ParameterStore,
    name: string,
    readonly vocabSize: number,
    readonly dim: number,
  ) {
    this.table = params.create(`${name}/table`, [vocabSize, dim], { kind: 'normal', std: 1 / Math.sqrt(dim) })
  }

  /** ids [batch, len] int32 → [batch, len, dim] */
  apply(ids: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [batch, length] = ids.shape
      const flatIds = ids.reshape([-1]) // [N]
      if (!backendHasKernels(embeddingGradKernel)) return tf.gather(this.table, flatIds).reshape([batch, length, this.dim]) as tf.Tensor3D
      const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [table, save] = args as [tf.Tensor2D, tf.GradSaveFunc]
        save([flatIds])
        return {
          value: tf.gather(table, flatIds) as tf.Tensor2D, // [N, dim]
          gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => tf.engine().runKernel(embeddingGradKernel, { dy, ids: saved[0]! }, { vocab: this.vocabSize, scale: 1, rate: 0, seed: 0 }) as tf.Tensor,
        }
      })
      return lookup(this.table).reshape([batch, length, this.dim]) as tf.Tensor3D
    })
  }
}
