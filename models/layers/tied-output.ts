// Output layer tied to an embedding table (Press & Wolf 2017): logits = x·Eᵀ + b, sharing E with the inputs.
import * as tf from '@tensorflow/tfjs'
import { matMulWeights } from '../quantization/int8-matmul.ts'
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
      const logits = matMulWeights(flat as tf.Tensor2D, this.embedding.table, true).add(this.bias) // [N, vocab]
      return logits.reshape([...shape.slice(0, -1), this.embedding.vocabSize]) as T
    })
  }
}
