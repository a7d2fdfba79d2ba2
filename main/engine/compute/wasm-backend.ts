// What our kernels use of @tensorflow/tfjs-backend-wasm 4.22's backend object, and our wasm modules — the SIMD
// tensor kernels (assembly/tensor-kernels.ts) and the matrix product (assembly/gemm.ts) — instantiated over the
// backend's own memory, so they work on tensors in place, on a pool of threads when that memory is shared.
import * as tf from '@tensorflow/tfjs'
import { tensorKernelsBase64, tensorKernelsSharedBase64 } from './tensor-kernels-wasm.ts'
import { gemmModule, WasmGemm } from './wasm-gemm.ts'
import { guardWasmHeap } from './wasm-memory.ts'
import { WasmThreadPool } from './wasm-pool.ts'
import { wasmThreadCount } from './wasm-threads.ts'

type TensorInfo = tf.TensorInfo

export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array
  disposeData(dataId: object, force?: boolean): boolean
  incRef(dataId: object): void
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined }
  wasm: { wasmMemory?: WebAssembly.Memory; asm?: { memory?: WebAssembly.Memory }; _malloc(bytes: number): number; _free(address: number): void }
}

/** A kernel that may hand an input it does not cover to the kernel it replaced. */
export type WasmKernel = (args: Parameters<tf.KernelFunc>[0], stock: tf.KernelFunc) => TensorInfo | TensorInfo[]

/** Registers kernelFunc for the wasm backend in place of the stock kernel (once: a second call keeps the first). */
export function replaceWasmKernel(kernelName: string, kernelFunc: WasmKernel): void {
  const stock = tf.getKernel(kernelName, 'wasm')
  if ((stock as { ours?: boolean } | undefined)?.ours) return
  if (stock) tf.unregisterKernel(kernelName, 'wasm')
  const fallback: tf.KernelFunc = stock
    ? stock.kernelFunc
    : () => {
        throw new Error(`${kernelName}: no stock wasm kernel for this input`)
      }
  tf.registerKernel({ ...stock, kernelName, backendName: 'wasm', ours: true, kernelFunc: (args) => kernelFunc(args, fallback) } as tf.KernelConfig)
}

/** The byte address of a tensor's data in the wasm heap. */
export function heapAddress(backend: WasmBackendLike, info: TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId)
  if (!data) throw new Error('wasm kernels: tensor data not found on the wasm backend')
  return data.memoryOffset
}

export interface TensorKernels {
  softmaxCrossEntropy(logits: number, targets: number, rows: number, vocab: number, smoothing: number, probs: number, losses: number): void
  softmaxCrossEntropyGrad(probs: number, targets: number, weights: number, dy: number, rows: number, vocab: number, smoothing: number, out: number): void
  batchMatMul(a: number, b: number, c: number, batch: number, m: number, k: number, n: number, aStride: number, bStride: number): void
  swapAxes(x: number, out: number, outer: number, rows: number, cols: number, inner: number): void
  sumOuter(x: number, out: number, outer: number, inner: number): void
  lstmCell(z: number, c: number, h: number, cNext: number, gates: number, batch: number, hidden: number): void
  lstmCellGrad(dh: number, dc: number, gates: number, c: number, cNext: number, dz: number, dcPrev: number, batch: number, hidden: number): void
  gruCell(x: number, a: number, h: number, hNext: number, gates: number, batch: number, hidden: number): void
  gruCellGrad(dh: number, gates: number, h: number, dx: number, da: number, dhDirect: number, batch: number, hidden: number): void
  adamUpdate(
    param: number, m: number, v: number, grad: number, paramOut: number, mOut: number, vOut: number, count: number,
    lr: number, beta1: number, beta2: number, epsilon: number, correction1: number, correction2: number, weightDecay: number,
  ): void
  layerNorm(x: number, gamma: number, beta: number, y: number, means: number, invStds: number, rows: number, dim: number, epsilon: number): void
  layerNormGrad(dy: number, x: number, gamma: number, means: number, invStds: number, dx: number, dGamma: number, dBeta: number, rows: number, dim: number): void
  step(x: number, out: number, count: number, alpha: number): void
  dropout(x: number, out: number, mask: number, count: number, seed: number, threshold: number, scale: number): void
}

function backendMemory(backend: WasmBackendLike): WebAssembly.Memory {
  const memory = backend.wasm.wasmMemory ?? backend.wasm.asm?.memory
  if (!memory) throw new Error('wasm kernels: the wasm backend does not expose its memory')
  return memory
}

interface BackendThreads {
  pool: WasmThreadPool
  gemm: WasmGemm
}

const pools = new WeakMap<WebAssembly.Memory, BackendThreads>()

/**
 * Our kernels over this backend's memory, instantiated once: the tensor kernels ('tensor') and the matrix product
 * ('gemm'), on as many threads as the backend's own pool when its memory is shared. Its allocations are checked
 * from then on (a full heap throws instead of corrupting it).
 */
function backendThreads(backend: WasmBackendLike): BackendThreads {
  const memory = backendMemory(backend)
  let threads = pools.get(memory)
  if (!threads) {
    guardWasmHeap(backend.wasm, memory)
    const shared = memory.buffer instanceof SharedArrayBuffer
    const tensor = new WebAssembly.Module(Buffer.from(shared ? tensorKernelsSharedBase64 : tensorKernelsBase64, 'base64'))
    const gemm = gemmModule(shared)
    const pool = new WasmThreadPool(memory, { tensor, gemm: gemm.module }, wasmThreadCount())
    threads = { pool, gemm: new WasmGemm(pool, (bytes) => backend.wasm._malloc(bytes), gemm.fusedMultiplyAdd) }
    pools.set(memory, threads)
  }
  return threads
}

/** The thread pool running our kernels over this backend's memory. */
export function backendPool(backend: WasmBackendLike): WasmThreadPool {
  return backendThreads(backend).pool
}

/** The SIMD tensor kernels on this thread. */
export function tensorKernels(backend: WasmBackendLike): TensorKernels {
  return backendPool(backend).exports('tensor') as unknown as TensorKernels
}

/** Our matrix product over this backend's memory. */
export function backendGemm(backend: WasmBackendLike): WasmGemm {
  return backendThreads(backend).gemm
}
