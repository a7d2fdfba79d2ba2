// y = xW + b over the last axis, for inputs of any rank; optionally ReLU or tanh after it, and dropout after ReLU
// (the feed-forward's inner layer), fused into the product where the backend has our affine kernels (affine.ts).
import * as tf from '@tensorflow/tfjs'
import { backendReadsForFree } from '../core/kernels.ts'
import type { ParameterStore } from '../core/params.ts'
import { hasInt8Form, matMulWeights } from '../quantization/int8-matmul.ts'
import { fusedAffine, hasFusedAffine } from './affine.ts'
import { dropout, nextRandomSeed } from './dropout.ts'

export interface LinearOptions {
  /** After the product (default: none). */
  activation?: 'relu' | 'tanh'
  /** Dropout after the activation (training). */
  dropout?: number
}

export class Linear {
  readonly kernel: tf.Variable // [in, out]
  readonly bias: tf.Variable | null // [out]

  constructor(
    params: ParameterStore,
    name: string,
    readonly inSize: number,
    readonly outSize: number,
    options: { bias?: boolean } = {},
  ) {
    this.kernel = params.create(`${name}/kernel`, [inSize, outSize], { kind: 'glorot' })
    this.bias = options.bias === false ? null : params.create(`${name}/bias`, [outSize], { kind: 'zeros' })
  }

  apply<T extends tf.Tensor>(x: T, options: LinearOptions = {}): T {
    return tf.tidy(() => {
      const shape = x.shape
      const flat = x.reshape([-1, this.inSize]) as tf.Tensor2D // [N, in]
      const activation = options.activation ?? 'linear'
      const rate = options.dropout ?? 0
      let y: tf.Tensor2D
      if (!hasInt8Form(this.kernel) && hasFusedAffine() && (activation === 'relu' || rate === 0)) {
        const seed = rate > 0 ? nextRandomSeed(flat.shape[0] * this.outSize) : 0 // the counters dropout() would take
        y = fusedAffine(flat, this.kernel, this.bias, { activation, rate, seed, weightsTransposed: false }) // [N, out]
      } else {
        if (this.bias && !backendReadsForFree() && !hasInt8Form(this.kernel)) {
          // On a GPU every op is a dispatch: the product and the bias in one (tfjs's fused matMul; same gradients).
          y = tf.fused.matMul({ a: flat, b: this.kernel, bias: this.bias }) as tf.Tensor2D // [N, out]
        } else {
          y = matMulWeights(flat, this.kernel) // [N, out]; int8 in a quantised checkpoint
          if (this.bias) y = y.add(this.bias) as tf.Tensor2D
        }
        if (activation === 'relu') y = tf.relu(y)
        if (activation === 'tanh') y = tf.tanh(y)
        if (rate > 0) y = dropout(y, rate)
      }
      return y.reshape([...shape.slice(0, -1), this.outSize]) as T
    })
  }
}
