// The fused layer-norm kernels models/layers/layer-norm.ts runs where a backend has them: one pass per row forward
// (keeping each row's mean and 1/σ) and one backward, instead of ~9 kernels forward and ~15 backward.
import * as tf from '@tensorflow/tfjs'
import { layerNormGradKernel, layerNormKernel } from '../../../models/layers/layer-norm.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'
import { f32, groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, wgslEachRow, wgslWorkgroupReductions, workgroupSize, type FusedShader } from './webgpu-backend.ts'

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

/**
 * The body of a one-workgroup-per-row shader that normalises row `row` of the values `valueAt(at)` reads (x, or
 * add & norm's residual): y = (h − mean) / σ · γ + β, keeping the row's mean and 1/σ.
 */
export const wgslNormalizeRow = (valueAt: (at: string) => string) => `  let start = row * p.dim;
  var acc = 0.0;
  for (var j = lane; j < p.dim; j = j + ${workgroupSize}u) { acc = acc + ${valueAt('start + j')}; }
  let mean = workgroupSum(lane, acc) / f32(p.dim);
  var squares = 0.0;
  for (var j = lane; j < p.dim; j = j + ${workgroupSize}u) { let d = ${valueAt('start + j')} - mean; squares = squares + d * d; }
  let invStd = 1.0 / sqrt(workgroupSum(lane, squares) / f32(p.dim) + p.epsilon);
  for (var j = lane; j < p.dim; j = j + ${workgroupSize}u) { y[start + j] = (${valueAt('start + j')} - mean) * invStd * gamma[j] + beta[j]; }
  if (lane == 0u) {
    means[row] = mean;
    invStds[row] = invStd;
  }`

/**
 * The same row's gradient: dh = 1/σ (dy·γ − mean(dy·γ) − ĥ · mean(dy·γ·ĥ)), handed to the statements `store` (which
 * see `dh`, `start` and `j`) per element.
 */
export const wgslNormGradRow = (valueAt: (at: string) => string, store: string) => `  let start = row * p.dim;
  let m = means[row];
  let inv = invStds[row];
  var localG = 0.0;
  var localGX = 0.0;
  for (var j = lane; j < p.dim; j = j + ${workgroupSize}u) {
    let scaled = dy[start + j] * gamma[j];
    localG = localG + scaled;
    localGX = localGX + scaled * (${valueAt('start + j')} - m) * inv;
  }
  let sumG = workgroupSum(lane, localG) / f32(p.dim);
  let sumGX = workgroupSum(lane, localGX) / f32(p.dim);
  for (var j = lane; j < p.dim; j = j + ${workgroupSize}u) {
    let normalised = (${valueAt('start + j')} - m) * inv;
    let dh = inv * (dy[start + j] * gamma[j] - sumG - normalised * sumGX);
    ${store}
  }`

// Forward and dx: one workgroup per row. dγ and dβ sum over rows: one thread per column, a second dispatch.
const layerNormShader: FusedShader = {
  key: 'kotoba_layer_norm',
  code: `${wgslWorkgroupReductions}
${wgslBindings(['y', 'means', 'invStds'], ['x', 'gamma', 'beta'], 'rows : u32, dim : u32, epsilon : f32')}
${wgslEachRow}
${wgslNormalizeRow((at) => `x[${at}]`)}
}`,
}

const layerNormGradShader: FusedShader = {
  key: 'kotoba_layer_norm_grad',
  code: `${wgslWorkgroupReductions}
${wgslBindings(['dx'], ['dy', 'x', 'gamma', 'means', 'invStds'], 'rows : u32, dim : u32')}
${wgslEachRow}
${wgslNormGradRow((at) => `x[${at}]`, 'dx[start + j] = dh;')}
}`,
}

const layerNormParamGradShader: FusedShader = {
  key: 'kotoba_layer_norm_param_grad',
  code: `
${wgslBindings(['dGamma', 'dBeta'], ['dy', 'x', 'means', 'invStds'], 'rows : u32, count : u32')}
${wgslEachElement}
  var g = 0.0;
  var b = 0.0;
  for (var row = 0u; row < p.rows; row = row + 1u) {
    let d = dy[row * p.count + at];
    g = g + d * (x[row * p.count + at] - means[row]) * invStds[row];
    b = b + d;
  }
  dGamma[at] = g;
  dBeta[at] = b;
}`,
}

export function registerWebGpuLayerNormKernels(): void {
  registerWebGpuKernel(layerNormKernel, [layerNormShader], ({ inputs, attrs }, backend) => {
    const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }
    const { epsilon } = attrs as unknown as { epsilon: number }
    const [rows, dim] = x.shape as [number, number]
    return runFused(backend, layerNormShader, [x, gamma, beta], [x.shape, [rows], [rows]], [u32(rows), u32(dim), f32(epsilon)], rows)
  })
  registerWebGpuKernel(layerNormGradKernel, [layerNormGradShader, layerNormParamGradShader], ({ inputs }, backend) => {
    const { dy, x, gamma, mean, invStd } = inputs as unknown as GradInputs
    const [rows, dim] = x.shape as [number, number]
    const sizes = [u32(rows), u32(dim)]
    const [dx] = runFused(backend, layerNormGradShader, [dy, x, gamma, mean, invStd], [x.shape], sizes, rows)
    const [dGamma, dBeta] = runFused(backend, layerNormParamGradShader, [dy, x, mean, invStd], [[dim], [dim]], sizes, groupsFor(dim))
    return [dx!, dGamma!, dBeta!]
  })
}
