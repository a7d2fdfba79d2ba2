// Whether the active backend has kernels registered under these names (the engine registers our fused kernels for
// the backends it fills; elsewhere the models fall back to plain ops).
import * as tf from '@tensorflow/tfjs'

export function backendHasKernels(...kernelNames: string[]): boolean {
  const backend = tf.getBackend()
  return kernelNames.every((name) => tf.getKernel(name, backend) !== undefined)
}

/** Whether tensors on the active backend can be read synchronously at no cost (their data lives in CPU memory).
 *  On a GPU backend a synchronous read is a host sync — under Node with webgpu, not possible at all. */
export function backendReadsForFree(): boolean {
  return ['cpu', 'wasm', 'tensorflow'].includes(tf.getBackend())
}
