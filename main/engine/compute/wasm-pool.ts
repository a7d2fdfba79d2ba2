// Threads running our wasm kernels over one shared memory (the threaded wasm backend's heap): worker_threads
// instantiate the same modules over the same memory. A call hands out its jobs dynamically: the calling thread and
// every helper that is awake take the next job from an Atomics counter until none are left, and the call ends when
// every job is done. No call waits for a helper to wake up: a helper the machine keeps off a core (or one that never
// started) takes no jobs, and the calling thread does them. A wake-up costs microseconds, a kernel call milliseconds.
// Over unshared memory (the single-threaded backend) there are no helpers and every job runs here.
import { Worker } from 'node:worker_threads'

/** Job arguments as float64: byte addresses (< 2³²), sizes and float32 scalars are all exact. */
const MAX_ARGS = 16
const MAX_JOBS = 256
// Int32 header: generation (odd while the caller writes a call, even once it is published), helpers inside a call,
// failed, next job, job count, kernel index, argument count, per-thread argument?, jobs done; then one heartbeat a
// thread (bumped at every wake-up and job) and one 'gone' flag a thread.
const HEADER_BYTES = 48
const GENERATION = 0
const INSIDE = 1
const FAILED = 2
const NEXT_JOB = 3
const DONE = 8
/** A helper is given up only when a call waits on helpers and none has moved for this long: one job takes
 *  milliseconds even on a machine whose cores are shared, so a slow helper keeps beating and is waited for. */
const STALL_MS = Number(process.env.KOTOBA_POOL_STALL_MS ?? 60_000)

/** A helper thread died (or hung without a beat): the pool has restarted its helpers; the call's results are void. */
export class PoolHelperLostError extends Error {
  readonly retryable = true
  constructor(kernel: string, reason: string) {
    super(`wasm pool: a helper thread ${reason} in ${kernel}; the pool was restarted`)
    this.name = 'PoolHelperLostError'
  }
}

/** How many jobs per thread a caller should cut its work into: enough to even out a slow thread, few enough to stay large. */
export const JOBS_PER_THREAD = 4

// The helpers' loop: sleep until a new call is published, enter it, take jobs until none are left, leave, repeat.
// Entering (INSIDE + 1) before reading the generation pairs with the caller's odd generation before it waits for
// INSIDE = 0: a helper either sees the call being written and leaves, or is waited for before anything is rewritten.
const helperSource = `
const { workerData } = require('node:worker_threads')
const { memory, modules, kernelNames, control, threads, index, exitAfterJobs, asleep } = workerData
const state = new Int32Array(control, 0, 12)
const gone = new Int32Array(control, ${HEADER_BYTES} + threads * 4, threads)
// However this thread ends (an exit, an uncaught error), the caller learns at once instead of waiting for it.
process.on('exit', () => {
  Atomics.store(gone, index, 1)
  Atomics.notify(state, ${DONE})
})
const exportsOf = {}
for (const [name, module] of Object.entries(modules)) exportsOf[name] = new WebAssembly.Instance(module, { env: { memory } }).exports
const kernels = kernelNames.map((qualified) => {
  const [module, name] = qualified.split('.')
  return exportsOf[module][name]
})
const beats = new Int32Array(control, ${HEADER_BYTES}, threads)
const perThread = new Float64Array(control, ${HEADER_BYTES} + threads * 8, threads)
const jobs = new Float64Array(control, ${HEADER_BYTES} + threads * 16)
// A test's stand-in for a helper the machine never runs (KOTOBA_FAULT_POOL_HELPER_ASLEEP): it never takes a call.
if (asleep) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
let seen = 0
let jobsDone = 0
for (;;) {
  Atomics.wait(state, ${GENERATION}, seen)
  Atomics.add(state, ${INSIDE}, 1)
  const generation = Atomics.load(state, ${GENERATION})
  if ((generation & 1) === 0 && generation !== seen) {
    Atomics.add(beats, index, 1)
    try {
      const [kernel, count, argc, extra] = [kernels[state[5]], state[4], state[6], state[7]]
      for (let job = Atomics.add(state, ${NEXT_JOB}, 1); job < count; job = Atomics.add(state, ${NEXT_JOB}, 1)) {
        // A test's stand-in for a helper killed mid-step (KOTOBA_FAULT_POOL_HELPER_EXIT): it dies holding a job.
        if (exitAfterJobs > 0 && ++jobsDone >= exitAfterJobs) process.exit(1)
        const args = jobs.subarray(job * ${MAX_ARGS}, job * ${MAX_ARGS} + argc)
        if (extra) kernel(...args, perThread[index])
        else kernel(...args)
        Atomics.add(beats, index, 1)
        if (Atomics.add(state, ${DONE}, 1) + 1 === count) Atomics.notify(state, ${DONE})
      }
    } catch {
      Atomics.store(state, ${FAILED}, 1)
      Atomics.notify(state, ${DONE})
    }
  }
  seen = generation
  if (Atomics.sub(state, ${INSIDE}, 1) === 1) Atomics.notify(state, ${INSIDE})
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
  private readonly kernelNames: string[] = []
  private state!: Int32Array
  private beats!: Int32Array
  private gone!: Int32Array
  private perThread!: Float64Array
  private jobs!: Float64Array
  private helpers: Worker[] = []

  /** `modules` by name, each importing `env.memory`; kernels are then named `module.export`. */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly modules: Record<string, WebAssembly.Module>,
    threads: number,
  ) {
    const shared = memory.buffer instanceof SharedArrayBuffer
    this.threads = shared ? Math.max(1, threads) : 1
    for (const [name, module] of Object.entries(modules)) {
      this.local[name] = new WebAssembly.Instance(module, { env: { memory } }).exports
      for (const entry of WebAssembly.Module.exports(module)) {
        if (entry.kind !== 'function') continue
        this.kernelIndex.set(`${name}.${entry.name}`, this.kernelNames.length)
        this.kernelNames.push(`${name}.${entry.name}`)
      }
    }
    this.startHelpers(Number(process.env.KOTOBA_FAULT_POOL_HELPER_EXIT ?? 0))
  }

  /** Fresh control memory and helper threads (the old ones, if any, are ended). */
  private startHelpers(exitAfterJobs = 0): void {
    for (const helper of this.helpers) void helper.terminate()
    const threads = this.threads
    const control = new SharedArrayBuffer(HEADER_BYTES + threads * 16 + (threads > 1 ? MAX_JOBS * MAX_ARGS * 8 : 0))
    this.state = new Int32Array(control, 0, 12)
    this.beats = new Int32Array(control, HEADER_BYTES, threads)
    this.gone = new Int32Array(control, HEADER_BYTES + threads * 4, threads)
    this.perThread = new Float64Array(control, HEADER_BYTES + threads * 8, threads)
    this.jobs = new Float64Array(control, HEADER_BYTES + threads * 16)
    this.helpers = []
    for (let index = 1; index < threads; index++) {
      const asleep = index === 1 && process.env.KOTOBA_FAULT_POOL_HELPER_ASLEEP === '1'
      const workerData = { memory: this.memory, modules: this.modules, kernelNames: this.kernelNames, control, threads, index, exitAfterJobs: index === 1 ? exitAfterJobs : 0, asleep }
      const helper = new Worker(helperSource, { eval: true, workerData })
      helper.unref() // blocked in Atomics.wait between calls; must not keep the process alive
      helper.on('error', () => undefined) // its 'gone' flag tells the caller; the error itself must not crash the engine
      this.helpers.push(helper)
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
    if (jobs.some((job) => job.length !== argc)) throw new Error(`wasm pool: every job of ${kernel} needs ${argc} arguments`)
    // A helper that died between calls held no job: start a full set again before this call, nothing lost.
    if (this.gone.some((flag) => flag !== 0)) this.startHelpers()
    // Close the previous call to late helpers, wait for any still inside it, then write and publish this one.
    Atomics.add(this.state, GENERATION, 1)
    this.waitWhileHelpers(kernel, INSIDE, () => Atomics.load(this.state, INSIDE) !== 0)
    jobs.forEach((job, i) => this.jobs.set(job, i * MAX_ARGS))
    if (perThread) this.perThread.set(perThread.slice(0, this.threads))
    this.state.set([0, jobs.length, index, argc, perThread ? 1 : 0, 0], NEXT_JOB)
    Atomics.store(this.state, FAILED, 0)
    Atomics.add(this.state, GENERATION, 1)
    Atomics.notify(this.state, GENERATION)
    const count = jobs.length
    try {
      for (let job = Atomics.add(this.state, NEXT_JOB, 1); job < count; job = Atomics.add(this.state, NEXT_JOB, 1)) {
        runHere(jobs[job]!)
        Atomics.add(this.state, DONE, 1)
      }
    } catch (error) {
      // No more jobs for anyone; the helpers finish the ones they hold before their memory may be reused.
      Atomics.store(this.state, NEXT_JOB, count)
      this.waitWhileHelpers(kernel, INSIDE, () => Atomics.load(this.state, INSIDE) !== 0)
      throw error
    }
    // Every job done, or a helper failed one (it has left or is leaving: then wait for the rest to leave).
    this.waitWhileHelpers(kernel, DONE, () => Atomics.load(this.state, DONE) < count && Atomics.load(this.state, FAILED) === 0)
    if (Atomics.load(this.state, FAILED) !== 0) {
      this.waitWhileHelpers(kernel, INSIDE, () => Atomics.load(this.state, INSIDE) !== 0)
      Atomics.store(this.state, FAILED, 0)
      throw new Error(`wasm pool: ${kernel} failed on a helper thread (memory out of bounds?)`)
    }
  }

  /** Waits (on header slot `slot`) while `busy()`. Slow is not dead: any heartbeat resets the stall clock; a helper
   *  that has exited, or none moving for STALL_MS, restarts the pool and fails this call as retryable. */
  private waitWhileHelpers(kernel: string, slot: number, busy: () => boolean): void {
    let lastBeats = this.beatSum()
    let lastMove = Date.now()
    for (let value = Atomics.load(this.state, slot); busy(); value = Atomics.load(this.state, slot)) {
      if (this.gone.some((flag) => flag !== 0)) this.lose(kernel, 'exited')
      if (Atomics.wait(this.state, slot, value, 250) !== 'timed-out') continue
      const beats = this.beatSum()
      if (beats !== lastBeats) {
        lastBeats = beats
        lastMove = Date.now()
      } else if (Date.now() - lastMove > STALL_MS) this.lose(kernel, `stopped responding for ${STALL_MS / 1000} s`)
    }
  }

  private beatSum(): number {
    return this.beats.reduce((sum, beat) => sum + beat, 0)
  }

  private lose(kernel: string, reason: string): never {
    this.startHelpers()
    throw new PoolHelperLostError(kernel, reason)
  }
}
