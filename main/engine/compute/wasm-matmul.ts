// BatchMatMul and Transpose for the wasm backend, where the stock 4.22 kernels are slow in the shapes training uses:
// - a transposed operand (every backward pass) ran ~10× slower than a plain product: we transpose explicitly and
//   multiply untransposed on XNNPACK; a transposed weight is kept while the weight lives, so the 30 time steps of
//   an RNN's backward pass transpose (and XNNPACK packs) the recurrent matrix once, not 30 times;
// - a batch of small products (attention: [64·4 heads, 30, 64]) ran on a scalar loop at ~2 GFLOP/s: our SIMD
//   kernel does it at several times that;
// - Transpose moved ~70 M elements/s; swapping two groups of axes (matrix transposes, moving attention heads)
//   now runs as a tiled copy.
import * as tf from '@tensorflow/tfjs'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'

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

/** Transposed right-hand operands, kept until the operand itself is disposed. */
const transposedOperands = new WeakMap<WasmBackendLike, Map<object, TensorInfo>>()

function cachedTranspose(backend: WasmBackendLike, b: TensorInfo): TensorInfo {
  let cache = transposedOperands.get(backend)
  if (!cache) {
    const known = new Map<object, TensorInfo>()
    const dispose = backend.disposeData.bind(backend)
    backend.disposeData = (dataId: object, force?: boolean) => {
      const released = dispose(dataId, force)
      const transposed = released ? known.get(dataId) : undefined
      if (transposed) {
        known.delete(dataId)
        dispose(transposed.dataId, true)
      }
      return released
    }
    transposedOperands.set(backend, known)
    cache = known
  }
  let transposed = cache.get(b.dataId)
  if (!transposed) {
    transposed = transposeLastTwo(backend, b)
    cache.set(b.dataId, transposed)
  }
  return transposed
}

export function registerWasmMatMulKernels(): void {
  replaceWasmKernel('Transpose', (args, stock) => {
    const { x } = args.inputs as { x: TensorInfo }
    const { perm } = args.attrs as unknown as { perm: number[] }
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
    const temporary: TensorInfo[] = []
    /** left [rows, k]·right [k, cols] untransposed, on the stock kernel (XNNPACK): [rows, cols]. */
    const plainProduct = (left: TensorInfo, right: TensorInfo, rows: number, inner: number, cols: number): TensorInfo => {
      const inputs = { a: { ...left, shape: [1, rows, inner] }, b: { ...right, shape: [1, inner, cols] } }
      const out = stock({ ...args, inputs, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as TensorInfo
      return { ...out, shape: [rows, cols] }
    }
    const untransposed = (x: TensorInfo, transposed: boolean, cache: boolean): TensorInfo => {
      if (!transposed) return x
      if (cache) return cachedTranspose(backend, x)
      const t = transposeLastTwo(backend, x)
      temporary.push(t)
      return t
    }
    try {
      if (aBatch === 1 && bBatch === 1 && transposeA && !transposeB && n > 2 * m) {
        // Aᵀ·B with B wider than A (a weight gradient xᵀ·dy into 4H gates or V logits): XNNPACK would pack all of
        // B; (Bᵀ·A)ᵀ packs the narrower A instead, for two cheap transposes (1.4× at n = 4m, 1.8× at n = 31m).
        const bT = transposeLastTwo(backend, b) // [n, k]
        temporary.push(bT)
        const productT = plainProduct(bT, a, n, k, m) // [n, m]
        temporary.push(productT)
        return { ...transposeLastTwo(backend, productT), shape: outShape }
      }
      if (aBatch === 1 && bBatch === 1) {
        // One product: XNNPACK, which packs the right operand (cached by its id) and runs on every thread.
        return { ...plainProduct(untransposed(a, transposeA, false), untransposed(b, transposeB, true), m, k, n), shape: outShape }
      }
      if (bBatch === 1 && !transposeA) {
        // A stack of rows times one matrix ([batch, t, k]·[k, n]): one XNNPACK product of [batch·t, k]·[k, n].
        return { ...plainProduct(a, untransposed(b, transposeB, true), aBatch * m, k, n), shape: outShape }
      }
      // A batch of small products (attention): our SIMD kernel, on this thread.
      const left = untransposed(a, transposeA, false)
      const right = untransposed(b, transposeB, false)
      const out = backend.makeOutput(outShape, 'float32')
      tensorKernels(backend).batchMatMul(
        heapAddress(backend, left), heapAddress(backend, right), heapAddress(backend, out),
        Math.max(aBatch, bBatch), m, k, n, aBatch === 1 ? 0 : m * k, bBatch === 1 ? 0 : k * n,
      )
      return out
    } finally {
      for (const t of temporary) backend.disposeData(t.dataId, true)
    }
  })
}
