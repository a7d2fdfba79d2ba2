// BatchMatMul and Transpose for the wasm backend, where the stock 4.22 kernels are slow in the shapes training uses:
// - single products and stacks of rows times one matrix run on our GEMM (wasm-gemm.ts), which reads transposed
//   operands while packing them; XNNPACK ran a transposed operand (every backward pass) ~10× slower than a plain
//   product, and plain ones below our kernel's speed. A few rows times an untransposed weight (decoding) stay on
//   XNNPACK, which keeps weights packed between calls;
// - a batch of small products (attention: [64·4 heads, 30, 64]) ran on a scalar loop at ~2 GFLOP/s: our SIMD
//   kernel does it at several times that, on every thread;
// - Transpose moved ~70 M elements/s; swapping two groups of axes (matrix transposes, moving attention heads)
//   now runs as a tiled copy, and the identity permutation shares its input.
import * as tf from '@tensorflow/tfjs'
import { backendGemm, backendPool, heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'
import { FEW_ROWS } from './wasm-gemm.ts'
import { JOBS_PER_THREAD, splitRange } from './wasm-pool.ts'
import { share } from './wasm-slices.ts'

type TensorInfo = tf.TensorInfo


/** perm = [0..a) ++ [b..c) ++ [a..b) ++ [c..rank): x viewed as [outer, rows, cols, inner] → [outer, cols, rows, inner]. */
export function asAxisSwap(shape: number[], perm: number[]): { outer: number; rows: number; cols: number; inner: number } | null {
  let a = 0
  while (a < perm.length && perm[a] === a) a++
  if (a === perm.length) return null
  let c = perm.length
  while (perm[c - 1] === c - 1) c--
  const b = perm[a]!
  if (b <= a || b >= c) return null
  for (let t = 0; t < c - b; t++) if (perm[a + t] !== b + t) return null
  for (let t = 0; t < b - a; t++) if (perm[a + (c - b) + t] !== a + t) return null
  const span = (from: number, to?: number) => tf.util.sizeFromShape(shape.slice(from, to))
  return { outer: span(0, a), rows: span(a, b), cols: span(b, c), inner: span(c) }
}

function swapAxes(backend: WasmBackendLike, x: TensorInfo, outShape: number[], swap: { outer: number; rows: number; cols: number; inner: number }): TensorInfo {
  const out = backend.makeOutput(outShape, x.dtype)
  tensorKernels(backend).swapAxes(heapAddress(backend, x), heapAddress(backend, out), swap.outer, swap.rows, swap.cols, swap.inner)
  return out
}

/** [..., r, c] → [..., c, r] */
function transposeLastTwo(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  const rank = x.shape.length
  const [rows, cols] = [x.shape[rank - 2]!, x.shape[rank - 1]!]
  return swapAxes(backend, x, [...x.shape.slice(0, -2), cols, rows], { outer: tf.util.sizeFromShape(x.shape.slice(0, -2)), rows, cols, inner: 1 })
}

export function registerWasmMatMulKernels(): void {
  replaceWasmKernel('Transpose', (args, stock) => {
    const { x } = args.inputs as { x: TensorInfo }
    const { perm } = args.attrs as unknown as { perm: number[] }
    // tf.gather's gradient transposes by the identity for axis 0 (every embedding): share, do not copy.
    if (perm.every((axis, i) => axis === i)) return share(args.backend as unknown as WasmBackendLike, x)
    const swap = x.dtype === 'float32' || x.dtype === 'int32' ? asAxisSwap(x.shape, perm) : null
    if (!swap || tf.util.sizeFromShape(x.shape) === 0) return stock(args)
    return swapAxes(args.backend as unknown as WasmBackendLike, x, perm.map((axis) => x.shape[axis]!), swap)
  })

  replaceWasmKernel('BatchMatMul', (args, stock) => {
    const backend = args.backend as unknown as WasmBackendLike
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean }
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo }
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return stock(args)
    const aOuter = a.shape.slice(0, -2)
    const bOuter = b.shape.slice(0, -2)
    const [aBatch, bBatch] = [tf.util.sizeFromShape(aOuter), tf.util.sizeFromShape(bOuter)]
    const m = a.shape[a.shape.length - (transposeA ? 1 : 2)]!
    const k = a.shape[a.shape.length - (transposeA ? 2 : 1)]!
    const n = b.shape[b.shape.length - (transposeB ? 2 : 1)]!
    const sameOuter = aOuter.length === bOuter.length && aOuter.every((d, i) => d === bOuter[i])
    if (!sameOuter && aBatch !== 1 && bBatch !== 1) return stock(args) // general broadcasting
    const outShape = [...(aBatch >= bBatch ? aOuter : bOuter), m, n]
    if (m === 0 || n === 0 || k === 0) return stock(args)
    const stackedRows = bBatch === 1 && !transposeA // [batch, t, k]·[k, n] is one [batch·t, k]·[k, n] product
    if ((aBatch === 1 && bBatch === 1) || stackedRows) {
      const rows = stackedRows ? aBatch * m : m
      if (rows < FEW_ROWS && !transposeA && !transposeB) {
        // A few rows times a weight (a decoding step): XNNPACK, which keeps each weight packed between calls.
        const inputs = { a: { ...a, shape: [1, rows, k] }, b: { ...b, shape: [1, k, n] } }
        return { ...(stock({ ...args, inputs }) as TensorInfo), shape: outShape }
      }
      const out = backend.makeOutput(outShape, 'float32')
      backendGemm(backend).multiply({
        a: heapAddress(backend, a), b: heapAddress(backend, b), c: heapAddress(backend, out), m: rows, k, n, transA: transposeA, transB: transposeB,
      })
      return out
    }
    // A batch of small products (attention): our SIMD kernel, the batch split across the pool's threads.
    const temporary: TensorInfo[] = []
    const untransposed = (x: TensorInfo, transposed: boolean): TensorInfo => {
      if (!transposed) return x
      const t = transposeLastTwo(backend, x)
      temporary.push(t)
      return t
    }
    try {
      const left = untransposed(a, transposeA)
      const right = untransposed(b, transposeB)
      const out = backend.makeOutput(outShape, 'float32')
      const [aStride, bStride, batch] = [aBatch === 1 ? 0 : m * k, bBatch === 1 ? 0 : k * n, Math.max(aBatch, bBatch)]
      const [x, y, z] = [heapAddress(backend, left), heapAddress(backend, right), heapAddress(backend, out)]
      const pool = backendPool(backend)
      const parts = batch * m * k * n < 1 << 18 ? 1 : pool.threads * JOBS_PER_THREAD // fewer multiply-adds: not worth a wake-up
      pool.run('tensor.batchMatMul', splitRange(batch, parts).map(([first, end]) => [
        x + first * aStride * 4, y + first * bStride * 4, z + first * m * n * 4, end - first, m, k, n, aStride, bStride,
      ]))
      return out
    } finally {
      for (const t of temporary) backend.disposeData(t.dataId, true)
    }
  })
}
