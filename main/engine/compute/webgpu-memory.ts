// GPU buffers as a bounded resource. tfjs-backend-webgpu creates a buffer of any size it is asked for; past the
// device's limits that is an error buffer, reported only asynchronously, and every kernel that binds it computes
// nothing: a training would go on with garbage. The buffer manager is checked here before it creates anything: a
// tensor over the limits is an OutOfMemoryError (the trainer splits the batch). Errors the device reports anyway
// (out of video memory, a lost device) are kept for the trainer to read after each update.
import { OutOfMemoryError } from './out-of-memory.ts'

/** GPUBufferUsage.STORAGE: the usage of a buffer a shader binds, bounded by maxStorageBufferBindingSize. */
const STORAGE_USAGE = 0x80

interface DeviceLimits {
  maxBufferSize: number
  maxStorageBufferBindingSize: number
}

/** What the guard needs of tfjs-backend-webgpu 4.22's backend. */
export interface WebGpuBackendLike {
  device: {
    limits: DeviceLimits
    addEventListener(type: 'uncapturederror', listener: (event: { error: { message: string } }) => void): void
  }
  bufferManager: { acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): unknown }
}

const guarded = new WeakSet<object>()
let deviceErrors: string[] = []

/** The largest buffer of this usage the device allows. */
export function largestBuffer(limits: DeviceLimits, usage: number): number {
  return usage & STORAGE_USAGE ? Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize) : limits.maxBufferSize
}

/** Checks every buffer the backend creates against the device's limits, and keeps the errors the device reports. */
export function guardWebGpuBuffers(backend: WebGpuBackendLike): void {
  if (guarded.has(backend)) return
  guarded.add(backend)
  const manager = backend.bufferManager
  const acquire = manager.acquireBuffer.bind(manager)
  manager.acquireBuffer = (size, usage, mappedAtCreation, reuse) => {
    const largest = largestBuffer(backend.device.limits, usage)
    if (size > largest) {
      throw new OutOfMemoryError(size, `the GPU's largest buffer is ${(largest / 2 ** 20).toFixed(0)} MiB`, null, '')
    }
    return acquire(size, usage, mappedAtCreation, reuse)
  }
  backend.device.addEventListener('uncapturederror', (event) => {
    // Bounded: one failing update can report thousands.
    if (deviceErrors.length < 8) deviceErrors.push(event.error.message)
  })
}

/** The errors the device reported since the last call (none: an empty list). */
export function takeDeviceErrors(): string[] {
  const errors = deviceErrors
  deviceErrors = []
  return errors
}
