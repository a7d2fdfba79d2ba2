// Threads running our wasm kernels over one shared memory (the threaded wasm backend's heap): worker_threads
// instantiate the same modules over the same memory; the calling thread runs the first job itself and each helper
// one more, and they meet on an Atomics counter (a kernel call takes milliseconds, a wake-up microseconds).
// Over unshared memory (the single-threaded backend) there are no helpers and every job runs here.
import { Worker } from 'node:worker_threads'

/** Job arguments as float64: byte addresses (< 2³²), sizes and float32 scalars are all exact. */
const MAX_ARGS = 16
const JOB_SLOTS = 2 + MAX_ARGS // kernel index (−1: none), argument count, arguments
const HEADER_BYTES = 16 // Int32 [generation, pending helpers, failed, unused]
const HELPER_TIMEOUT_MS = 120_000

// The helpers' loop: wait for a new generation, run this helper's job, count down, repeat.
const helperSource = `
const { workerData } = require('node:worker_threads')
const { memory, modules, kernelNames, control, index } = workerData
const exportsOf = {}
for (const [name, module] of Object.entries(modules)) exportsOf[name] = new WebAssembly.Instance(module, { env: { memory } }).exports
const kernels = kernelNames.map((qualified) => {
  const [module, name] = qualified.split('.')
  return exportsOf[module][name]
})
const state = new Int32Array(control, 0, 4)
const job = new Float64Array(control, ${HEADER_BYTES} + (index - 1) * ${JOB_SLOTS * 8}, ${JOB_SLOTS})
let generation = 0
for (;;) {
  Atomics.wait(state, 0, generation)
  generation = Atomics.load(state, 0)
  try {
    if (job[0] >= 0) kernels[job[0]](...job.subarray(2, 2 + job[1]))
  } catch {
    Atomics.store(state, 2, 1)
  }
  if (Atomics.sub(state, 1, 1) === 1) Atomics.notify(state, 1)
}
`

/** Splits [0, length) into at most `parts` ranges whose starts are multiples of `unit`. */
export function splitRange(length: number, parts: number, unit = 1): [number, number][] {
  const chunk = Math.max(unit, Math.ceil(length / Math.max(1, parts) / unit) * unit)
  const ranges: [number, number][] = []
  for (let start = 0; start < length; start += chunk) ranges.push([start, Math.min(length, start + chunk)])
  return ranges
}

export class WasmThreadPool {
  readonly threads: number
  private readonly local: Record<string, WebAssembly.Exports> = {}
  private readonly kernelIndex = new Map<string, number>()
  private readonly state: Int32Array
  private readonly jobs: Float64Array

  /** `modules` by name, each importing `env.memory`; kernels are then named `module.export`. */
  constructor(memory: WebAssembly.Memory, modules: Record<string, WebAssembly.Module>, threads: number) {
    const shared = memory.buffer instanceof SharedArrayBuffer
    this.threads = shared ? Math.max(1, threads) : 1
    const kernelNames: string[] = []
    for (const [name, module] of Object.entries(modules)) {
      this.local[name] = new WebAssembly.Instance(module, { env: { memory } }).exports
      for (const entry of WebAssembly.Module.exports(module)) {
        if (entry.kind !== 'function') continue
        this.kernelIndex.set(`${name}.${entry.name}`, kernelNames.length)
        kernelNames.push(`${name}.${entry.name}`)
      }
    }
    const control = new SharedArrayBuffer(HEADER_BYTES + (this.threads - 1) * JOB_SLOTS * 8)
    this.state = new Int32Array(control, 0, 4)
    this.jobs = new Float64Array(control, HEADER_BYTES)
    for (let index = 1; index < this.threads; index++) {
      const helper = new Worker(helperSource, { eval: true, workerData: { memory, modules, kernelNames, control, index } })
      helper.unref() // blocked in Atomics.wait between kernels; must not keep the process alive
    }
  }

  /** A module's exports on this thread. */
  exports(module: string): WebAssembly.Exports {
    const found = this.local[module]
    if (!found) throw new Error(`wasm pool: no module '${module}'`)
    return found
  }

  /** Runs `kernel` ('module.export') once per job, jobs[0] on this thread and the rest on helpers; returns when all are done. */
  run(kernel: string, jobs: number[][]): void {
    const index = this.kernelIndex.get(kernel)
    if (index === undefined) throw new Error(`wasm pool: no kernel '${kernel}'`)
    if (jobs.length > this.threads) throw new Error(`wasm pool: ${jobs.length} jobs for ${this.threads} threads`)
    const [module, name] = kernel.split('.') as [string, string]
    const here = this.exports(module)[name] as (...args: number[]) => void
    if (jobs.length <= 1) {
      if (jobs[0]) here(...jobs[0])
      return
    }
    for (let helper = 1; helper < this.threads; helper++) {
      const job = jobs[helper]
      const slot = (helper - 1) * JOB_SLOTS
      if (job && job.length > MAX_ARGS) throw new Error(`wasm pool: ${kernel} takes at most ${MAX_ARGS} arguments`)
      this.jobs[slot] = job ? index : -1
      this.jobs[slot + 1] = job ? job.length : 0
      if (job) this.jobs.set(job, slot + 2)
    }
    Atomics.store(this.state, 1, this.threads - 1)
    Atomics.add(this.state, 0, 1)
    Atomics.notify(this.state, 0)
    try {
      here(...jobs[0]!)
    } finally {
      this.awaitHelpers(kernel)
    }
  }

  private awaitHelpers(kernel: string): void {
    const deadline = Date.now() + HELPER_TIMEOUT_MS
    for (let pending = Atomics.load(this.state, 1); pending !== 0; pending = Atomics.load(this.state, 1)) {
      if (Atomics.wait(this.state, 1, pending, 1000) === 'timed-out' && Date.now() > deadline) {
        throw new Error(`wasm pool: a helper thread stopped responding in ${kernel}`)
      }
    }
    if (Atomics.exchange(this.state, 2, 0) !== 0) throw new Error(`wasm pool: ${kernel} failed on a helper thread (memory out of bounds?)`)
  }
}
