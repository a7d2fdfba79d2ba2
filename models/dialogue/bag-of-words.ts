// The bag-of-words loss (Zhao et al. 2017, §3.2, eq. 4): from the decoder's conditioning [context; z] alone, an MLP
// predicts every word of the response regardless of order, −Σₜ log softmax(f(c, z))[yₜ]. z must then carry the
// response's content, which keeps the latent variable in use.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import { tidyResult } from '../core/tidy.ts'
import { Linear } from '../layers/linear.ts'

export class BagOfWordsHead {
  private readonly hidden: Linear
  private readonly out: Linear

  constructor(params: ParameterStore, inSize: number, hiddenSize: number, vocab: number) {
    this.hidden = new Linear(params, 'bag_of_words/hidden', inSize, hiddenSize)
    this.out = new Linear(params, 'bag_of_words/out', hiddenSize, vocab)
  }

  /** condition [B, C + Z]; targets [B·T] int32 and mask [B·T] (the response and its EOS) → Σ −log p(yₜ) over real tokens. */
  loss(condition: tf.Tensor2D, targets: tf.Tensor1D, mask: tf.Tensor1D): tf.Scalar {
    return tidyResult(() => {
      const logProbs = tf.logSoftmax(this.out.apply(tf.tanh(this.hidden.apply(condition)))) // [B, V]
      const [rows, vocab] = logProbs.shape
      const length = targets.shape[0] / rows
      const rowOf = tf.range(0, rows * length, 1, 'int32').div(tf.scalar(length, 'int32')).cast('int32') // b for each b·T + t
      const picked = tf.gather(logProbs.reshape([-1]), rowOf.mul(tf.scalar(vocab, 'int32')).add(targets.cast('int32'))) // [B·T] log p(yₜ)
      return picked.mul(mask).sum().neg() as tf.Scalar
    })
  }
}
