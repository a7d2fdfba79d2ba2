// GPU buffers as a bounded resource. tfjs-backend-webgpu creates a buffer of any size it is asked for; past the
// device's limits that is an error buffer, reported only asynchronously, and every kernel that binds it computes
// nothing: a training would go on with garbage. The buffer manager is checked here before it creates anything: a
// tensor over the limits is an OutOfMemoryError (the trainer splits the batch). Below the limits the device itself can
// run out of memory (a full GPU); that too is reported only later, so each buffer's creation is watched, and an update
// learns of it before its optimizer runs (deviceUpdateWatch), other work (a validation, an evaluation) before its
// results count (deviceWorkWatch). Other errors the device reports are kept for the trainer to read after each update.
// tfjs's pool of released buffers is bounded (boundPool). KOTOBA_GPU_MEMORY_MIB caps the bytes the engine's buffers
// take on the GPU (a GPU shared with other work), pooled ones included: the pool is released before the cap refuses.
import * as tf from '@tensorflow/tfjs'
import { objectId } from './bind-group-reuse.ts'
import { watchGpuLoss, type LosableDevice } from './gpu-loss.ts'
import { bytesFromEnvironment, formatBytes, OutOfMemoryError } from './out-of-memory.ts'
import type { DeviceErrorWatch } from '../../../models/train/train-step.ts'

/** GPUBufferUsage.STORAGE: the usage of a buffer a shader binds, bounded by maxStorageBufferBindingSize. */
const STORAGE_USAGE = 0x80

interface DeviceLimits {
  maxBufferSize: number
  maxStorageBufferBindingSize: number
}

interface GpuBufferLike {
  readonly size: number
  destroy(): void
}

/** What the guard needs of tfjs-backend-webgpu 4.22's backend. */
export interface WebGpuBackendLike {
  device: {
    limits: DeviceLimits
    addEventListener(type: 'uncapturederror', listener: (event: { error: { message: string } }) => void): void
    createBuffer(descriptor: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBufferLike
    pushErrorScope(filter: 'validation' | 'out-of-memory'): void
    popErrorScope(): Promise<{ message: string } | null>
    lost: LosableDevice['lost']
    destroy(): void
  }
  bufferManager: {
    acquireBuffer(size: number, usage: number, mappedAtCreation?: boolean, reuse?: boolean): unknown
    releaseBuffer(buffer: GpuBufferLike, reuse?: boolean): void
    /** Released buffers kept for reuse, by size and usage. */
    freeBuffers: Map<string, GpuBufferLike[]>
    numFreeBuffers: number
    /** Bytes of every buffer it made and has not destroyed, pooled ones included. */
    numBytesAllocated: number
    /** Bytes of the buffers in use (not pooled). */
    numBytesUsed: number
  }
  /** What has been recorded and not yet submitted; null when nothing has. */
  commandEncoder: object | null
  ensureCommandEncoderReady(): void
  endComputePassEncoder(): void
  submitQueue(): void
  queue: { writeBuffer(buffer: GpuBufferLike, offset: number, data: ArrayBufferLike, dataOffset: number, size: number): void }
  tensorMap: { get(dataId: object): UploadedTensor }
  uploadToGPU(dataId: object): void
}

/** A tensor's entry in the backend: its values on the CPU until uploaded, then its buffer. */
interface UploadedTensor {
  dtype: tf.DataType
  shape: number[]
  values: tf.TypedArray | null
  resource: unknown
}

/** The usage tfjs gives a tensor's buffer: STORAGE | COPY_SRC | COPY_DST. */
const TENSOR_USAGE = 0x80 | 0x04 | 0x08

/** At most this many of each kind of error are kept: one failing update can report thousands. */
const KEPT_ERRORS = 8

let guardedBackend: WebGpuBackendLike | null = null
let deviceErrors: string[] = []
/** Buffers the device could not allocate, not yet taken by an update (or the trainer). */
let outOfMemory: { bytes: number; message: string }[] = []
/** Each new buffer's out-of-memory check, until it has answered. */
const pendingChecks = new Set<Promise<void>>()
/** Error buffers: never pooled for reuse, or a later tensor would be garbage too. */
const failedBuffers = new WeakSet<GpuBufferLike>()

/** The user's cap on the bytes of the engine's GPU buffers; undefined until set or read from the environment. */
let limitBytes: number | null | undefined

/** Caps the bytes the engine's GPU buffers take, pooled ones included (null: as much as the device gives);
 *  KOTOBA_GPU_MEMORY_MIB sets it at start. A pool over a new cap is freed. */
export function setGpuMemoryLimit(bytes: number | null): void {
  limitBytes = bytes
  const manager = guardedBackend?.bufferManager
  if (bytes !== null && manager && manager.numBytesAllocated > bytes) releaseFreeBuffers(manager)
}

/** The cap in force (null: none). */
export function gpuMemoryLimit(): number | null {
  return limitBytes ?? null
}

/** The most bytes the engine's GPU buffers held in use at once since resetGpuPeak. */
let peakBytes = 0

/** What the guarded webgpu backend's buffers hold in use now and at most since resetGpuPeak, or null where it is not
 *  the backend in use. */
export function gpuMemoryUsage(): { heldBytes: number; peakBytes: number } | null {
  const backend = activeGuardedBackend()
  return backend && { heldBytes: backend.bufferManager.numBytesUsed, peakBytes }
}

/** The guarded webgpu backend where it is the backend in use, else null. */
function activeGuardedBackend(): WebGpuBackendLike | null {
  const backend = guardedBackend
  return backend && tf.getBackend() === 'webgpu' && (tf.backend() as unknown) === backend ? backend : null
}

/** Starts a new peak from what is held now. */
export function resetGpuPeak(): void {
  peakBytes = guardedBackend?.bufferManager.numBytesUsed ?? 0
}

/** The largest buffer of this usage the device allows. */
export function largestBuffer(limits: DeviceLimits, usage: number): number {
  return usage & STORAGE_USAGE ? Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize) : limits.maxBufferSize
}

/** Checks every buffer the backend creates against the device's limits and watches its allocation, and keeps the
 *  errors the device reports. */
export function guardWebGpuBuffers(backend: WebGpuBackendLike): void {
  if (guardedBackend === backend) return
  guardedBackend = backend
  limitBytes ??= bytesFromEnvironment('KOTOBA_GPU_MEMORY_MIB')
  pool = newPoolState()
  const { device, bufferManager: manager } = backend
  const acquire = manager.acquireBuffer.bind(manager)
  manager.acquireBuffer = (size, usage, mappedAtCreation, reuse) => {
    const largest = largestBuffer(device.limits, usage)
    if (size > largest) {
      throw new OutOfMemoryError(size, `the GPU's largest buffer is ${(largest / 2 ** 20).toFixed(0)} MiB`, null, '')
    }
    const key = `${size}_${usage}` // tfjs's pool key
    const limit = gpuMemoryLimit()
    // A buffer taken from the pool adds nothing: only one to be created is checked.
    if (limit !== null && manager.numBytesAllocated + size > limit && (reuse === false || !manager.freeBuffers.get(key)?.length)) {
      // Room the pool holds is the cap's first.
      releaseFreeBuffers(manager)
      if (manager.numBytesAllocated + size > limit) {
        const where = `the GPU memory limit of ${formatBytes(limit)} (KOTOBA_GPU_MEMORY_MIB) would be passed; tensors hold ${formatBytes(manager.numBytesUsed)}`
        throw new OutOfMemoryError(size, where, limit, ', or raise KOTOBA_GPU_MEMORY_MIB')
      }
    }
    pool.lastAcquired.set(key, ++pool.acquisitions)
    if (reuse !== false) takeOldestNext(manager.freeBuffers.get(key))
    const buffer = acquire(size, usage, mappedAtCreation, reuse)
    pool.peakUsedBytes = Math.max(pool.peakUsedBytes, manager.numBytesUsed)
    peakBytes = Math.max(peakBytes, manager.numBytesUsed)
    return buffer
  }
  const release = manager.releaseBuffer.bind(manager)
  manager.releaseBuffer = (buffer, reuse) => {
    release(buffer, reuse !== false && !failedBuffers.has(buffer))
    boundPool(manager)
  }
  // Every buffer, tfjs's and our kernels', in its own scope: the answer comes without waiting for the GPU's work.
  const createBuffer = device.createBuffer.bind(device)
  device.createBuffer = (descriptor) => {
    device.pushErrorScope('out-of-memory')
    const buffer = createBuffer(descriptor)
    objectId(buffer) // numbered as made: the pool hands out the oldest first
    const check = device.popErrorScope().then(
      (error) => {
        if (!error) return
        failedBuffers.add(buffer)
        if (outOfMemory.length < KEPT_ERRORS) outOfMemory.push({ bytes: descriptor.size, message: error.message })
      },
      (error: unknown) => keepDeviceError(String(error)),
    )
    pendingChecks.add(check)
    void check.finally(() => pendingChecks.delete(check))
    return buffer
  }
  device.addEventListener('uncapturederror', (event) => keepDeviceError(event.error.message))
  watchGpuLoss(device)
  uploadThroughQueue(backend)
}

/** Puts the oldest of `free` last, where tfjs's pool takes from. Taking the last released (tfjs) hands a step a
 *  different buffer at each update as the order of releases shuffles the pool; taking the oldest, a step of one
 *  shape gets the same buffers every update, so its bind groups are reused (bind-group-reuse.ts). */
function takeOldestNext(free: GpuBufferLike[] | undefined): void {
  if (!free || free.length < 2) return
  let oldest = free.length - 1
  for (let i = 0; i < free.length - 1; i++) if (objectId(free[i]!) < objectId(free[oldest]!)) oldest = i
  ;[free[oldest], free[free.length - 1]] = [free[free.length - 1]!, free[oldest]!]
}

/** Uploads written by the queue, not recorded as copies among the commands: the device drops a command buffer it
 *  rejects (one binding a buffer it could not allocate) whole, and a parameter first uploaded in it would lose its
 *  values. Otherwise as tfjs uploads (float32 as is; int32 and bool as 32-bit integers). */
function uploadThroughQueue(backend: WebGpuBackendLike): void {
  const upload = backend.uploadToGPU.bind(backend)
  backend.uploadToGPU = (dataId) => {
    const tensor = backend.tensorMap.get(dataId)
    const values = tensor.values
    if (tensor.resource != null || values == null || values.length === 0 || !['float32', 'int32', 'bool'].includes(tensor.dtype)) return upload(dataId)
    const words = tensor.dtype === 'float32' ? asArray(values, Float32Array) : asArray(values, Int32Array)
    const buffer = backend.bufferManager.acquireBuffer(words.byteLength, TENSOR_USAGE) as GpuBufferLike
    backend.queue.writeBuffer(buffer, 0, words.buffer, words.byteOffset, words.byteLength)
    tensor.resource = buffer
    tensor.values = null // as tfjs: once uploaded, the values live on the GPU only
  }
}

function asArray<T extends Float32Array | Int32Array>(values: tf.TypedArray, type: { new (values: ArrayLike<number>): T }): T {
  return values instanceof type ? values : new type(values as ArrayLike<number>)
}

function keepDeviceError(message: string): void {
  if (deviceErrors.length < KEPT_ERRORS) deviceErrors.push(message)
}

/** The errors the device reported since the last call, allocations that failed outside an update's watch included
 *  (none: an empty list). */
export function takeDeviceErrors(): string[] {
  const errors = [...deviceErrors, ...outOfMemory.map((failure) => failure.message)]
  deviceErrors = []
  outOfMemory = []
  return errors
}

/** Updates watched in this process: a test loses the GPU as update KOTOBA_FAULT_GPU_LOST_AT_UPDATE begins. */
let updatesWatched = 0

/** The watch over one update's gradients on the guarded webgpu backend, or undefined on another backend. */
export function deviceUpdateWatch(): DeviceErrorWatch | undefined {
  const watch = deviceWorkWatch("the update's work")
  if (!watch) return undefined
  return {
    begin() {
      // A test's stand-in for a driver reset mid-training: the device is destroyed as this update begins.
      if (++updatesWatched === Number(process.env['KOTOBA_FAULT_GPU_LOST_AT_UPDATE'])) guardedBackend?.device.destroy()
      pool.updateStarts = [...pool.updateStarts, pool.acquisitions].slice(-2)
      watch.begin()
    },
    end: () => watch.end(),
  }
}

/** The watch over a piece of work on the guarded webgpu backend (an update's gradients, a validation), or undefined
 *  on another backend; `work` names it in the error. Its end says whether the work ran out of memory or was
 *  rejected, so its results are garbage: the failure is the work's, not the next update's. */
export function deviceWorkWatch(work: string): DeviceErrorWatch | undefined {
  const backend = activeGuardedBackend()
  if (!backend) return undefined
  return {
    begin() {
      submitQueued(backend) // work queued before is not this work's
      backend.device.pushErrorScope('validation')
    },
    async end() {
      // Commands are validated when their encoder finishes: finish the work's inside its scope.
      submitQueued(backend)
      const invalid = await backend.device.popErrorScope()
      await Promise.all(pendingChecks)
      const [full] = outOfMemory
      outOfMemory = []
      if (full) {
        // The work run next (the same again, or smaller pieces) needs room, not the pool of this work's buffers.
        const freed = releaseFreeBuffers(backend.bufferManager)
        // The invalid commands were the failed buffer's consequence.
        const error = new OutOfMemoryError(full.bytes, `the GPU's memory is full (${full.message.split('\n')[0]})`, null, '')
        error.pooledBytesFreed = freed
        return error
      }
      return invalid ? new Error(`the GPU rejected ${work}: ${invalid.message.split('\n')[0]}`) : null
    },
  }
}

/** Runs `run` under a device watch on the guarded webgpu backend (directly on another backend): an error the device
 *  reports for its work only afterwards (a buffer it could not allocate) fails it, for its results were garbage. */
export async function watchedOnDevice<T>(work: string, run: () => Promise<T>): Promise<T> {
  const watch = deviceWorkWatch(work)
  if (!watch) return run()
  watch.begin()
  let result: T
  try {
    result = await run()
  } catch (error) {
    throw (await watch.end()) ?? error // the device's report explains a failure its garbage caused
  }
  const failure = await watch.end()
  if (failure) throw failure
  return result
}

/** Finishes and submits what the backend has recorded, if anything. */
function submitQueued(backend: WebGpuBackendLike): void {
  if (!backend.commandEncoder) return
  backend.endComputePassEncoder()
  backend.submitQueue()
}

/** What bounds tfjs's pool of released buffers: when each size was last asked for (counting acquisitions), when the
 *  last two updates began, and the most bytes in use at once. */
let pool = newPoolState()

function newPoolState() {
  return { lastAcquired: new Map<string, number>(), acquisitions: 0, updateStarts: [] as number[], peakUsedBytes: 0 }
}

/** Acquisitions that are never trimmed where no update marks the steps (an evaluation, a decoding): tensors' buffers
 *  and a loop's or an arena's uniforms (uniform-arena.ts), ~2 updates of the tests' small Transformer. Counted when
 *  every dispatch took a uniform buffer too, 1,024 was about as many updates. */
const RECENT_ACQUISITIONS = 512

/** tfjs keeps every released buffer for reuse and never destroys one, so each new tensor size (each new batch shape:
 *  token-budget batches have many) adds buffers that stay: a long run's pool grows until the GPU is full, and the
 *  trainer would split its batches for memory the pool holds. Once the pool holds more bytes than were ever in use at
 *  once, the sizes asked for least recently are destroyed until it holds half that, but never a size asked for since
 *  the previous update began: steps of one shape keep all their buffers. Pooled buffers were released at a submit, so
 *  destroying one does not touch work still queued: the device frees it once that work is done. */
function boundPool(manager: WebGpuBackendLike['bufferManager']): void {
  const limit = pool.peakUsedBytes
  if (manager.numBytesAllocated - manager.numBytesUsed <= limit) return
  const recentSince = pool.updateStarts.length === 2 ? Math.min(pool.updateStarts[0]!, pool.acquisitions - RECENT_ACQUISITIONS) : pool.acquisitions - RECENT_ACQUISITIONS
  const stale = [...manager.freeBuffers.keys()].filter((key) => (pool.lastAcquired.get(key) ?? 0) < recentSince)
  stale.sort((a, b) => (pool.lastAcquired.get(a) ?? 0) - (pool.lastAcquired.get(b) ?? 0))
  for (const key of stale) {
    // The key stays (tfjs's release pushes to it): only its buffers go.
    for (const buffer of manager.freeBuffers.get(key)!.splice(0)) {
      manager.numBytesAllocated -= buffer.size
      manager.numFreeBuffers--
      buffer.destroy()
    }
    if (manager.numBytesAllocated - manager.numBytesUsed <= limit / 2) return
  }
}

/** Destroys the pooled buffers no tensor holds (tfjs makes new ones as they are asked for); the bytes freed. */
function releaseFreeBuffers(manager: WebGpuBackendLike['bufferManager']): number {
  let freed = 0
  for (const buffers of manager.freeBuffers.values()) {
    for (const buffer of buffers.splice(0)) {
      manager.numBytesAllocated -= buffer.size
      manager.numFreeBuffers--
      freed += buffer.size
      buffer.destroy()
    }
  }
  return freed
}
