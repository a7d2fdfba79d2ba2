// The fused GRU gate kernels models/rnn/gru-gates.ts runs where a backend has them: one pass over a time step's
// [B, 3H] projected input and recurrent pre-activations forward, and one backward (the SIMD kernels are in
// assembly/tensor-kernels.ts; the cpu twins below are the same formulas, so tests compare them with the plain-op
// composite).
import * as tf from '@tensorflow/tfjs'
import { gruGatesGradKernel, gruGatesKernel } from '../../../models/rnn/gru-gates.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'
import { groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

function forward(x: tf.TypedArray, a: tf.TypedArray, h: tf.TypedArray, batch: number, hidden: number) {
  const hNext = new Float32Array(batch * hidden)
  const gates = new Float32Array(batch * 4 * hidden)
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j++) {
      const in3 = b * 3 * hidden + j
      const in4 = b * 4 * hidden + j
      const at = b * hidden + j
      const an = a[in3 + 2 * hidden] as number
      const r = (gates[in4] = sigmoid((x[in3] as number) + (a[in3] as number)))
      const z = (gates[in4 + hidden] = sigmoid((x[in3 + hidden] as number) + (a[in3 + hidden] as number)))
      const n = (gates[in4 + 2 * hidden] = Math.tanh((x[in3 + 2 * hidden] as number) + r * an))
      gates[in4 + 3 * hidden] = an
      hNext[at] = (1 - z) * n + z * (h[at] as number)
    }
  }
  return { hNext, gates }
}

function backward(dh: tf.TypedArray, gates: tf.TypedArray, h: tf.TypedArray, batch: number, hidden: number) {
  const dx = new Float32Array(batch * 3 * hidden)
  const da = new Float32Array(batch * 3 * hidden)
  const dhDirect = new Float32Array(batch * hidden)
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j++) {
      const in3 = b * 3 * hidden + j
      const in4 = b * 4 * hidden + j
      const at = b * hidden + j
      const [r, z, n, an] = [gates[in4] as number, gates[in4 + hidden] as number, gates[in4 + 2 * hidden] as number, gates[in4 + 3 * hidden] as number]
      const d = dh[at] as number
      const dnPre = d * (1 - z) * (1 - n * n) // through n = tanh(·)
      const dzPre = d * ((h[at] as number) - n) * z * (1 - z)
      const drPre = dnPre * an * r * (1 - r)
      dx[in3] = da[in3] = drPre
      dx[in3 + hidden] = da[in3 + hidden] = dzPre
      dx[in3 + 2 * hidden] = dnPre
      da[in3 + 2 * hidden] = dnPre * r
      dhDirect[at] = d * z
    }
  }
  return { dx, da, dhDirect }
}

export function registerCpuGruKernels(): void {
  replaceCpuKernel(gruGatesKernel, ({ inputs }, cpu) => {
    const { x, a, h } = inputs as { x: TensorInfo; a: TensorInfo; h: TensorInfo }
    const [batch, hidden] = h.shape as [number, number]
    const { hNext, gates } = forward(cpuValues(cpu, x), cpuValues(cpu, a), cpuValues(cpu, h), batch, hidden)
    return [cpu.makeTensorInfo(h.shape, 'float32', hNext), cpu.makeTensorInfo([batch, 4 * hidden], 'float32', gates)]
  })
  replaceCpuKernel(gruGatesGradKernel, ({ inputs }, cpu) => {
    const { dh, gates, h } = inputs as { dh: TensorInfo; gates: TensorInfo; h: TensorInfo }
    const [batch, hidden] = h.shape as [number, number]
    const { dx, da, dhDirect } = backward(cpuValues(cpu, dh), cpuValues(cpu, gates), cpuValues(cpu, h), batch, hidden)
    const gateShape = [batch, 3 * hidden]
    return [cpu.makeTensorInfo(gateShape, 'float32', dx), cpu.makeTensorInfo(gateShape, 'float32', da), cpu.makeTensorInfo(h.shape, 'float32', dhDirect)]
  })
}

export function registerWasmGruKernels(): void {
  replaceWasmKernel(gruGatesKernel, ({ inputs, backend }) => {
    const { x, a, h } = inputs as { x: TensorInfo; a: TensorInfo; h: TensorInfo }
    const wasm = backend as unknown as WasmBackendLike
    const [batch, hidden] = h.shape as [number, number]
    const hNext = wasm.makeOutput(h.shape, 'float32')
    const gates = wasm.makeOutput([batch, 4 * hidden], 'float32')
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    tensorKernels(wasm).gruCell(address(x), address(a), address(h), address(hNext), address(gates), batch, hidden)
    return [hNext, gates]
  })
  replaceWasmKernel(gruGatesGradKernel, ({ inputs, backend }) => {
    const { dh, gates, h } = inputs as { dh: TensorInfo; gates: TensorInfo; h: TensorInfo }
    const wasm = backend as unknown as WasmBackendLike
    const [batch, hidden] = h.shape as [number, number]
    const dx = wasm.makeOutput([batch, 3 * hidden], 'float32')
    const da = wasm.makeOutput([batch, 3 * hidden], 'float32')
    const dhDirect = wasm.makeOutput(h.shape, 'float32')
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    tensorKernels(wasm).gruCellGrad(address(dh), address(gates), address(h), address(dx), address(da), address(dhDirect), batch, hidden)
    return [dx, da, dhDirect]
  })
}

const gruGatesShader: FusedShader = {
  key: 'kotoba_gru_gates',
  code: `
${wgslBindings(['hNext', 'gates'], ['x', 'a', 'h'], 'hidden : u32, count : u32')}
${wgslEachElement}
  let b = at / p.hidden;
  let j = at % p.hidden;
  let in3 = b * 3u * p.hidden + j;
  let in4 = b * 4u * p.hidden + j;
  let an = a[in3 + 2u * p.hidden];
  let r = sigmoid(x[in3] + a[in3]);
  let z = sigmoid(x[in3 + p.hidden] + a[in3 + p.hidden]);
  let n = safeTanh(x[in3 + 2u * p.hidden] + r * an);
  gates[in4] = r;
  gates[in4 + p.hidden] = z;
  gates[in4 + 2u * p.hidden] = n;
  gates[in4 + 3u * p.hidden] = an;
  hNext[at] = (1.0 - z) * n + z * h[at];
}`,
}

const gruGatesGradShader: FusedShader = {
  key: 'kotoba_gru_gates_grad',
  code: `
${wgslBindings(['dx', 'da', 'dhDirect'], ['dh', 'gates', 'h'], 'hidden : u32, count : u32')}
${wgslEachElement}
  let b = at / p.hidden;
  let j = at % p.hidden;
  let in3 = b * 3u * p.hidden + j;
  let in4 = b * 4u * p.hidden + j;
  let r = gates[in4];
  let z = gates[in4 + p.hidden];
  let n = gates[in4 + 2u * p.hidden];
  let an = gates[in4 + 3u * p.hidden];
  let d = dh[at];
  let dnPre = d * (1.0 - z) * (1.0 - n * n);
  let dzPre = d * (h[at] - n) * z * (1.0 - z);
  let drPre = dnPre * an * r * (1.0 - r);
  dx[in3] = drPre;
  da[in3] = drPre;
  dx[in3 + p.hidden] = dzPre;
  da[in3 + p.hidden] = dzPre;
  dx[in3 + 2u * p.hidden] = dnPre;
  da[in3 + 2u * p.hidden] = dnPre * r;
  dhDirect[at] = d * z;
}`,
}

export function registerWebGpuGruKernels(): void {
  registerWebGpuKernel(gruGatesKernel, [gruGatesShader], ({ inputs }, backend) => {
    const { x, a, h } = inputs as { x: TensorInfo; a: TensorInfo; h: TensorInfo }
    const [batch, hidden] = h.shape as [number, number]
    return runFused(backend, gruGatesShader, [x, a, h], [h.shape, [batch, 4 * hidden]], [u32(hidden), u32(batch * hidden)], groupsFor(batch * hidden))
  })
  registerWebGpuKernel(gruGatesGradKernel, [gruGatesGradShader], ({ inputs }, backend) => {
    const { dh, gates, h } = inputs as { dh: TensorInfo; gates: TensorInfo; h: TensorInfo }
    const [batch, hidden] = h.shape as [number, number]
    return runFused(backend, gruGatesGradShader, [dh, gates, h], [[batch, 3 * hidden], [batch, 3 * hidden], h.shape], [u32(hidden), u32(batch * hidden)], groupsFor(batch * hidden))
  })
}
