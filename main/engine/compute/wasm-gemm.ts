// Our matrix product (assembly/gemm.ts) over the wasm backend's memory: with relaxed-SIMD fused multiply-add where
// the engine allows it (Node 20 needs a V8 flag, which we set; Node 22 and Electron have it on), shared by the
// pool's threads, which take blocks of C in turn, each packing into its own scratch space. XNNPACK's wasm build, which it replaces, ran ~27 GFLOP/s per thread
// here; this kernel runs ~35 without FMA and ~45 with it.
import v8 from 'node:v8'
import { gemmBase64, gemmFmaBase64, gemmSharedBase64, gemmSharedFmaBase64 } from './gemm-wasm.ts'
import { JOBS_PER_THREAD, splitRange, type WasmThreadPool } from './wasm-pool.ts'

/** C [m, n] = op(A)·op(B) at byte addresses in the backend's memory; A is [k, m] when transA, B [n, k] when transB. */
export interface MatrixProduct {
  a: number
  b: number
  c: number
  m: number
  k: number
  n: number
  transA: boolean
  transB: boolean
}

/** Below this many multiply-adds one thread is faster than waking another. */
const THREADED_MIN_WORK = 1 << 20
/** Products with fewer rows than this (decoding) are not worth packing: A·Bᵀ runs as dot products of rows. */
export const FEW_ROWS = 8

let relaxedSimd: boolean | null = null

/** Whether this engine runs relaxed-SIMD modules, enabling them on engines that have them behind a flag. */
function relaxedSimdAvailable(probe: Buffer<ArrayBuffer>): boolean {
  if (process.env.KOTOBA_WASM_FMA === '0') return false
  if (relaxedSimd === null) {
    relaxedSimd = WebAssembly.validate(probe)
    if (!relaxedSimd) {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd')
      relaxedSimd = WebAssembly.validate(probe)
    }
  }
  return relaxedSimd
}

/** The product's module for shared or unshared memory: with fused multiply-add where available (not with KOTOBA_WASM_FMA=0). */
export function gemmModule(shared: boolean): { module: WebAssembly.Module; fusedMultiplyAdd: boolean } {
  const fmaBytes = Buffer.from(shared ? gemmSharedFmaBase64 : gemmFmaBase64, 'base64')
  const fusedMultiplyAdd = relaxedSimdAvailable(fmaBytes)
  const bytes = fusedMultiplyAdd ? fmaBytes : Buffer.from(shared ? gemmSharedBase64 : gemmBase64, 'base64')
  return { module: new WebAssembly.Module(bytes), fusedMultiplyAdd }
}

export class WasmGemm {
  private readonly scratch: number[]

  /** `pool` holds the product's module as 'gemm'; `malloc` allocates each thread's packing space in its memory. */
  constructor(
    private readonly pool: WasmThreadPool,
    malloc: (bytes: number) => number,
    readonly fusedMultiplyAdd: boolean,
  ) {
    const scratchBytes = (pool.exports('gemm').scratchBytes as () => number)()
    this.scratch = Array.from({ length: pool.threads }, () => {
      const address = malloc(scratchBytes + 16)
      if (!address) throw new Error('wasm gemm: no memory for packing space')
      return (address + 15) & ~15
    })
  }

  get threads(): number {
    return this.pool.threads
  }

  multiply(product: MatrixProduct): void {
    const { a, b, c, m, k, n } = product
    const [transA, transB] = [product.transA ? 1 : 0, product.transB ? 1 : 0]
    const parts = m * n * k < THREADED_MIN_WORK ? 1 : this.pool.threads * JOBS_PER_THREAD
    if (m < FEW_ROWS && transB && !transA) {
      this.pool.run('gemm.gemmRowsDotRows', splitRange(n, parts, 8).map(([j0, j1]) => [a, b, c, m, k, n, 0, m, j0, j1]))
      return
    }
    // Cut the longer side of C into blocks: columns in multiples of 8 (the tile width), rows in multiples of 4.
    const blocks = n >= m ? splitRange(n, parts, 8).map(([j0, j1]) => [0, m, j0, j1]) : splitRange(m, parts, 4).map(([i0, i1]) => [i0, i1, 0, n])
    this.pool.run('gemm.gemm', blocks.map((block) => [a, b, c, m, k, n, transA, transB, ...block]), this.scratch)
  }
}
