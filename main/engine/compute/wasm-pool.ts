// Threads running our wasm kernels over one shared memory (the threaded wasm backend's heap): worker_threads
// instantiate the same modules over the same memory. A call hands out its jobs dynamically: the calling thread and
// every helper take the next job from an Atomics counter until none are left, so a thread the machine slows down
// (a shared core) does fewer of them instead of holding up the rest. A wake-up costs microseconds, a kernel call
// milliseconds. Over unshared memory (the single-threaded backend) there are no helpers and every job runs here.
import { Worker } from 'node:worker_threads'

/** Job arguments as float64: byte addresses (< 2³²), sizes and float32 scalars are all exact. */
const MAX_ARGS = 16
const MAX_JOBS = 256
// Int32 header: generation, pending helpers, failed, next job, job count, kernel index, argument count, per-thread argument?
const HEADER_BYTES = 32
const HELPER_TIMEOUT_MS = 120_000

/** How many jobs per thread a caller should cut its work into: enough to even out a slow thread, few enough to stay large. */
export const JOBS_PER_THREAD = 4

// The helpers' loop: wait for a new generation, take jobs until none are left, count down, repeat.
const helperSource = `
const { workerData } = require('node:worker_threads')
const { memory, modules, kernelNames, control, threads, index } = workerData
const exportsOf = {}
for (const [name, module] of Object.entries(modules)) exportsOf[name] = new WebAssembly.Instance(module, { env: { memory } }).exports
const kernels = kernelNames.map((qualified) => {
  const [module, name] = qualified.split('.')
  return exportsOf[module][name]
})
const state = new Int32Array(control, 0, 8)
const perThread = new Float64Array(control, ${HEADER_BYTES}, threads)
const jobs = new Float64Array(control, ${HEADER_BYTES} + threads * 8)
let generation = 0
for (;;) {
  Atomics.wait(state, 0, generation)
  generation = Atomics.load(state, 0)
  try {
    const [kernel, count, argc, extra] = [kernels[state[5]], state[4], state[6], state[7]]
    for (let job = Atomics.add(state, 3, 1); job < count; job = Atomics.add(state, 3, 1)) {
      const args = jobs.subarray(job * ${MAX_ARGS}, job * ${MAX_ARGS} + argc)
      if (extra) kernel(...args, perThread[index])
      else kernel(...args)
    }
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
  private readonly perThread: Float64Array
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
    const control = new SharedArrayBuffer(HEADER_BYTES + this.threads * 8 + (this.threads > 1 ? MAX_JOBS * MAX_ARGS * 8 : 0))
    this.state = new Int32Array(control, 0, 8)
    this.perThread = new Float64Array(control, HEADER_BYTES, this.threads)
    this.jobs = new Float64Array(control, HEADER_BYTES + this.threads * 8)
    for (let index = 1; index < this.threads; index++) {
      const helper = new Worker(helperSource, { eval: true, workerData: { memory, modules, kernelNames, control, threads: this.threads, index } })
      helper.unref() // blocked in Atomics.wait between calls; must not keep the process alive
    }
  }

  /** A module's exports on this thread. */
  exports(module: string): WebAssembly.Exports {
    const found = this.local[module]
    if (!found) throw new Error(`wasm pool: no module '${module}'`)
    return found
  }

  /**
   * Runs `kernel` ('module.export') once per job, spread over this thread and the helpers; returns when all are done.
   * With `perThread` (one value a thread, e.g. its own scratch space), the running thread's value is appended to
   * each job's arguments.
   */
  run(kernel: string, jobs: number[][], perThread?: number[]): void {
    const index = this.kernelIndex.get(kernel)
    if (index === undefined) throw new Error(`wasm pool: no kernel '${kernel}'`)
    if (perThread && perThread.length < this.threads) throw new Error(`wasm pool: ${perThread.length} per-thread values for ${this.threads} threads`)
    const [module, name] = kernel.split('.') as [string, string]
    const here = this.exports(module)[name] as (...args: number[]) => void
    const runHere = (job: number[]) => (perThread ? here(...job, perThread[0]!) : here(...job))
    if (jobs.length <= 1 || this.threads === 1) {
      jobs.forEach(runHere)
      return
    }
    if (jobs.length > MAX_JOBS) throw new Error(`wasm pool: ${jobs.length} jobs, at most ${MAX_JOBS} a call`)
    const argc = jobs[0]!.length
    if (argc + (perThread ? 1 : 0) > MAX_ARGS) throw new Error(`wasm pool: ${kernel} takes at most ${MAX_ARGS} arguments`)
    jobs.forEach((job, i) => {
      if (job.length !== argc) throw new Error(`wasm pool: every job of ${kernel} needs ${argc} arguments`)
      this.jobs.set(job, i * MAX_ARGS)
    })
    if (perThread) this.perThread.set(perThread.slice(0, this.threads))
    this.state.set([0, jobs.length, index, argc, perThread ? 1 : 0], 3)
    Atomics.store(this.state, 1, this.threads - 1)
    Atomics.add(this.state, 0, 1)
    Atomics.notify(this.state, 0)
    try {
      for (let job = Atomics.add(this.state, 3, 1); job < jobs.length; job = Atomics.add(this.state, 3, 1)) runHere(jobs[job]!)
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
