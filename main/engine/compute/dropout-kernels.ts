// The fused dropout kernel models/layers/dropout.ts runs where a backend has it: the mask comes from a counter-based
// hash of (seed + element index), so drawing it costs a few integer operations per element instead of a call into
// a JavaScript random generator (tf.dropout spent ~20 ms per 2 M elements on that alone).
import * as tf from '@tensorflow/tfjs'
import { dropoutKernel } from '../../../models/layers/dropout.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'
import { f32, groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, type FusedShader, type UniformValue } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo
interface DropoutAttrs {
  rate: number
  seed: number
}

/** Draws below this (unsigned 32-bit) drop their element. */
export const dropoutThreshold = (rate: number) => Math.min(Math.round(rate * 2 ** 32), 2 ** 32 - 1) >>> 0

/** lowbias32 (Wellons 2018): the same hash as assembly/tensor-kernels.ts. */
export function dropoutHash(counter: number): number {
  let x = counter >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d)
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b | 0)
  x ^= x >>> 16
  return x >>> 0
}

export function registerCpuDropoutKernel(): void {
  replaceCpuKernel(dropoutKernel, ({ inputs, attrs }, cpu) => {
    const { x } = inputs as { x: TensorInfo }
    const { rate, seed } = attrs as unknown as DropoutAttrs
    const values = cpuValues(cpu, x)
    const threshold = dropoutThreshold(rate)
    const scale = Math.fround(1 / (1 - rate))
    const mask = new Float32Array(values.length)
    const out = new Float32Array(values.length)
    for (let i = 0; i < values.length; i++) {
      mask[i] = dropoutHash(seed + i) >= threshold ? scale : 0
      out[i] = (values[i] as number) * mask[i]!
    }
    return [cpu.makeTensorInfo(x.shape, 'float32', out), cpu.makeTensorInfo(x.shape, 'float32', mask)]
  })
}

export function registerWasmDropoutKernel(): void {
  replaceWasmKernel(dropoutKernel, ({ inputs, backend, attrs }) => {
    const { x } = inputs as { x: TensorInfo }
    const { rate, seed } = attrs as unknown as DropoutAttrs
    if (x.dtype !== 'float32') throw new Error(`dropout: expects float32, got ${x.dtype}`)
    const wasm = backend as unknown as WasmBackendLike
    const out = wasm.makeOutput(x.shape, 'float32')
    const mask = wasm.makeOutput(x.shape, 'float32')
    const count = tf.util.sizeFromShape(x.shape)
    tensorKernels(wasm).dropout(heapAddress(wasm, x), heapAddress(wasm, out), heapAddress(wasm, mask), count, seed | 0, dropoutThreshold(rate) | 0, 1 / (1 - rate))
    return [out, mask]
  })
}

/** dropoutHash in WGSL, for the shaders that drop as they go (fused dropout, attention, add & norm). */
export const wgslLowbias32 = `
fn lowbias32(counter : u32) -> u32 {
  var v = counter;
  v = v ^ (v >> 16u);
  v = v * 0x7feb352du;
  v = v ^ (v >> 15u);
  v = v * 0x846ca68bu;
  v = v ^ (v >> 16u);
  return v;
}`

/** The uniform fields of a shader that drops as it goes (fused dropout's mask for the same seed), in this order. */
export const dropoutParams = 'dropping : u32, seed : u32, threshold : u32, keepScale : f32'

/** The values of dropoutParams for `rate` (0: no dropout) and `seed`. */
export function dropoutUniforms(rate: number, seed: number): UniformValue[] {
  const dropping = rate > 0
  return [u32(dropping ? 1 : 0), u32(seed), u32(dropping ? dropoutThreshold(rate) : 0), f32(dropping ? Math.fround(1 / (1 - rate)) : 1)]
}

/** keepFactor(at): element `at`'s dropout factor, 1 without dropout, else 1/(1 − rate) or 0 (reads dropoutParams). */
export const wgslKeepFactor = `${wgslLowbias32}
fn keepFactor(at : u32) -> f32 {
  if (p.dropping == 0u) { return 1.0; }
  if (lowbias32(p.seed + at) >= p.threshold) { return p.keepScale; }
  return 0.0;
}`

const dropoutShader: FusedShader = {
  key: 'kotoba_dropout',
  code: `
${wgslBindings(['out', 'mask'], ['x'], 'count : u32, seed : u32, threshold : u32, scale : f32')}
${wgslLowbias32}
${wgslEachElement}
  var keep = 0.0;
  if (lowbias32(p.seed + at) >= p.threshold) { keep = p.scale; }
  mask[at] = keep;
  out[at] = x[at] * keep;
}`,
}

export function registerWebGpuDropoutKernel(): void {
  registerWebGpuKernel(dropoutKernel, [dropoutShader], ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: TensorInfo }
    const { rate, seed } = attrs as unknown as DropoutAttrs
    if (x.dtype !== 'float32') throw new Error(`dropout: expects float32, got ${x.dtype}`)
    const count = tf.util.sizeFromShape(x.shape)
    const uniforms = [u32(count), u32(seed), u32(dropoutThreshold(rate)), f32(Math.fround(1 / (1 - rate)))]
    return runFused(backend, dropoutShader, [x], [x.shape, x.shape], uniforms, groupsFor(count))
  })
}
