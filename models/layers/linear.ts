// y = xW + b over the last axis, for inputs of any rank.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels, backendReadsForFree } from '../core/kernels.ts'
import type { ParameterStore } from '../core/params.ts'
import { hasInt8Form, matMulWeights } from '../quantization/int8-matmul.ts'

/** inputs {x [N, D]} → [D], the sums of its columns: a bias's gradient in one dispatch, where tfjs's sum over the
 *  leading axis transposes first (two). */
export const columnSumKernel = 'KotobaColumnSum'

/** xW + b as tfjs's fused product (one dispatch), with the bias's gradient by columnSumKernel where there is one. */
function productWithBias(x: tf.Tensor2D, weights: tf.Variable, bias: tf.Variable): tf.Tensor2D {
  if (!backendHasKernels(columnSumKernel)) return tf.fused.matMul({ a: x, b: weights, bias }) as tf.Tensor2D
  const affine = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [a, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc]
    save([a, w])
    return {
      value: tf.fused.matMul({ a, b: w, bias: b }) as tf.Tensor2D, // [N, out]
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [aSaved, wSaved] = saved as [tf.Tensor2D, tf.Tensor2D]
        // dx = dy·Wᵀ [N, in], dW = xᵀ·dy [in, out], db = Σ_rows dy [out]
        return [tf.matMul(dy, wSaved, false, true), tf.matMul(aSaved, dy, true, false), tf.engine().runKernel(columnSumKernel, { x: dy }) as tf.Tensor1D]
      },
    }
  })
  return affine(x, weights, bias) as tf.Tensor2D
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

  apply<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const shape = x.shape
      const flat = x.reshape([-1, this.inSize]) // [N, in]
      let y: tf.Tensor2D
      if (this.bias && !backendReadsForFree() && !hasInt8Form(this.kernel)) {
        // On a GPU every op is a dispatch: the product and the bias in one (tfjs's fused matMul; same gradients).
        y = productWithBias(flat as tf.Tensor2D, this.kernel, this.bias) // [N, out]
      } else {
        y = matMulWeights(flat as tf.Tensor2D, this.kernel) // [N, out]; int8 in a quantised checkpoint
        if (this.bias) y = y.add(this.bias) as tf.Tensor2D
      }
      return y.reshape([...shape.slice(0, -1), this.outSize]) as T
    })
  }
}
