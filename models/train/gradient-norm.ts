// Global gradient norm and the clipping factor of Pascanu et al. 2013 (clip by global norm).
import * as tf from '@tensorflow/tfjs'
import { backendReadsForFree } from '../core/kernels.ts'

/** All gradients end to end, [N]: on a GPU one concatenation (a few dispatches), which the flat Adam also takes. */
export function flatGradients(grads: tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => tf.concat(grads.map((g) => g.reshape([-1]))) as tf.Tensor1D)
}

/** ‖g‖₂ of flatGradients' result. */
export function flatNorm(flat: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => flat.square().sum().sqrt() as tf.Scalar)
}

/** ‖g‖₂ over all gradients, as a scalar tensor where the gradients are. */
export function globalNormTensor(grads: tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => {
    // On a GPU every op is a dispatch: one concatenation instead of three ops per gradient.
    if (!backendReadsForFree()) return flatNorm(flatGradients(grads))
    // Where ops are function calls, per gradient without a copy.
    return tf.sqrt(grads.map((g) => g.square().sum()).reduce((total, part) => total.add(part))) as tf.Scalar
  })
}

/** ‖g‖₂ over all gradients. Async read: WebGPU cannot read synchronously under Node. */
export async function globalNorm(grads: tf.Tensor[]): Promise<number> {
  const norm = globalNormTensor(grads)
  const value = (await norm.data())[0]!
  norm.dispose()
  return value
}

/** The factor gradients are multiplied by so their global norm is at most clipNorm. */
export function clipScale(norm: number, clipNorm: number): number {
  return Number.isFinite(clipNorm) && norm > clipNorm ? clipNorm / norm : 1
}

/** clipScale on the device, [1]: clipNorm / max(‖g‖, clipNorm), exactly 1 when the norm is within it. */
export function clipScaleTensor(norm: tf.Scalar, clipNorm: number): tf.Tensor1D {
  return tf.tidy(() => tf.scalar(clipNorm).div(tf.maximum(norm, clipNorm)).reshape([1]) as tf.Tensor1D)
}
