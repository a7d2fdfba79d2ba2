// y = xW + b over the last axis, for inputs of any rank.
import * as tf from '@tensorflow/tfjs'
import { backendReadsForFree } from '../core/kernels.ts'
import type { ParameterStore } from '../core/params.ts'
import { hasInt8Form, matMulWeights } from '../quantization/int8-matmul.ts'

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

  apply<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const shape = x.shape
      const flat = x.reshape([-1, this.inSize]) // [N, in]
      let y: tf.Tensor2D
      if (this.bias && !backendReadsForFree() && !hasInt8Form(this.kernel)) {
        // On a GPU every op is a dispatch: the product and the bias in one (tfjs's fused matMul; same gradients).
        y = tf.fused.matMul({ a: flat as tf.Tensor2D, b: this.kernel, bias: this.bias }) as tf.Tensor2D // [N, out]
      } else {
        y = matMulWeights(flat as tf.Tensor2D, this.kernel) // [N, out]; int8 in a quantised checkpoint
        if (this.bias) y = y.add(this.bias) as tf.Tensor2D
      }
      return y.reshape([...shape.slice(0, -1), this.outSize]) as T
    })
  }
}
