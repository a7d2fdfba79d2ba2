// Counts what a piece of work asks of the GPU through the tfjs webgpu backend: compute dispatches (the stock
// programs and our fused shaders both end in dispatchWorkgroups), queue submits, uniform and data uploads
// (queue.writeBuffer), buffers created, and read-backs (mapAsync: each one a host sync). Hardware-independent, so
// the counts from a software Vulkan device are those of a real GPU.
import * as tf from '@tensorflow/tfjs'

export interface GpuCounts {
  dispatches: number
  submits: number
  uploads: number
  buffersCreated: number
  readbacks: number
  /** Dispatches by the innermost tfjs kernel that recorded them (a gradient's kernels under their own names). */
  byKernel: Record<string, number>
}

interface CountedPass {
  dispatchWorkgroups(...sizes: number[]): void
}
interface CountedEncoder {
  beginComputePass(descriptor: object): CountedPass
  counted?: boolean
}
interface CountedBackend {
  commandEncoder: CountedEncoder | null
  ensureCommandEncoderReady(): void
  device: { createBuffer(descriptor: object): unknown; queue: { submit(buffers: unknown[]): void; writeBuffer(...args: unknown[]): void } }
}

/** Counts until the returned function is called, which stops counting and returns the totals. */
export function countGpuWork(): () => GpuCounts {
  if (tf.getBackend() !== 'webgpu') throw new Error('countGpuWork: the active backend is not webgpu')
  const backend = tf.backend() as unknown as CountedBackend
  const counts: GpuCounts = { dispatches: 0, submits: 0, uploads: 0, buffersCreated: 0, readbacks: 0, byKernel: {} }
  let counting = true
  // The kernels running now, innermost last: a dispatch belongs to the innermost.
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
  const ensure = backend.ensureCommandEncoderReady
  backend.ensureCommandEncoderReady = function (this: CountedBackend) {
    ensure.call(this)
    const encoder = this.commandEncoder!
    if (encoder.counted) return
    encoder.counted = true
    const begin = encoder.beginComputePass.bind(encoder)
    encoder.beginComputePass = (descriptor: object) => {
      const pass = begin(descriptor)
      const dispatch = pass.dispatchWorkgroups.bind(pass)
      pass.dispatchWorkgroups = (...sizes: number[]) => {
        if (counting) {
          counts.dispatches++
          const kernel = running.at(-1) ?? '(outside kernels)'
          counts.byKernel[kernel] = (counts.byKernel[kernel] ?? 0) + 1
        }
        dispatch(...sizes)
      }
      return pass
    }
  }
  const { device } = backend
  const { queue } = device
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
    engine.runKernel = runKernel
    backend.ensureCommandEncoderReady = ensure
    queue.submit = submit
    queue.writeBuffer = writeBuffer
    device.createBuffer = createBuffer
    bufferPrototype.mapAsync = mapAsync
    return { ...counts, byKernel: { ...counts.byKernel } }
  }
}
