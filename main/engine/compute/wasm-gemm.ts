// Our matrix product (assembly/gemm.ts) over the wasm backend's memory: with relaxed-SIMD fused multiply-add where
// the engine allows it (Node 20 needs a V8 flag, which we set; Node 22 and Electron have it on), shared by the
// backend's threads. XNNPACK's wasm build, which it replaces, ran ~27 GFLOP/s per thread here; this kernel runs
// ~35 without FMA and ~45 with it (`npm run bench` profiles it in place).
// The threads are worker_threads instantiating the same module over the same shared memory; each takes a block of
// C, and they meet on an Atomics counter (a product takes milliseconds, a wake-up microseconds).
import v8 from 'node:v8'
import { Worker } from 'node:worker_threads'
import { gemmBase64, gemmFmaBase64, gemmSharedBase64, gemmSharedFmaBase64 } from './gemm-wasm.ts'

interface GemmExports {
  gemm(a: number, b: number, c: number, m: number, k: number, n: number, transA: number, transB: number, i0: number, i1: number, j0: number, j1: number, scratch: number): void
  gemmRowsDotRows(a: number, b: number, c: number, m: number, k: number, n: number, i0: number, i1: number, j0: number, j1: number): void
  scratchBytes(): number
}

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

export interface WasmGemm {
  multiply(product: MatrixProduct): void
  readonly fusedMultiplyAdd: boolean
  readonly threads: number
}

export interface GemmHost {
  memory: WebAssembly.Memory
  /** Allocates bytes in that memory (the backend's own malloc), for scratch kept while the process lives. */
  malloc(bytes: number): number
  /** Threads to use when the memory is shared. */
  threads: number
}

/** Below this many multiply-adds one thread is faster than waking another. */
const THREADED_MIN_WORK = 1 << 20
/** Products with fewer rows than this (decoding) are not worth packing: A·Bᵀ runs as dot products of rows. */
export const FEW_ROWS = 8
const JOB_FIELDS = 14 // gemm's 13 arguments, then 1 for gemmRowsDotRows
const CONTROL_HEADER = 4 // [generation, pending workers, failed, unused]
const WORKER_TIMEOUT_MS = 120_000

let relaxedSimd: boolean | null = null

/** Whether this engine runs relaxed-SIMD modules, enabling them on engines that have them behind a flag. */
function relaxedSimdAvailable(probe: Buffer<ArrayBuffer>): boolean {
  if (relaxedSimd === null) {
    relaxedSimd = WebAssembly.validate(probe)
    if (!relaxedSimd && process.env.KOTOBA_WASM_FMA !== '0') {
      v8.setFlagsFromString('--experimental-wasm-relaxed-simd')
      relaxedSimd = WebAssembly.validate(probe)
    }
  }
  return relaxedSimd && process.env.KOTOBA_WASM_FMA !== '0'
}

// The helper threads' loop: wait for a new generation, run this thread's block, count down, repeat.
const workerSource = `
const { workerData } = require('node:worker_threads')
const { memory, module, control, index } = workerData
const { gemm, gemmRowsDotRows } = new WebAssembly.Instance(module, { env: { memory } }).exports
const state = new Int32Array(control)
const job = ${CONTROL_HEADER} + (index - 1) * ${JOB_FIELDS}
let generation = 0
for (;;) {
  Atomics.wait(state, 0, generation)
  generation = Atomics.load(state, 0)
  try {
    const [a, b, c, m, k, n, transA, transB, i0, i1, j0, j1, scratch, dotRows] = state.subarray(job, job + ${JOB_FIELDS})
    if (dotRows) gemmRowsDotRows(a, b, c, m, k, n, i0, i1, j0, j1)
    else gemm(a, b, c, m, k, n, transA, transB, i0, i1, j0, j1, scratch)
  } catch (error) {
    Atomics.store(state, 2, 1)
  }
  if (Atomics.sub(state, 1, 1) === 1) Atomics.notify(state, 1)
}
`

class Gemm implements WasmGemm {
  readonly fusedMultiplyAdd: boolean
  readonly threads: number
  private readonly kernel: GemmExports
  private readonly scratch: number[]
  private readonly state: Int32Array
  private readonly workers: Worker[] = []

  constructor(host: GemmHost) {
    const shared = host.memory.buffer instanceof SharedArrayBuffer
    const fmaBytes = Buffer.from(shared ? gemmSharedFmaBase64 : gemmFmaBase64, 'base64')
    this.fusedMultiplyAdd = relaxedSimdAvailable(fmaBytes)
    const bytes = this.fusedMultiplyAdd ? fmaBytes : Buffer.from(shared ? gemmSharedBase64 : gemmBase64, 'base64')
    const module = new WebAssembly.Module(bytes)
    this.kernel = new WebAssembly.Instance(module, { env: { memory: host.memory } }).exports as unknown as GemmExports
    this.threads = shared ? Math.max(1, host.threads) : 1
    const scratchBytes = this.kernel.scratchBytes()
    this.scratch = Array.from({ length: this.threads }, () => {
      const address = host.malloc(scratchBytes + 16)
      if (!address) throw new Error('wasm gemm: no memory for scratch space')
      return (address + 15) & ~15
    })
    this.state = new Int32Array(new SharedArrayBuffer((CONTROL_HEADER + (this.threads - 1) * JOB_FIELDS) * 4))
    for (let index = 1; index < this.threads; index++) {
      const worker = new Worker(workerSource, { eval: true, workerData: { memory: host.memory, module, control: this.state.buffer, index } })
      worker.unref() // blocked in Atomics.wait between products; must not keep the process alive
      this.workers.push(worker)
    }
  }

  multiply(product: MatrixProduct): void {
    const { m, n, k } = product
    const dotRows = m < FEW_ROWS && product.transB && !product.transA
    const threads = m * n * k < THREADED_MIN_WORK ? 1 : this.threads
    // Split the longer side of C: columns in multiples of 8 (the tile width), rows in multiples of 4.
    const byColumns = dotRows || n >= m
    const unit = byColumns ? 8 : 4
    const length = byColumns ? n : m
    const chunk = Math.ceil(length / threads / unit) * unit
    const blocks: number[][] = []
    for (let start = 0; start < length; start += chunk) {
      const end = Math.min(length, start + chunk)
      blocks.push(byColumns ? [0, m, start, end] : [start, end, 0, n])
    }
    const job = (block: number[], thread: number): number[] => [
      product.a, product.b, product.c, m, k, n, product.transA ? 1 : 0, product.transB ? 1 : 0, ...block, this.scratch[thread]!, dotRows ? 1 : 0,
    ]
    const helpers = blocks.length - 1
    if (helpers > 0) {
      // Helpers past the blocks (a short product leaves some out) get empty ones.
      for (let thread = 1; thread < this.threads; thread++) this.state.set(job(blocks[thread] ?? [0, 0, 0, 0], thread), CONTROL_HEADER + (thread - 1) * JOB_FIELDS)
      Atomics.store(this.state, 1, this.threads - 1)
      Atomics.add(this.state, 0, 1)
      Atomics.notify(this.state, 0)
    }
    const [i0, i1, j0, j1] = blocks[0]!
    if (dotRows) this.kernel.gemmRowsDotRows(product.a, product.b, product.c, m, k, n, i0!, i1!, j0!, j1!)
    else this.kernel.gemm(product.a, product.b, product.c, m, k, n, product.transA ? 1 : 0, product.transB ? 1 : 0, i0!, i1!, j0!, j1!, this.scratch[0]!)
    if (helpers > 0) this.awaitHelpers()
  }

  private awaitHelpers(): void {
    const deadline = Date.now() + WORKER_TIMEOUT_MS
    for (let pending = Atomics.load(this.state, 1); pending !== 0; pending = Atomics.load(this.state, 1)) {
      if (Atomics.wait(this.state, 1, pending, 1000) === 'timed-out' && Date.now() > deadline) {
        throw new Error('wasm gemm: a helper thread stopped responding')
      }
    }
    if (Atomics.exchange(this.state, 2, 0) !== 0) throw new Error('wasm gemm: a helper thread failed (memory out of bounds?)')
  }
}

const instances = new WeakMap<WebAssembly.Memory, WasmGemm>()

/** The product over this memory, started on first use (instantiation, scratch, helper threads). */
export function wasmGemm(host: GemmHost): WasmGemm {
  let gemm = instances.get(host.memory)
  if (!gemm) {
    gemm = new Gemm(host)
    instances.set(host.memory, gemm)
  }
  return gemm
}
