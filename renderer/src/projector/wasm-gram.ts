// Gram-matrix rows for the projector's exact neighbour search on the engine's own SIMD matrix product
// (main/engine/compute/assembly/gemm.ts, the build without relaxed SIMD, which every WebAssembly-SIMD browser runs):
// some 20× the plain-JavaScript loop. Falls back to that loop where WebAssembly SIMD is missing.
import { gemmBase64 } from '../../../main/engine/compute/gemm-wasm.ts'
import { gramRowsJs, type GramRows } from '../../../models/projection/exact-neighbours.ts'

const PAGE = 65536

interface GemmExports {
  scratchBytes(): number
  gemm(a: number, b: number, c: number, m: number, k: number, n: number, transA: number, transB: number, i0: number, i1: number, j0: number, j1: number, scratch: number): void
}

/** A GramRows backed by the wasm product, or the JavaScript one where the module cannot run here. */
export function wasmGramRows(): GramRows {
  let module: WebAssembly.Module
  try {
    const bytes = Uint8Array.from(atob(gemmBase64), (c) => c.charCodeAt(0))
    if (!WebAssembly.validate(bytes)) return gramRowsJs
    module = new WebAssembly.Module(bytes) // refused where a content security policy forbids WebAssembly
  } catch {
    return gramRowsJs
  }
  let memory: WebAssembly.Memory | null = null
  let exports: GemmExports | null = null
  let loaded: Float32Array | null = null
  return (rows, n, d, i0, i1, out) => {
    // Layout: scratch, then rows [n, d], then the block of C [i1 − i0, n]; grown when a bigger set comes.
    const scratchBytes = 1 << 20
    const rowsAt = scratchBytes
    const blockAt = rowsAt + ((n * d * 4 + 15) & ~15)
    const needed = blockAt + out.length * 4
    if (!memory || memory.buffer.byteLength < needed) {
      const pages = Math.ceil(needed / PAGE)
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages }) // never grown: a bigger set gets a new one
      exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as GemmExports
      if (exports.scratchBytes() > scratchBytes) throw new Error('wasm gemm needs more scratch than the projector gives it')
      loaded = null
    }
    if (loaded !== rows) {
      new Float32Array(memory.buffer, rowsAt, n * d).set(rows)
      loaded = rows
    }
    const m = i1 - i0
    // C [m, n] = A [m, d] · Bᵀ, A = rows i0..i1, B = all rows [n, d].
    exports!.gemm(rowsAt + i0 * d * 4, rowsAt, blockAt, m, d, n, 0, 1, 0, m, 0, n, 0)
    out.set(new Float32Array(memory.buffer, blockAt, m * n))
  }
}
