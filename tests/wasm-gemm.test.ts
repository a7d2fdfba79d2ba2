// Our wasm matrix product against a float64 reference: every transpose, ragged tiles, products past its cache
// blocks, split across threads by rows and by columns, few-row products as dot products, with and without fused
// multiply-add.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gemmModule, WasmGemm } from '../main/engine/compute/wasm-gemm.ts'
import { WasmThreadPool } from '../main/engine/compute/wasm-pool.ts'
import { Random } from '../models/core/random.ts'

const PAGE = 65536

/** A wasm memory with a bump allocator, standing in for the backend's heap. */
function heap(shared: boolean) {
  const memory = new WebAssembly.Memory({ initial: 1024, maximum: 65536, shared })
  let top = 1024
  const malloc = (bytes: number): number => {
    const address = top
    top = (top + bytes + 63) & ~63
    if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / PAGE))
    return address
  }
  return { memory, malloc }
}

/** Our product over a fresh heap, on `threads` threads when the memory is shared. */
function gemmOn(memory: WebAssembly.Memory, malloc: (bytes: number) => number, threads: number): WasmGemm {
  const { module, fusedMultiplyAdd } = gemmModule(memory.buffer instanceof SharedArrayBuffer)
  return new WasmGemm(new WasmThreadPool(memory, { gemm: module }, threads), malloc, fusedMultiplyAdd)
}

function withFma<T>(fma: boolean, run: () => T): T {
  const before = process.env.KOTOBA_WASM_FMA
  process.env.KOTOBA_WASM_FMA = fma ? '1' : '0'
  try {
    return run()
  } finally {
    if (before === undefined) delete process.env.KOTOBA_WASM_FMA
    else process.env.KOTOBA_WASM_FMA = before
  }
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [3, 5, 7],
  [4, 8, 256],
  [5, 9, 257],
  [64, 1024, 256], // an LSTM step's input product, split by columns
  [70, 61, 301], // rows > one 64-row block, depth > one 256 block: split by rows
  [37, 530, 301], // columns > one 512-column block: split by columns
  [130, 17, 513],
  [5, 1001, 257], // few rows: A·Bᵀ as dot products of rows, split by columns
]

function check(gemm: WasmGemm, memory: WebAssembly.Memory, malloc: (bytes: number) => number, random: Random): void {
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const guard = 16 // floats after C that must stay untouched
        const [a, b, c] = [malloc(m * k * 4), malloc(k * n * 4), malloc((m * n + guard) * 4)]
        const view = new Float32Array(memory.buffer)
        const A = view.subarray(a / 4, a / 4 + m * k)
        const B = view.subarray(b / 4, b / 4 + k * n)
        const C = view.subarray(c / 4, c / 4 + m * n + guard)
        for (let i = 0; i < A.length; i++) A[i] = random.uniform(-1, 1)
        for (let i = 0; i < B.length; i++) B[i] = random.uniform(-1, 1)
        C.fill(Number.NaN, 0, m * n) // every entry must be written
        C.fill(7, m * n)
        gemm.multiply({ a, b, c, m, k, n, transA, transB })
        let worst = 0
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let expected = 0
            for (let p = 0; p < k; p++) expected += A[transA ? p * m + i : i * k + p]! * B[transB ? j * k + p : p * n + j]!
            const got = C[i * n + j]!
            worst = Math.max(worst, Number.isNaN(got) ? Infinity : Math.abs(got - expected))
          }
        }
        assert.ok(worst < 2e-6 * k, `${m}×${k}·${k}×${n} transA=${transA} transB=${transB}: off by ${worst}`)
        assert.ok(C.subarray(m * n).every((v) => v === 7), `${m}×${n}: wrote past the end of C`)
      }
    }
  }
}

for (const fma of [true, false]) {
  test(`wasm gemm ${fma ? 'with' : 'without'} fused multiply-add, one thread`, () => {
    const { memory, malloc } = heap(false)
    const gemm = withFma(fma, () => gemmOn(memory, malloc, 4))
    assert.equal(gemm.threads, 1, 'unshared memory: no helper threads')
    assert.equal(gemm.fusedMultiplyAdd, fma, fma ? 'relaxed SIMD is available on this Node (behind a flag we set on 20)' : 'KOTOBA_WASM_FMA=0 turns it off')
    check(gemm, memory, malloc, new Random(fma ? 1 : 2))
  })

  test(`wasm gemm ${fma ? 'with' : 'without'} fused multiply-add, shared by two threads`, () => {
    const { memory, malloc } = heap(true)
    const gemm = withFma(fma, () => gemmOn(memory, malloc, 2))
    assert.equal(gemm.threads, 2)
    check(gemm, memory, malloc, new Random(fma ? 3 : 4))
  })
}

test('the wasm thread pool: a kernel that traps on any thread fails the call, and the pool keeps working', async () => {
  const { memory, malloc } = heap(true)
  const gemm = gemmOn(memory, malloc, 2)
  const { module } = gemmModule(true)
  const pool = new WasmThreadPool(memory, { gemm: module }, 2)
  const scratchBytes = (pool.exports('gemm').scratchBytes as () => number)()
  const scratch = [malloc(scratchBytes), malloc(scratchBytes)] // one per thread
  const [a, b, c, expected] = [malloc(64 * 64 * 4), malloc(64 * 64 * 4), malloc(64 * 64 * 4), malloc(64 * 64 * 4)]
  const random = new Random(5)
  const view = new Float32Array(memory.buffer)
  for (let i = 0; i < 64 * 64; i++) [view[a / 4 + i], view[b / 4 + i]] = [random.uniform(-1, 1), random.uniform(-1, 1)]
  const outside = memory.buffer.byteLength + 4096 // past the end of the memory: the kernel traps
  const job = (output: number, j0: number, j1: number) => [a, b, output, 64, 64, 64, 0, 0, 0, 64, j0, j1]
  // Every call with failing jobs fails, on whichever thread took one; a helper that is awake takes some of them,
  // and its failure is reported as such (the caller does every job a sleeping helper does not take).
  await new Promise((resolve) => setTimeout(resolve, 500)) // the helper starts (tens of ms) and waits for calls
  // A slow first job (a 384³ product) keeps the caller busy while the helper wakes up and takes failing ones.
  const big = 384
  const [bigA, bigB, bigC] = [malloc(big * big * 4), malloc(big * big * 4), malloc(big * big * 4)]
  const slowJob = [bigA, bigB, bigC, big, big, big, 0, 0, 0, big, 0, big]
  const failures = new Set<string>()
  for (let attempt = 0; attempt < 50 && !failures.has('helper'); attempt++) {
    const jobs = [slowJob, job(outside, 0, 64)]
    assert.throws(() => pool.run('gemm.gemm', jobs, scratch), (error: Error) => {
      failures.add(/failed on a helper thread/.test(error.message) ? 'helper' : /out of bounds/.test(error.message) ? 'caller' : error.message)
      return true
    })
  }
  assert.ok(failures.has('helper'), `a helper's failure was reported (seen: ${[...failures].join(', ')})`)
  assert.deepEqual([...failures].filter((f) => f !== 'helper' && f !== 'caller'), [])
  // One failing job fails the call whichever thread took it.
  assert.throws(() => pool.run('gemm.gemm', [job(c, 0, 32), job(outside, 32, 64)], scratch), /out of bounds|failed on a helper thread/)
  assert.throws(() => pool.run('gemm.gemm', [job(c, 0, 32), job(c, 32, 64)], [scratch[0]!]), /1 per-thread values for 2 threads/)
  assert.throws(() => pool.run('gemm.nothing', [[]]), /no kernel 'gemm.nothing'/)
  // More jobs than threads, taken in turn, with each thread's own scratch appended.
  pool.run('gemm.gemm', [0, 8, 16, 24, 32, 40, 48, 56].map((j0) => job(c, j0, j0 + 8)), scratch)
  gemm.multiply({ a, b, c: expected, m: 64, k: 64, n: 64, transA: false, transB: false })
  const result = new Float32Array(memory.buffer, c, 64 * 64)
  assert.deepEqual(result, new Float32Array(memory.buffer, expected, 64 * 64), 'the pool still runs every job after failures')
})

test('the wasm thread pool never waits for a helper that does not run: the calling thread does its jobs, no stall', async () => {
  const before = process.env.KOTOBA_FAULT_POOL_HELPER_ASLEEP
  process.env.KOTOBA_FAULT_POOL_HELPER_ASLEEP = '1'
  try {
    const { memory, malloc } = heap(true)
    const gemm = gemmOn(memory, malloc, 3) // helper 1 never takes a call; helper 2 does
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Every product right, and none fails: a pool that waited for each helper to check in would give up here after
    // its watchdog's 60 s ('a helper thread stopped responding'), as the first-run e2e did on a loaded machine.
    check(gemm, memory, malloc, new Random(9))
  } finally {
    if (before === undefined) delete process.env.KOTOBA_FAULT_POOL_HELPER_ASLEEP
    else process.env.KOTOBA_FAULT_POOL_HELPER_ASLEEP = before
  }
})
