// The fused layer-norm kernels models/layers/layer-norm.ts runs where a backend has them: one pass per row forward
// (keeping each row's mean and 1/σ) and one backward, instead of ~9 kernels forward and ~15 backward.
import * as tf from '@tensorflow/tfjs'
import { layerNormGradKernel, layerNormKernel } from '../../../models/layers/layer-norm.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'

type TensorInfo = tf.TensorInfo

interface GradInputs {
  dy: TensorInfo
  x: TensorInfo
  gamma: TensorInfo
  mean: TensorInfo
  invStd: TensorInfo
}

export function registerCpuLayerNormKernels(): void {
  replaceCpuKernel(layerNormKernel, ({ inputs, attrs }, cpu) => {
    const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }
    const { epsilon } = attrs as unknown as { epsilon: number }
    const [rows, dim] = x.shape as [number, number]
    const [xs, g, b] = [x, gamma, beta].map((t) => cpuValues(cpu, t)) as [tf.TypedArray, tf.TypedArray, tf.TypedArray]
    const [y, means, invStds] = [new Float32Array(rows * dim), new Float32Array(rows), new Float32Array(rows)]
    for (let r = 0; r < rows; r++) {
      let sum = 0
      for (let j = 0; j < dim; j++) sum += xs[r * dim + j] as number
      const mean = sum / dim
      let squares = 0
      for (let j = 0; j < dim; j++) squares += ((xs[r * dim + j] as number) - mean) ** 2
      const invStd = 1 / Math.sqrt(squares / dim + epsilon)
      ;[means[r], invStds[r]] = [mean, invStd]
      for (let j = 0; j < dim; j++) y[r * dim + j] = ((xs[r * dim + j] as number) - mean) * invStd * (g[j] as number) + (b[j] as number)
    }
    return [cpu.makeTensorInfo(x.shape, 'float32', y), cpu.makeTensorInfo([rows], 'float32', means), cpu.makeTensorInfo([rows], 'float32', invStds)]
  })
  replaceCpuKernel(layerNormGradKernel, ({ inputs }, cpu) => {
    const { dy, x, gamma, mean, invStd } = inputs as unknown as GradInputs
    const values = (info: TensorInfo) => cpuValues(cpu, info)
    const [dys, xs, g, means, invStds] = [dy, x, gamma, mean, invStd].map(values) as tf.TypedArray[]
    const [rows, dim] = x.shape as [number, number]
    const [dx, dGamma, dBeta] = [new Float32Array(rows * dim), new Float32Array(dim), new Float32Array(dim)]
    for (let r = 0; r < rows; r++) {
      const [m, s] = [means![r] as number, invStds![r] as number]
      let [sumG, sumGX] = [0, 0]
      for (let j = 0; j < dim; j++) {
        const normalised = ((xs![r * dim + j] as number) - m) * s
        const scaled = (dys![r * dim + j] as number) * (g![j] as number)
        sumG += scaled
        sumGX += scaled * normalised
        dGamma[j]! += (dys![r * dim + j] as number) * normalised
        dBeta[j]! += dys![r * dim + j] as number
      }
      for (let j = 0; j < dim; j++) {
        const normalised = ((xs![r * dim + j] as number) - m) * s
        const scaled = (dys![r * dim + j] as number) * (g![j] as number)
        dx[r * dim + j] = s * (scaled - sumG / dim - normalised * (sumGX / dim))
      }
    }
    return [cpu.makeTensorInfo(x.shape, 'float32', dx), cpu.makeTensorInfo([dim], 'float32', dGamma), cpu.makeTensorInfo([dim], 'float32', dBeta)]
  })
}

export function registerWasmLayerNormKernels(): void {
  replaceWasmKernel(layerNormKernel, ({ inputs, backend, attrs }) => {
    const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }
    const { epsilon } = attrs as unknown as { epsilon: number }
    const wasm = backend as unknown as WasmBackendLike
    const [rows, dim] = x.shape as [number, number]
    const outputs = [wasm.makeOutput(x.shape, 'float32'), wasm.makeOutput([rows], 'float32'), wasm.makeOutput([rows], 'float32')]
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    const [y, means, invStds] = outputs.map(address) as [number, number, number]
    tensorKernels(wasm).layerNorm(address(x), address(gamma), address(beta), y, means, invStds, rows, dim, epsilon)
    return outputs
  })
  replaceWasmKernel(layerNormGradKernel, ({ inputs, backend }) => {
    const { dy, x, gamma, mean, invStd } = inputs as unknown as GradInputs
    const wasm = backend as unknown as WasmBackendLike
    const [rows, dim] = x.shape as [number, number]
    const outputs = [wasm.makeOutput(x.shape, 'float32'), wasm.makeOutput([dim], 'float32'), wasm.makeOutput([dim], 'float32')]
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    const [dx, dGamma, dBeta] = outputs.map(address) as [number, number, number]
    tensorKernels(wasm).layerNormGrad(address(dy), address(x), address(gamma), address(mean), address(invStd), dx, dGamma, dBeta, rows, dim)
    return outputs
  })
}
