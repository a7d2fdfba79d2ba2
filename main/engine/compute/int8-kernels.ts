// The int8 matrix product models/quantization/int8-matmul.ts runs for quantised checkpoints: activations quantised per
// row, int8 products accumulated in int32, scaled back to float. The wasm kernel (assembly/gemm.ts: quantizeRows,
// gemmInt8) runs on the pool's threads over column blocks; the cpu kernel is its plain-JavaScript twin.
import * as tf from '@tensorflow/tfjs'
import { int8MatMulKernel } from '../../../models/quantization/int8-matmul.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { backendPool, heapAddress, replaceWasmKernel, type WasmBackendLike } from './wasm-backend.ts'
import { JOBS_PER_THREAD, splitRange } from './wasm-pool.ts'

type TensorInfo = tf.TensorInfo

interface Int8Inputs {
  x: TensorInfo
  weights: TensorInfo
  scales: TensorInfo
}

/** Below this many multiply-adds one thread is faster than waking the others. */
const THREADED_MIN_WORK = 1 << 18

function shapesOf(inputs: Int8Inputs, attrs: unknown): { m: number; k: number; n: number; stride: number } {
  const { x, weights, scales } = inputs
  const k = (attrs as { inner: number }).inner
  const [m, columns] = x.shape as [number, number]
  const [n, words] = weights.shape as [number, number]
  if (x.dtype !== 'float32' || weights.dtype !== 'int32' || scales.dtype !== 'float32') throw new Error('int8 product: expects float32 x, int32-packed weights and float32 scales')
  if (columns !== k || words * 4 < k || scales.shape[0] !== n) throw new Error(`int8 product: x [${x.shape}], weights [${weights.shape}] (×4 bytes), scales [${scales.shape}] do not fit inner size ${k}`)
  return { m, k, n, stride: words * 4 }
}

/** Round half to even, as wasm's f32.nearest, so both kernels quantise alike. */
function nearest(value: number): number {
  const rounded = Math.round(value)
  return rounded - value === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded
}

/** Plain-JavaScript twin of quantizeRows + gemmInt8: C [m, n] from x [m, k] and int8 rows qb [n, stride]. */
export function int8Product(x: tf.TypedArray, qb: Int8Array, bScales: tf.TypedArray, m: number, k: number, n: number, stride: number, out: Float32Array): void {
  const qa = new Int8Array(k)
  for (let i = 0; i < m; i++) {
    let largest = 0
    for (let p = 0; p < k; p++) largest = Math.max(largest, Math.abs(x[i * k + p]!))
    const scale = Math.fround(largest > 0 ? Math.fround(largest / 127) : 1)
    const inverse = Math.fround(1 / scale)
    for (let p = 0; p < k; p++) qa[p] = Math.max(-127, Math.min(127, nearest(Math.fround(x[i * k + p]! * inverse))))
    for (let j = 0; j < n; j++) {
      let sum = 0
      for (let p = 0; p < k; p++) sum += qa[p]! * qb[j * stride + p]!
      out[i * n + j] = Math.fround(Math.fround(Math.fround(sum) * scale) * bScales[j]!)
    }
  }
}

export function registerCpuInt8Kernel(): void {
  replaceCpuKernel(int8MatMulKernel, ({ inputs, attrs }, cpu) => {
    const typed = inputs as unknown as Int8Inputs
    const { m, k, n, stride } = shapesOf(typed, attrs)
    const words = cpuValues(cpu, typed.weights) as Int32Array
    const out = new Float32Array(m * n)
    int8Product(cpuValues(cpu, typed.x), new Int8Array(words.buffer, words.byteOffset, n * stride), cpuValues(cpu, typed.scales), m, k, n, stride, out)
    return cpu.makeTensorInfo([m, n], 'float32', out)
  })
}

export function registerWasmInt8Kernel(): void {
  replaceWasmKernel(int8MatMulKernel, ({ inputs, backend, attrs }) => {
    const typed = inputs as unknown as Int8Inputs
    const wasm = backend as unknown as WasmBackendLike
    const { m, k, n, stride } = shapesOf(typed, attrs)
    // Allocate before taking addresses: growing the heap may move nothing, but it detaches views.
    const out = wasm.makeOutput([m, n], 'float32')
    const quantized = wasm.makeOutput([m, stride / 4], 'int32') // [m, stride] int8: scratch
    const rowScales = wasm.makeOutput([m], 'float32') // scratch
    try {
      const address = (info: TensorInfo) => heapAddress(wasm, info)
      const [qa, sa] = [address(quantized), address(rowScales)]
      const pool = backendPool(wasm)
      ;(pool.exports('gemm').quantizeRows as (...args: number[]) => void)(address(typed.x), m, k, stride, qa, sa)
      const parts = m * n * k < THREADED_MIN_WORK ? 1 : pool.threads * JOBS_PER_THREAD
      const [qb, sb, c] = [address(typed.weights), address(typed.scales), address(out)]
      pool.run('gemm.gemmInt8', splitRange(n, parts, 4).map(([j0, j1]) => [qa, sa, qb, sb, c, m, stride, n, j0, j1]))
    } finally {
      wasm.disposeData(quantized.dataId, true)
      wasm.disposeData(rowScales.dataId, true)
    }
    return out
  })
}
