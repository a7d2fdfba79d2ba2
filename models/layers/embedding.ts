// Token embedding: a lookup table of [vocab, dim] rows (its gradient is UnsortedSegmentSum).
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'

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
      return tf.gather(this.table, ids.reshape([-1])).reshape([batch, length, this.dim]) as tf.Tensor3D
    })
  }
}
