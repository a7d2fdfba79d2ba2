// x·W with W's int8 form where a checkpoint carries one (post-training quantisation, ./int8.ts): activations are
// quantised per row on the fly and the product accumulates in int32 (Jacob et al. 2018 §2.2), on the fused kernel the
// engine registers; elsewhere the float weights (the dequantised values) are used. Inference only: no gradient.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import type { Int8Channels } from './int8.ts'

/**
 * Fused kernel: inputs {x [m, k] f32, weights [n, stride/4] int32 (the int8 rows, four to an int32), scales [n] f32},
 * attrs {inner: k} → x·Wᵀ [m, n] f32, W being the dequantised [n, k] channels.
 */
export const int8MatMulKernel = 'KotobaInt8MatMul'

/** A weight's int8 form on the backend: the channel rows packed into an int32 tensor, with their scales. */
export class Int8Matrix {
  readonly weights: tf.Tensor2D // [channels, stride/4] int32
  readonly scales: tf.Tensor1D // [channels]
  readonly channels: number
  readonly inner: number

  constructor(q: Int8Channels) {
    const packed = new Int32Array(q.values.length / 4) // rows are a multiple of 8 bytes
    new Int8Array(packed.buffer).set(q.values)
    this.weights = tf.tensor2d(packed, [q.channels, q.stride / 4], 'int32')
    this.scales = tf.tensor1d(q.scales, 'float32')
    this.channels = q.channels
    this.inner = q.inner
  }

  /** x [m, inner] → [m, channels] */
  multiply(x: tf.Tensor2D): tf.Tensor2D {
    if (x.shape[1] !== this.inner) throw new Error(`int8 product: x has ${x.shape[1]} columns, the weights ${this.inner}`)
    return tf.engine().runKernel(int8MatMulKernel, { x, weights: this.weights, scales: this.scales }, { inner: this.inner }) as tf.Tensor2D
  }

  dispose(): void {
    tf.dispose([this.weights, this.scales])
  }
}

const int8Forms = new WeakMap<tf.Variable, Int8Matrix>()

/** Makes products with `weight` run on its int8 form (the model's loader does this for quantised checkpoints). */
export function attachInt8(weight: tf.Variable, matrix: Int8Matrix): void {
  int8Forms.get(weight)?.dispose()
  int8Forms.set(weight, matrix)
}

export function detachInt8(weight: tf.Variable): void {
  int8Forms.get(weight)?.dispose()
  int8Forms.delete(weight)
}

export const hasInt8Form = (weight: tf.Variable) => int8Forms.has(weight)

/**
 * x [m, k] · W, W a parameter [k, n] (or, with `transposed`, x · Wᵀ for W [n, k], e.g. a tied output layer): on W's
 * int8 form when it has one and the backend runs the int8 kernel, else in float.
 */
export function matMulWeights(x: tf.Tensor2D, weight: tf.Variable, transposed = false): tf.Tensor2D {
  const matrix = int8Forms.get(weight)
  if (matrix && backendHasKernels(int8MatMulKernel)) return matrix.multiply(x)
  return tf.matMul(x, weight, false, transposed)
}
