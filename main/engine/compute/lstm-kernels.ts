// The fused LSTM gate kernels models/rnn/lstm-gates.ts runs where a backend has them: one pass over a time step's
// [B, 4H] pre-activations forward and one backward (the SIMD kernels are in assembly/tensor-kernels.ts; the cpu
// twins below are the same formulas, so tests compare them with the plain-op composite).
import * as tf from '@tensorflow/tfjs'
import { lstmGatesGradKernel, lstmGatesKernel } from '../../../models/rnn/lstm-gates.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'
import { groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x))

function forward(z: tf.TypedArray, c: tf.TypedArray, batch: number, hidden: number) {
  const h = new Float32Array(batch * hidden)
  const cNext = new Float32Array(batch * hidden)
  const gates = new Float32Array(batch * 4 * hidden)
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j++) {
      const zi = b * 4 * hidden + j
      const i = (gates[zi] = sigmoid(z[zi] as number))
      const f = (gates[zi + hidden] = sigmoid(z[zi + hidden] as number))
      const g = (gates[zi + 2 * hidden] = Math.tanh(z[zi + 2 * hidden] as number))
      const o = (gates[zi + 3 * hidden] = sigmoid(z[zi + 3 * hidden] as number))
      const at = b * hidden + j
      cNext[at] = f * (c[at] as number) + i * g
      h[at] = o * Math.tanh(cNext[at]!)
    }
  }
  return { h, cNext, gates }
}

function backward(dh: tf.TypedArray, dc: tf.TypedArray, gates: tf.TypedArray, c: tf.TypedArray, cNext: tf.TypedArray, batch: number, hidden: number) {
  const dz = new Float32Array(batch * 4 * hidden)
  const dcPrev = new Float32Array(batch * hidden)
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < hidden; j++) {
      const zi = b * 4 * hidden + j
      const at = b * hidden + j
      const [i, f, g, o] = [gates[zi] as number, gates[zi + hidden] as number, gates[zi + 2 * hidden] as number, gates[zi + 3 * hidden] as number]
      const tc = Math.tanh(cNext[at] as number)
      const dcTotal = (dc[at] as number) + (dh[at] as number) * o * (1 - tc * tc)
      dz[zi] = dcTotal * g * i * (1 - i)
      dz[zi + hidden] = dcTotal * (c[at] as number) * f * (1 - f)
      dz[zi + 2 * hidden] = dcTotal * i * (1 - g * g)
      dz[zi + 3 * hidden] = (dh[at] as number) * tc * o * (1 - o)
      dcPrev[at] = dcTotal * f
    }
  }
  return { dz, dcPrev }
}

interface GradInputs {
  dh: TensorInfo
  dc: TensorInfo
  gates: TensorInfo
  c: TensorInfo
  cNext: TensorInfo
}

export function registerCpuLstmKernels(): void {
  replaceCpuKernel(lstmGatesKernel, ({ inputs }, cpu) => {
    const { z, c } = inputs as { z: TensorInfo; c: TensorInfo }
    const [batch, hidden] = c.shape as [number, number]
    const { h, cNext, gates } = forward(cpuValues(cpu, z), cpuValues(cpu, c), batch, hidden)
    return [cpu.makeTensorInfo(c.shape, 'float32', h), cpu.makeTensorInfo(c.shape, 'float32', cNext), cpu.makeTensorInfo(z.shape, 'float32', gates)]
  })
  replaceCpuKernel(lstmGatesGradKernel, ({ inputs }, cpu) => {
    const { dh, dc, gates, c, cNext } = inputs as unknown as GradInputs
    const values = (info: TensorInfo) => cpuValues(cpu, info)
    const [batch, hidden] = c.shape as [number, number]
    const { dz, dcPrev } = backward(values(dh), values(dc), values(gates), values(c), values(cNext), batch, hidden)
    return [cpu.makeTensorInfo(gates.shape, 'float32', dz), cpu.makeTensorInfo(c.shape, 'float32', dcPrev)]
  })
}

export function registerWasmLstmKernels(): void {
  replaceWasmKernel(lstmGatesKernel, ({ inputs, backend }) => {
    const { z, c } = inputs as { z: TensorInfo; c: TensorInfo }
    const wasm = backend as unknown as WasmBackendLike
    const [batch, hidden] = c.shape as [number, number]
    const h = wasm.makeOutput(c.shape, 'float32')
    const cNext = wasm.makeOutput(c.shape, 'float32')
    const gates = wasm.makeOutput(z.shape, 'float32')
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    tensorKernels(wasm).lstmCell(address(z), address(c), address(h), address(cNext), address(gates), batch, hidden)
    return [h, cNext, gates]
  })
  replaceWasmKernel(lstmGatesGradKernel, ({ inputs, backend }) => {
    const { dh, dc, gates, c, cNext } = inputs as unknown as GradInputs
    const wasm = backend as unknown as WasmBackendLike
    const [batch, hidden] = c.shape as [number, number]
    const dz = wasm.makeOutput(gates.shape, 'float32')
    const dcPrev = wasm.makeOutput(c.shape, 'float32')
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    tensorKernels(wasm).lstmCellGrad(address(dh), address(dc), address(gates), address(c), address(cNext), address(dz), address(dcPrev), batch, hidden)
    return [dz, dcPrev]
  })
}

const lstmGatesShader: FusedShader = {
  key: 'kotoba_lstm_gates',
  code: `
${wgslBindings(['h', 'cNext', 'gates'], ['z', 'c'], 'hidden : u32, count : u32')}
${wgslEachElement}
  let b = at / p.hidden;
  let zi = b * 4u * p.hidden + at % p.hidden;
  let i = sigmoid(z[zi]);
  let f = sigmoid(z[zi + p.hidden]);
  let g = safeTanh(z[zi + 2u * p.hidden]);
  let o = sigmoid(z[zi + 3u * p.hidden]);
  gates[zi] = i;
  gates[zi + p.hidden] = f;
  gates[zi + 2u * p.hidden] = g;
  gates[zi + 3u * p.hidden] = o;
  let cn = f * c[at] + i * g;
  cNext[at] = cn;
  h[at] = o * safeTanh(cn);
}`,
}

const lstmGatesGradShader: FusedShader = {
  key: 'kotoba_lstm_gates_grad',
  code: `
${wgslBindings(['dz', 'dcPrev'], ['dh', 'dc', 'gates', 'c', 'cNext'], 'hidden : u32, count : u32')}
${wgslEachElement}
  let b = at / p.hidden;
  let zi = b * 4u * p.hidden + at % p.hidden;
  let i = gates[zi];
  let f = gates[zi + p.hidden];
  let g = gates[zi + 2u * p.hidden];
  let o = gates[zi + 3u * p.hidden];
  let tc = safeTanh(cNext[at]);
  let dcTotal = dc[at] + dh[at] * o * (1.0 - tc * tc);
  dz[zi] = dcTotal * g * i * (1.0 - i);
  dz[zi + p.hidden] = dcTotal * c[at] * f * (1.0 - f);
  dz[zi + 2u * p.hidden] = dcTotal * i * (1.0 - g * g);
  dz[zi + 3u * p.hidden] = dh[at] * tc * o * (1.0 - o);
  dcPrev[at] = dcTotal * f;
}`,
}

export function registerWebGpuLstmKernels(): void {
  registerWebGpuKernel(lstmGatesKernel, [lstmGatesShader], ({ inputs }, backend) => {
    const { z, c } = inputs as { z: TensorInfo; c: TensorInfo }
    const [batch, hidden] = c.shape as [number, number]
    return runFused(backend, lstmGatesShader, [z, c], [c.shape, c.shape, z.shape], [u32(hidden), u32(batch * hidden)], groupsFor(batch * hidden))
  })
  registerWebGpuKernel(lstmGatesGradKernel, [lstmGatesGradShader], ({ inputs }, backend) => {
    const { dh, dc, gates, c, cNext } = inputs as unknown as GradInputs
    const [batch, hidden] = c.shape as [number, number]
    return runFused(backend, lstmGatesGradShader, [dh, dc, gates, c, cNext], [gates.shape, c.shape], [u32(hidden), u32(batch * hidden)], groupsFor(batch * hidden))
  })
}
