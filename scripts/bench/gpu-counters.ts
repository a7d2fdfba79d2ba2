// Counts what a piece of work asks of the GPU through the tfjs webgpu backend: compute dispatches (the stock
// programs and our fused shaders both end in dispatchWorkgroups), queue submits, uniform and data uploads
// (queue.writeBuffer), buffers created, and read-backs (mapAsync: each one a host sync). Hardware-independent, so
// the counts from a software Vulkan device are those of a real GPU.
import * as tf from '@tensorflow/tfjs'
import { bindGroupCounts } from '../../main/engine/compute/bind-group-reuse.ts'

export interface GpuCounts {
  dispatches: number
  submits: number
  uploads: number
  buffersCreated: number
  /** Bind groups the device made (not those it reused: bind-group-reuse.ts). */
  bindGroupsMade: number
  readbacks: number
  /** Dispatches by the innermost tfjs kernel that recorded them (a gradient's kernels under their own names). */
  byKernel: Record<string, number>
}

interface CountedPass {
  dispatchWorkgroups(...sizes: number[]): void
}
interface CountedEncoder {
  beginComputePass(descriptor: object): CountedPass
}
interface CountedBackend {
  commandEncoder: CountedEncoder | null
  ensureCommandEncoderReady(): void
  device: { createBuffer(descriptor: object): unknown; queue: { submit(buffers: unknown[]): void; writeBuffer(...args: unknown[]): void } }
}

/** Tracks the tfjs kernels running now, innermost last (a dispatch belongs to the innermost), until `stop`. */
function trackRunningKernels(): { innermost(): string; stop(): void } {
  const running: string[] = []
  const engine = tf.engine() as unknown as { runKernel(name: string, ...rest: unknown[]): unknown }
  const runKernel = engine.runKernel
  engine.runKernel = function (this: unknown, name: string, ...rest: unknown[]) {
    running.push(name)
    try {
      return runKernel.call(this, name, ...rest)
    } finally {
      running.pop()
    }
  }
  return { innermost: () => running.at(-1) ?? '(outside kernels)', stop: () => void (engine.runKernel = runKernel) }
}

/** Hands every compute pass the backend begins to `wrap` (with the encoder's own beginComputePass), until the
 *  returned function restores the backend. */
function interceptPasses<P>(backend: { commandEncoder: object | null; ensureCommandEncoderReady(): void }, wrap: (begin: (descriptor: object) => P, descriptor: object) => P): () => void {
  const wrapped = Symbol('passes intercepted')
  const ensure = backend.ensureCommandEncoderReady
  backend.ensureCommandEncoderReady = function (this: typeof backend) {
    ensure.call(this)
    const encoder = this.commandEncoder as { beginComputePass(descriptor: object): P; [wrapped]?: true }
    if (encoder[wrapped]) return
    encoder[wrapped] = true
    const begin = encoder.beginComputePass.bind(encoder)
    encoder.beginComputePass = (descriptor: object) => wrap(begin, descriptor)
  }
  return () => void (backend.ensureCommandEncoderReady = ensure)
}

/** `pass`, calling `after` after each of its dispatches. */
function onEachDispatch<P extends CountedPass>(pass: P, after: () => void): P {
  const dispatch = pass.dispatchWorkgroups.bind(pass)
  pass.dispatchWorkgroups = (...sizes: number[]) => {
    dispatch(...sizes)
    after()
  }
  return pass
}

/** Counts until the returned function is called, which stops counting and returns the totals. */
export function countGpuWork(): () => GpuCounts {
  if (tf.getBackend() !== 'webgpu') throw new Error('countGpuWork: the active backend is not webgpu')
  const backend = tf.backend() as unknown as CountedBackend
  const counts: GpuCounts = { dispatches: 0, submits: 0, uploads: 0, buffersCreated: 0, bindGroupsMade: 0, readbacks: 0, byKernel: {} }
  let counting = true
  const kernels = trackRunningKernels()
  const restorePasses = interceptPasses<CountedPass>(backend, (begin, descriptor) =>
    onEachDispatch(begin(descriptor), () => {
      if (!counting) return
      counts.dispatches++
      const kernel = kernels.innermost()
      counts.byKernel[kernel] = (counts.byKernel[kernel] ?? 0) + 1
    }),
  )
  const { device } = backend
  const { queue } = device
  const bindGroupsBefore = bindGroupCounts(device)?.made ?? 0
  const [submit, writeBuffer, createBuffer] = [queue.submit, queue.writeBuffer, device.createBuffer]
  queue.submit = function (buffers: unknown[]) {
    if (counting) counts.submits++
    return submit.call(queue, buffers)
  }
  queue.writeBuffer = function (...args: unknown[]) {
    if (counting) counts.uploads++
    return writeBuffer.apply(queue, args)
  }
  device.createBuffer = function (descriptor: object) {
    if (counting) counts.buffersCreated++
    return createBuffer.call(device, descriptor)
  }
  // Staging buffers are pooled, so read-backs are counted on every buffer, old ones included.
  const bufferPrototype = (globalThis as { GPUBuffer?: { prototype: { mapAsync(...args: unknown[]): Promise<void> } } }).GPUBuffer!.prototype
  const mapAsync = bufferPrototype.mapAsync
  bufferPrototype.mapAsync = function (this: unknown, ...args: unknown[]) {
    if (counting) counts.readbacks++
    return mapAsync.apply(this, args)
  }
  return () => {
    counting = false
    counts.bindGroupsMade = (bindGroupCounts(device)?.made ?? 0) - bindGroupsBefore
    kernels.stop()
    restorePasses()
    queue.submit = submit
    queue.writeBuffer = writeBuffer
    device.createBuffer = createBuffer
    bufferPrototype.mapAsync = mapAsync
    return { ...counts, byKernel: { ...counts.byKernel } }
  }
}

/** The GPU's own time per tfjs kernel (timestamp queries), in ms, and the dispatches it was measured over. */
export interface GpuKernelTimes {
  /** The sum over every timed dispatch: how long the GPU was busy (each dispatch in its own pass, so a little more). */
  busyMs: number
  dispatches: number
  /** Dispatches past the query set's capacity, not timed. */
  untimed: number
  byKernel: Record<string, { dispatches: number; ms: number }>
}

interface TimedPass extends CountedPass {
  end(): void
}
interface TimedBackend {
  commandEncoder: { beginComputePass(descriptor: object): TimedPass } | null
  computePassEncoder: TimedPass | null
  ensureCommandEncoderReady(): void
  device: {
    features: { has(name: string): boolean }
    createQuerySet(descriptor: { type: 'timestamp'; count: number }): { destroy(): void }
    createBuffer(descriptor: { size: number; usage: number }): { mapAsync(mode: number): Promise<void>; getMappedRange(): ArrayBuffer; unmap(): void; destroy(): void }
    createCommandEncoder(): {
      resolveQuerySet(set: unknown, first: number, count: number, destination: unknown, offset: number): void
      copyBufferToBuffer(source: unknown, sourceOffset: number, destination: unknown, destinationOffset: number, size: number): void
      finish(): unknown
    }
    queue: { submit(buffers: unknown[]): void }
  }
}

/** WebGPU's largest query set: a begin and an end timestamp per dispatch. */
const TIMESTAMP_CAPACITY = 4096
/** GPUBufferUsage: QUERY_RESOLVE | COPY_SRC, and MAP_READ | COPY_DST. */
const [RESOLVE_USAGE, READBACK_USAGE] = [0x200 | 0x4, 0x1 | 0x8]

/**
 * Times every dispatch on the GPU until the returned function is called: each dispatch runs in its own compute pass
 * with timestamps written at its start and end. The passes add a little (no overlap of one kernel's tail with the
 * next's start), so the totals are the kernels' own time, a bound on what fusing can save. Null where the device has
 * no timestamp queries.
 */
export function timeGpuKernels(): (() => Promise<GpuKernelTimes>) | null {
  if (tf.getBackend() !== 'webgpu') throw new Error('timeGpuKernels: the active backend is not webgpu')
  const backend = tf.backend() as unknown as TimedBackend
  const { device } = backend
  if (!device.features.has('timestamp-query')) return null
  const querySet = device.createQuerySet({ type: 'timestamp', count: TIMESTAMP_CAPACITY })
  const timed: string[] = []
  let untimed = 0
  const kernels = trackRunningKernels()
  const restorePasses = interceptPasses<TimedPass>(backend, (begin, descriptor) => {
    const pair = timed.length
    if (2 * pair + 2 > TIMESTAMP_CAPACITY) return onEachDispatch(begin(descriptor), () => untimed++)
    const pass = begin({ ...descriptor, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * pair, endOfPassWriteIndex: 2 * pair + 1 } })
    timed.push('(empty pass)')
    return onEachDispatch(pass, () => {
      timed[pair] = kernels.innermost()
      // One dispatch a pass: the next dispatch begins a new pass (tfjs and our kernels both begin one when none is open).
      pass.end()
      backend.computePassEncoder = null
    })
  })
  // Called once the timed work has been read back (an awaited update), so all of it has been submitted.
  return async () => {
    restorePasses()
    kernels.stop()
    const pairs = timed.length
    const bytes = Math.max(16, 16 * pairs)
    const resolved = device.createBuffer({ size: bytes, usage: RESOLVE_USAGE })
    const readable = device.createBuffer({ size: bytes, usage: READBACK_USAGE })
    const encoder = device.createCommandEncoder()
    if (pairs > 0) encoder.resolveQuerySet(querySet, 0, 2 * pairs, resolved, 0)
    encoder.copyBufferToBuffer(resolved, 0, readable, 0, bytes)
    device.queue.submit([encoder.finish()])
    await readable.mapAsync(0x1)
    const stamps = new BigUint64Array(readable.getMappedRange().slice(0))
    readable.unmap()
    for (const buffer of [resolved, readable]) buffer.destroy()
    querySet.destroy()
    const times: GpuKernelTimes = { busyMs: 0, dispatches: 0, untimed, byKernel: {} }
    timed.forEach((kernel, pair) => {
      if (kernel === '(empty pass)') return
      const ms = Number(stamps[2 * pair + 1]! - stamps[2 * pair]!) / 1e6
      const entry = (times.byKernel[kernel] ??= { dispatches: 0, ms: 0 })
      entry.dispatches++
      entry.ms += ms
      times.busyMs += ms
      times.dispatches++
    })
    return times
  }
}
