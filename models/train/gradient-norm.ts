// Global gradient norm and the clipping factor of Pascanu et al. 2013 (clip by global norm).
import * as tf from '@tensorflow/tfjs'

/** ‖g‖₂ over all gradients. Async read: WebGPU cannot read synchronously under Node. */
export async function globalNorm(grads: tf.Tensor[]): Promise<number> {
  // Pairwise adds, not one addN: WebGPU caps the inputs of one kernel (8 storage buffers per stage).
  const norm = tf.tidy(() => tf.sqrt(grads.map((g) => g.square().sum()).reduce((total, part) => total.add(part))))
  const value = (await norm.data())[0]!
  norm.dispose()
  return value
}

/** The factor gradients are multiplied by so their global norm is at most clipNorm. */
export function clipScale(norm: number, clipNorm: number): number {
  return Number.isFinite(clipNorm) && norm > clipNorm ? clipNorm / norm : 1
}
