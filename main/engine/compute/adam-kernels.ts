// The fused Adam update models/train/adam.ts runs where a backend has it: one pass over a parameter and its moments
// instead of ~12 element-wise kernels (each a full pass over up to 2 M floats for an 8000 × 256 embedding).
import * as tf from '@tensorflow/tfjs'
import { adamUpdateKernel } from '../../../models/train/adam.ts'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'

type TensorInfo = tf.TensorInfo

interface CpuBackendLike {
  data: { get(dataId: object): { values: tf.TypedArray } }
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo
}
interface AdamInputs {
  param: TensorInfo
  m: TensorInfo
  v: TensorInfo
  grad: TensorInfo
}
interface AdamAttrs {
  lr: number
  beta1: number
  beta2: number
  epsilon: number
  correction1: number
  correction2: number
  weightDecay: number
}

export function registerCpuAdamKernel(): void {
  if (tf.getKernel(adamUpdateKernel, 'cpu')) tf.unregisterKernel(adamUpdateKernel, 'cpu')
  tf.registerKernel({
    kernelName: adamUpdateKernel,
    backendName: 'cpu',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { param, m, v, grad } = inputs as unknown as AdamInputs
      const { lr, beta1, beta2, epsilon, correction1, correction2, weightDecay } = attrs as unknown as AdamAttrs
      const cpu = backend as unknown as CpuBackendLike
      const values = (info: TensorInfo) => cpu.data.get(info.dataId).values
      const [theta, mIn, vIn, g] = [values(param), values(m), values(v), values(grad)]
      const count = theta.length
      const [next, mOut, vOut] = [new Float32Array(count), new Float32Array(count), new Float32Array(count)]
      for (let i = 0; i < count; i++) {
        const gi = g[i] as number
        mOut[i] = beta1 * (mIn[i] as number) + (1 - beta1) * gi
        vOut[i] = beta2 * (vIn[i] as number) + (1 - beta2) * gi * gi
        const update = mOut[i]! / correction1 / (Math.sqrt(vOut[i]! / correction2) + epsilon)
        next[i] = (theta[i] as number) - lr * update - lr * weightDecay * (theta[i] as number)
      }
      return [next, mOut, vOut].map((array) => cpu.makeTensorInfo(param.shape, 'float32', array))
    },
  })
}

export function registerWasmAdamKernel(): void {
  replaceWasmKernel(adamUpdateKernel, ({ inputs, backend, attrs }) => {
    const { param, m, v, grad } = inputs as unknown as AdamInputs
    const { lr, beta1, beta2, epsilon, correction1, correction2, weightDecay } = attrs as unknown as AdamAttrs
    const wasm = backend as unknown as WasmBackendLike
    const outputs = [wasm.makeOutput(param.shape, 'float32'), wasm.makeOutput(param.shape, 'float32'), wasm.makeOutput(param.shape, 'float32')]
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    const [next, mOut, vOut] = outputs.map(address) as [number, number, number]
    tensorKernels(wasm).adamUpdate(
      address(param), address(m), address(v), address(grad), next, mOut, vOut, tf.util.sizeFromShape(param.shape),
      lr, beta1, beta2, epsilon, correction1, correction2, weightDecay,
    )
    return outputs
  })
}
