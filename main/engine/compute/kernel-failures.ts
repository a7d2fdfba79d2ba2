// A kernel that throws part-way (out of memory at its second output, or in an intermediate) leaves behind what it had
// made: outputs no tensor owns, and the references it took on its inputs' data to share it (a reshape inside a
// product). tfjs frees neither, so every update that failed (and was split, or retried) held more memory for good.
// Every kernel of the backend is wrapped once: when one throws, what it made or shared and did not give back is.
import * as tf from '@tensorflow/tfjs'

/** What a backend's kernels make and share data through: wasm's makeOutput, webgpu's makeTensorInfo. */
export type KernelDataBackend<M extends string> = Record<M, (...args: never[]) => tf.TensorInfo> & {
  incRef(dataId: object): void
  disposeData(dataId: object, force?: boolean): boolean
}

/** What tfjs's engine says of the kernels running and of the data its tensors own. */
interface EngineState {
  state: { kernelDepth: number; tensorInfo: WeakMap<object, unknown> }
}

/** What one running kernel made and shared and has not yet given back (null: nothing yet; most kernels make one
 *  output and share nothing, and every kernel call keeps a record, so it stays cheap). */
interface KernelRecord {
  state: EngineState['state']
  depth: number
  made: object[] | null
  shared: object[] | null
}

const running: KernelRecord[] = []
const hookedBackends = new WeakSet<object>()
const failureSafe = new WeakSet<tf.KernelFunc>()

const engineState = () => (tf.engine() as unknown as EngineState).state

/** The record of the kernel running at this depth: kernels it calls through the engine (a deeper depth) make tensors
 *  the engine owns, and keep records of their own. */
function currentRecord(): KernelRecord | undefined {
  const top = running[running.length - 1]
  return top !== undefined && top.state.kernelDepth === top.depth ? top : undefined
}

/** Records, for the running kernel, the data the backend makes, shares and releases. */
function hookBackend<M extends string>(backend: KernelDataBackend<M>, maker: M): void {
  if (hookedBackends.has(backend)) return
  hookedBackends.add(backend)
  const make = backend[maker].bind(backend)
  backend[maker] = ((...args: never[]) => {
    const info = make(...args)
    const record = currentRecord()
    if (record) (record.made ??= []).push(info.dataId)
    return info
  }) as KernelDataBackend<M>[M]
  const incRef = backend.incRef.bind(backend)
  backend.incRef = (dataId) => {
    incRef(dataId)
    const record = currentRecord()
    if (record) (record.shared ??= []).push(dataId)
  }
  const disposeData = backend.disposeData.bind(backend)
  backend.disposeData = (dataId, force) => {
    const record = currentRecord()
    if (record) {
      const shared = record.shared?.lastIndexOf(dataId) ?? -1
      if (shared >= 0) record.shared!.splice(shared, 1)
      else if (record.made) {
        const made = record.made.lastIndexOf(dataId)
        if (made >= 0) record.made.splice(made, 1)
      }
    }
    return disposeData(dataId, force)
  }
}

/** The kernel, giving back what it made and shared when it throws. */
function undoingOnFailure(kernelFunc: tf.KernelFunc): tf.KernelFunc {
  const wrapped: tf.KernelFunc = (args) => {
    const state = engineState()
    const record: KernelRecord = { state, depth: state.kernelDepth, made: null, shared: null }
    running.push(record)
    let outputs: ReturnType<tf.KernelFunc>
    try {
      outputs = kernelFunc(args)
    } catch (error) {
      running.pop()
      const backend = args.backend as unknown as KernelDataBackend<never>
      for (const dataId of record.shared ?? []) backend.disposeData(dataId)
      const owned = state.tensorInfo
      for (const dataId of record.made ?? []) if (!owned.has(dataId)) backend.disposeData(dataId, true)
      throw error
    }
    running.pop()
    // A kernel called directly by another (a stock fallback) made the caller's outputs: the caller may still fail.
    const caller = running[running.length - 1]
    if (caller && caller.depth === record.depth) {
      if (record.made) (caller.made ??= []).push(...record.made)
      if (record.shared) (caller.shared ??= []).push(...record.shared)
    }
    return outputs
  }
  failureSafe.add(wrapped)
  return wrapped
}

/** Records what the backend's kernels make and share, and wraps every kernel registered for it now (once each),
 *  ours and tfjs's. Costs ~1 µs a kernel call (tfjs's engine takes ~7). */
export function undoFailedKernels<M extends string>(backendName: string, backend: KernelDataBackend<M>, maker: M): void {
  hookBackend(backend, maker)
  for (const config of tf.getKernelsForBackend(backendName)) {
    if (failureSafe.has(config.kernelFunc)) continue
    tf.unregisterKernel(config.kernelName, backendName)
    tf.registerKernel({ ...config, kernelFunc: undoingOnFailure(config.kernelFunc) })
  }
}
