// The fused Adam update models/train/adam.ts runs where a backend has it: one pass over a parameter and its moments
// instead of ~12 element-wise kernels (each a full pass over up to 2 M floats for an 8000 × 256 embedding).
import * as tf from '@tensorflow/tfjs'
import { adamUpdateKernel } from '../../../models/train/adam.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'

type TensorInfo = tf.TensorInfo
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
  replaceCpuKernel(adamUpdateKernel, ({ inputs, attrs }, cpu) => {
    const { param, m, v, grad } = inputs as unknown as AdamInputs
    const { lr, beta1, beta2, epsilon, correction1, correction2, weightDecay } = attrs as unknown as AdamAttrs
    const [theta, mIn, vIn, g] = [param, m, v, grad].map((info) => cpuValues(cpu, info)) as [tf.TypedArray, tf.TypedArray, tf.TypedArray, tf.TypedArray]
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
