// Output layer tied to an embedding table (Press & Wolf 2017): logits = x·Eᵀ + b, sharing E with the inputs.
import * as tf from '@tensorflow/tfjs'
import { hasInt8Form, matMulWeights } from '../quantization/int8-matmul.ts'
import { fusedAffine, hasFusedAffine } from './affine.ts'
import type { ParameterStore } from '../core/params.ts'
import type { Embedding } from './embedding.ts'

export class TiedOutput {
  readonly bias: tf.Variable // [vocab]

  constructor(
    params: ParameterStore,
    name: string,
    private readonly embedding: Embedding,
  ) {
    this.bias = params.create(`${name}/bias`, [embedding.vocabSize], { kind: 'zeros' })
  }

  /** x [..., dim] → logits [..., vocab] */
  apply<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const shape = x.shape
      const flat = x.reshape([-1, this.embedding.dim]) // [N, dim]
      const table = this.embedding.table // [vocab, dim]
      const logits = hasFusedAffine() && !hasInt8Form(table)
        ? fusedAffine(flat as tf.Tensor2D, table, this.bias, { activation: 'linear', rate: 0, seed: 0, weightsTransposed: true }) // [N, vocab]
        : matMulWeights(flat as tf.Tensor2D, table, true).add(this.bias)
      return logits.reshape([...shape.slice(0, -1), this.embedding.vocabSize]) as T
    })
  }
}
