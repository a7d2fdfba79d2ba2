// What our kernels use of the TensorFlow.js cpu backend object, and how they replace a cpu kernel.
import * as tf from '@tensorflow/tfjs'

export interface CpuBackendLike {
  data: { get(dataId: object): { values: tf.TypedArray } }
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.TypedArray): tf.TensorInfo
}

/** Registers kernelFunc for the cpu backend, in place of any kernel registered under that name. */
export function replaceCpuKernel(kernelName: string, kernelFunc: (args: Parameters<tf.KernelFunc>[0], cpu: CpuBackendLike) => tf.TensorInfo | tf.TensorInfo[]): void {
  if (tf.getKernel(kernelName, 'cpu')) tf.unregisterKernel(kernelName, 'cpu')
  tf.registerKernel({ kernelName, backendName: 'cpu', kernelFunc: (args) => kernelFunc(args, args.backend as unknown as CpuBackendLike) })
}

/** A tensor's values on the cpu backend (no copy). */
export const cpuValues = (cpu: CpuBackendLike, info: tf.TensorInfo): tf.TypedArray => cpu.data.get(info.dataId).values
