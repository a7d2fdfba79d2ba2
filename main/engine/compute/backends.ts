// Picks the best TensorFlow.js backend this machine can run, best first, and says why for each.
import * as tf from '@tensorflow/tfjs'
import { cpus } from 'node:os'
import type { BackendAttempt, BackendName, ComputeReport, GpuAdapter } from '../../api/contract.ts'
import { english, message, threadCount, type LocalText } from '../../api/messages.ts'
import { backendOrder } from './backend-names.ts'
import { registerCpuTrainingKernels, registerWasmTrainingKernels, registerWebGpuTrainingKernels } from './training-kernels.ts'
import { backendGemm, type WasmBackendLike } from './wasm-backend.ts'
import { enableWasmThreads, wasmThreadCount } from './wasm-threads.ts'
import { reuseBindGroups, type BindGroupDevice } from './bind-group-reuse.ts'
import { uploadUniformsPerSubmit, type UniformBackend } from './uniform-arena.ts'
import { gpuMemoryLimit, guardWebGpuBuffers, type WebGpuBackendLike } from './webgpu-memory.ts'
import { wasmMemoryLimit } from './wasm-memory.ts'
import { bytesFromEnvironment } from './out-of-memory.ts'
import { undoFailedKernels, type KernelDataBackend } from './kernel-failures.ts'
import { giveVulkanARuntimeDir, vulkanLoaderPresent } from './vulkan-environment.ts'

export { backendOrder, parseBackendName } from './backend-names.ts'

/** A backend that cannot be used here; `detail` is the one line shown in the Devices panel. */
class Unavailable extends Error {
  constructor(
    readonly detail: LocalText,
    readonly skipped = false,
  ) {
    super(english(detail))
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n').find((line) => line.trim().length > 0)?.trim() ?? 'unknown error'
}

/**
 * Imports an optional package by name (a variable specifier, so bundlers and tsc leave it alone), or by `load`, a
 * literal import that bundles carry; either way a missing package is reported as not installed.
 */
async function importOptional(specifier: string, why: LocalText, load: () => Promise<object> = () => import(specifier)): Promise<Record<string, unknown>> {
  try {
    return (await load()) as Record<string, unknown>
  } catch (error) {
    const code = (error as { code?: string }).code
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && firstLine(error).includes(specifier)) {
      throw new Unavailable(message('notInstalled', { module: specifier, why }))
    }
    throw new Unavailable(message('moduleFailed', { module: specifier, error: firstLine(error) }))
  }
}

async function activate(name: string): Promise<void> {
  let ok: boolean
  try {
    ok = await tf.setBackend(name)
  } catch (error) {
    throw new Unavailable(message('initFailed', { name, error: firstLine(error) }))
  }
  if (!ok) throw new Unavailable(message('initRefused', { name }))
  await tf.ready()
  // A tiny computation proves the kernels run, not just that the backend registered.
  const probe = tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).sum())
  const value = (await probe.data())[0]
  probe.dispose()
  if (value !== 8) throw new Unavailable(message('wrongProbe', { name, value: String(value) }))
}

/** The slice of the WebGPU API used to choose an adapter (the `webgpu` package implements it with Dawn). */
interface GpuAdapterLike {
  info: { vendor: string; architecture: string; device?: string; description?: string; isFallbackAdapter?: boolean; subgroupMinSize?: number; subgroupMaxSize?: number }
  features: Iterable<string>
  limits: object
}

/** What an adapter offers, for the Devices panel and `kotoba info`. */
function describeAdapter(adapter: GpuAdapterLike, software: boolean): GpuAdapter {
  const { info } = adapter
  const limits: Record<string, number> = {}
  // WebIDL attributes are getters on the prototype: for…in reaches them, Object.keys would not.
  for (const name in adapter.limits) {
    const value = (adapter.limits as Record<string, unknown>)[name]
    if (typeof value === 'number') limits[name] = value
  }
  const subgroups = typeof info.subgroupMinSize === 'number' && typeof info.subgroupMaxSize === 'number' && info.subgroupMaxSize > 0
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device ?? '',
    description: info.description ?? '',
    software,
    subgroupSizes: subgroups ? { min: info.subgroupMinSize!, max: info.subgroupMaxSize! } : null,
    features: [...adapter.features].sort(),
    limits,
  }
}

/** The adapter's name as the Devices panel shows it and speeds are kept under. */
export function adapterName(adapter: GpuAdapter): string {
  const name = [adapter.vendor, adapter.architecture].filter(Boolean).join(' ')
  return adapter.device && !adapter.device.startsWith(adapter.architecture) ? `${name} (${adapter.device})` : name || adapter.description || 'unknown adapter'
}

/** A CPU implementation of WebGPU (Dawn's fallback adapter, SwiftShader, Mesa's llvmpipe). */
function isSoftwareAdapter(info: GpuAdapterLike['info']): boolean {
  return info.isFallbackAdapter === true || /swiftshader|llvmpipe/i.test(`${info.vendor} ${info.architecture}`)
}

/** Dawn's toggles for a software adapter (see the webgpu tryer). */
const softwareAdapterToggles = 'enable-dawn-features=disable_workgroup_init'

/** The adapter the last WebGPU attempt found (used or skipped), reported with the selection. */
let foundAdapter: GpuAdapter | null = null
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>
}
interface DeviceDescriptor {
  requiredLimits?: Record<string, number>
  requiredFeatures?: string[]
}

/** Storage buffers per shader the engine's device asks for where the adapter has them (WebGPU's default is 8):
 *  tfjs then concatenates up to 15 tensors per dispatch, and the flat Adam writes back 15 parameters per dispatch. */
export const wantedStorageBuffers = 16

/**
 * `gpu` as tfjs-backend-webgpu is given it: the device it requests (with a fixed set of limits) also gets the
 * storage buffers above, up to the adapter's, and subgroups where the adapter has them (our row shaders reduce with
 * them). The adapter is otherwise untouched (a proxy reading the Dawn object).
 */
function withEngineDeviceRequest(gpu: GpuLike): GpuLike {
  return {
    requestAdapter: async (options) => {
      const adapter = await gpu.requestAdapter(options)
      if (!adapter) return null
      const offered = (adapter.limits as { maxStorageBuffersPerShaderStage?: number }).maxStorageBuffersPerShaderStage ?? 8
      const dawnAdapter = adapter as unknown as { requestDevice(d: DeviceDescriptor): Promise<unknown> }
      const wantedFeatures = [...adapter.features].includes('subgroups') ? ['subgroups'] : []
      const requestDevice = async (descriptor: DeviceDescriptor = {}) => {
        const raised = { ...descriptor.requiredLimits, maxStorageBuffersPerShaderStage: Math.min(wantedStorageBuffers, offered) }
        const features = [...(descriptor.requiredFeatures ?? []), ...wantedFeatures]
        // A driver that refuses the raised limit or subgroups still gets the device tfjs asked for (the kernels adapt
        // to 8 storage buffers, and reduce in workgroup memory without subgroups).
        const device = await dawnAdapter.requestDevice({ ...descriptor, requiredLimits: raised, requiredFeatures: features }).catch(() => dawnAdapter.requestDevice(descriptor))
        reuseBindGroups(device as BindGroupDevice) // before any pipeline is made, so all keep their layouts
        return device
      }
      return new Proxy(adapter, {
        get: (target, property) => {
          if (property === 'requestDevice') return requestDevice
          const value: unknown = Reflect.get(target, property, target)
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
        },
      })
    },
  }
}

/** Each returns the one-line detail of a backend that works; `forced` relaxes the preference checks. */
const tryers: Record<BackendName, (forced: boolean) => Promise<LocalText>> = {
  'tensorflow-gpu': async () => {
    await importOptional('@tensorflow/tfjs-node-gpu', message('whyLibtensorflow'))
    await activate('tensorflow')
    return message('tensorflowGpu')
  },
  tensorflow: async () => {
    await importOptional('@tensorflow/tfjs-node', message('whyLibtensorflow'))
    await activate('tensorflow')
    return message('tensorflowCpu')
  },
  webgpu: async (forced) => {
    const dawn = await importOptional('webgpu', message('whyWebgpu'))
    const create = dawn.create as ((flags: string[]) => GpuLike) | undefined
    if (typeof create !== 'function') throw new Unavailable(message('webgpuNoCreate'))
    // Without a Vulkan loader Dawn finds no adapter anyway, after printing a warning (with a native stack line) to
    // stderr in every process that asks: ask the file system first, quietly.
    if (process.platform === 'linux' && !vulkanLoaderPresent()) throw new Unavailable(message('webgpuNoVulkan'))
    Object.assign(globalThis, dawn.globals as object)
    giveVulkanARuntimeDir()
    let gpu = create([])
    let adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
    if (!adapter) throw new Unavailable(message('webgpuNoAdapter'))
    const info = adapter.info
    const software = isSoftwareAdapter(info)
    foundAdapter = describeAdapter(adapter, software)
    if (software && !forced) {
      throw new Unavailable(message('webgpuSoftwareOnly', { adapter: info.architecture || info.vendor }), true)
    }
    if (software) {
      // A software adapter is where the kernels are verified (CI, SwiftShader), not a speed path. Its device skips
      // Dawn's zeroing of workgroup memory, which SwiftShader compiles slowly (~8 of the ~10 s our shaders took). A
      // workgroup there then sees what an earlier one left, so a shader that read a cell before writing it would fail
      // the kernel tests, where zeros could have hidden it. Hardware adapters keep WebGPU's zeroing.
      gpu = create([softwareAdapterToggles])
      adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' })
      if (!adapter || !isSoftwareAdapter(adapter.info)) throw new Unavailable(message('webgpuNoAdapter'))
    }
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: withEngineDeviceRequest(gpu) }, configurable: true })
    // A literal specifier (a pure-JS package that always installs), so bundles carry it.
    await import('@tensorflow/tfjs-backend-webgpu')
    await activate('webgpu')
    const failed = await registerWebGpuTrainingKernels((tf.backend() as unknown as { device: Parameters<typeof registerWebGpuTrainingKernels>[0] }).device)
    guardWebGpuBuffers(tf.backend() as unknown as WebGpuBackendLike)
    uploadUniformsPerSubmit(tf.backend() as unknown as UniformBackend)
    undoFailedKernels('webgpu', tf.backend() as unknown as KernelDataBackend<'makeTensorInfo'>, 'makeTensorInfo')
    const note = failed.length > 0 ? message('webgpuKernelsFallback', { kernels: failed.map((f) => f.kernel).join(', ') }) : ''
    return message(software ? 'webgpuSoftware' : 'webgpu', { adapter: `${info.vendor} ${info.architecture}`.trim(), note })
  },
  wasm: async () => {
    // A literal specifier (a dependency, pure JS and wasm), so bundles carry it; its .wasm files are found beside it.
    const wasm = await importOptional('@tensorflow/tfjs-backend-wasm', message('whyWasm'), () => import('@tensorflow/tfjs-backend-wasm'))
    registerWasmTrainingKernels()
    const wanted = wasmThreadCount()
    let note: LocalText | '' = ''
    if (wanted > 1) {
      let restore = (): void => {}
      // The pool threads are daemons (unref'd), so while the backend waits for them to load nothing else may keep
      // this thread's event loop alive: Node would end a job's worker with "unsettled top-level await" (code 13).
      const keepAlive = setInterval(() => {}, 1000)
      try {
        restore = enableWasmThreads(tf, wasm as unknown as Parameters<typeof enableWasmThreads>[1], wanted)
        await activate('wasm')
      } catch (error) {
        // Threads are an optimisation: fall back to the single-threaded build and say why.
        note = message('threadsUnavailable', { error: firstLine(error) })
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
        await activate('wasm')
      } finally {
        clearInterval(keepAlive)
        restore()
      }
    } else {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
      await activate('wasm')
    }
    undoFailedKernels('wasm', tf.backend() as unknown as KernelDataBackend<'makeOutput'>, 'makeOutput')
    const threads = typeof wasm.getThreadsCount === 'function' ? (wasm.getThreadsCount as () => number)() : 1
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')
    // Start our matrix product now (its helper threads), not in the first training step.
    const gemm = backendGemm(tf.backend() as unknown as WasmBackendLike)
    const products = gemm.fusedMultiplyAdd ? message('withFusedMultiplyAdd', { threads: threadCount(gemm.threads) }) : threadCount(gemm.threads)
    return message('wasm', { simd: message(simd ? 'simdOn' : 'simdOff'), threads: threadCount(threads), note, products })
  },
  cpu: async () => {
    registerCpuTrainingKernels()
    await activate('cpu')
    return message('cpu')
  },
}

export class BackendUnavailableError extends Error {
  readonly text: LocalText
  constructor(name: BackendName, detail: LocalText) {
    const text = message('forcedUnusable', { name, detail })
    super(english(text))
    this.name = 'BackendUnavailableError'
    this.text = text
  }
}

/**
 * Tries backends best first and activates the first that works. With `forced`, tries only that one
 * and fails loudly rather than silently training on something else.
 */
export async function selectBackend(forced: BackendName | null = null): Promise<ComputeReport> {
  const attempts: BackendAttempt[] = []
  const attempt = (name: BackendName, status: BackendAttempt['status'], detail: LocalText) => attempts.push({ name, status, detail: english(detail), detailText: detail })
  let active: BackendName | null = null
  foundAdapter = null
  // A memory cap that is not a number fails here, for every backend: not one backend's start, which would fall back
  // to a slower one (a bad KOTOBA_WASM_MEMORY_MIB trained on cpu).
  const badSetting = memorySettingError()
  for (const name of backendOrder) {
    if (badSetting !== null) {
      attempt(name, 'not-tried', message('failed', { error: badSetting }))
      continue
    }
    if (active !== null || (forced !== null && name !== forced)) {
      attempt(name, 'not-tried', forced !== null ? message('notTriedForced', { forced }) : message('notTriedBetter'))
      continue
    }
    try {
      attempt(name, 'active', await tryers[name](forced === name))
      active = name
    } catch (error) {
      const unavailable = error instanceof Unavailable ? error : new Unavailable(message('failed', { error: firstLine(error) }))
      attempt(name, unavailable.skipped ? 'skipped' : 'failed', unavailable.detail)
    }
  }
  const reason = active === null ? message('reasonNone') : message(forced !== null ? 'reasonForced' : 'reasonBest', { active })
  const memory = tf.memory()
  const adapter = foundAdapter
  const report: ComputeReport = {
    active,
    device: deviceName(active, adapter),
    adapter,
    lastRun: null,
    memoryLimit: memoryLimitOf(active),
    forced,
    reason: english(reason),
    reasonText: reason,
    attempts,
    tensors: memory.numTensors,
    bytes: memory.numBytes,
    error: null,
  }
  if (badSetting !== null) {
    report.error = badSetting
    report.errorText = message('failed', { error: badSetting })
  } else if (forced !== null && active === null) {
    const failed = attempts.find((a) => a.name === forced)
    const error = new BackendUnavailableError(forced, failed?.detailText ?? message('failed', { error: 'unknown' }))
    report.error = error.message
    report.errorText = error.text
  }
  return report
}

/** What a backend computes on: the WebGPU adapter, else the CPU (tensorflow-gpu's CUDA device is not named by tfjs). */
function deviceName(active: BackendName | null, adapter: GpuAdapter | null): string | null {
  if (active === null) return null
  if (active === 'webgpu' && adapter) return adapterName(adapter)
  if (active === 'tensorflow-gpu') return 'CUDA GPU'
  return cpus()[0]?.model.trim().replace(/\s+/g, ' ') || 'CPU'
}

/** Why a memory cap's variable is not usable, or null. */
function memorySettingError(): string | null {
  try {
    for (const variable of ['KOTOBA_WASM_MEMORY_MIB', 'KOTOBA_GPU_MEMORY_MIB']) bytesFromEnvironment(variable)
    return null
  } catch (error) {
    return (error as Error).message
  }
}

/** The cap the user set on the active backend's memory (KOTOBA_WASM_MEMORY_MIB, KOTOBA_GPU_MEMORY_MIB), if any. */
function memoryLimitOf(active: BackendName | null): ComputeReport['memoryLimit'] {
  const [bytes, variable] = active === 'wasm' ? [wasmMemoryLimit(), 'KOTOBA_WASM_MEMORY_MIB'] : active === 'webgpu' ? [gpuMemoryLimit(), 'KOTOBA_GPU_MEMORY_MIB'] : [null, '']
  return bytes === null ? null : { bytes, variable }
}

/** The current memory counters on top of a selection report. */
export function withMemory(report: ComputeReport): ComputeReport {
  const memory = tf.memory()
  return { ...report, tensors: memory.numTensors, bytes: memory.numBytes }
}
