// Whether the active backend has kernels registered under these names (the engine registers our fused kernels for
// the backends it fills; elsewhere the models fall back to plain ops).
import * as tf from '@tensorflow/tfjs'

export function backendHasKernels(...kernelNames: string[]): boolean {
  const backend = tf.getBackend()
  return kernelNames.every((name) => tf.getKernel(name, backend) !== undefined)
}
