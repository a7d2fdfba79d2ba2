// What our fused kernels use of @tensorflow/tfjs-backend-webgpu 4.22's backend object, and one dispatch of a WGSL
// compute shader with several outputs. The stock programs (runWebGPUProgram) write a single output, so a fused
// kernel with three outputs would need three dispatches; this records ours into the backend's own command encoder
// and compute pass, as recordAndSubmit does, so they queue and submit in order with the stock kernels.
import * as tf from '@tensorflow/tfjs'

type TensorInfo = tf.TensorInfo
type DataId = object

/** A uniform field: one 4-byte scalar, as makeUniforms packs it (WGSL struct of f32/i32/u32 fields). */
export interface UniformValue {
  type: 'float32' | 'int32' | 'uint32'
  data: [number]
}

interface GpuBindingResource {
  buffer: unknown
  offset?: number
  size?: number
}
interface GpuComputePass {
  setPipeline(pipeline: unknown): void
  setBindGroup(index: number, group: unknown): void
  dispatchWorkgroups(x: number, y?: number, z?: number): void
}
interface GpuPipeline {
  getBindGroupLayout(index: number): unknown
}
interface GpuDevice {
  createShaderModule(descriptor: { code: string }): unknown
  createComputePipeline(descriptor: { layout: 'auto'; compute: { module: unknown; entryPoint: string } }): GpuPipeline
  createBindGroup(descriptor: { layout: unknown; entries: { binding: number; resource: GpuBindingResource }[] }): unknown
  limits: { maxComputeWorkgroupsPerDimension: number; maxStorageBuffersPerShaderStage: number }
}

export interface WebGpuBackendLike {
  device: GpuDevice
  makeTensorInfo(shape: number[], dtype: tf.DataType): TensorInfo
  uploadToGPU(dataId: DataId): void
  tensorToBinding(info: TensorInfo): GpuBindingResource
  makeUniforms(values: UniformValue[]): GpuBindingResource
  commandQueueOwnedIds: { add(dataId: DataId): void }
  ensureCommandEncoderReady(): void
  commandEncoder: { beginComputePass(descriptor: object): GpuComputePass }
  computePassEncoder: GpuComputePass | null
  dispatchCountInPass: number
  endComputePassEncoder(): void
  submitQueue(): void
  disposeData(dataId: DataId): boolean
}

type WebGpuKernelFunc = (args: Parameters<tf.KernelFunc>[0], backend: WebGpuBackendLike) => TensorInfo | TensorInfo[]

/** Our webgpu kernels and the shaders each runs, kept until verifyWebGpuKernels has compiled them. */
const pendingKernels = new Map<string, { shaders: FusedShader[]; kernelFunc: WebGpuKernelFunc }>()

/** Declares a fused webgpu kernel; it is registered once verifyWebGpuKernels has compiled its shaders on the device. */
export function registerWebGpuKernel(kernelName: string, shaders: FusedShader[], kernelFunc: WebGpuKernelFunc): void {
  pendingKernels.set(kernelName, { shaders, kernelFunc })
}

/**
 * Compiles every declared kernel's shaders on `device` and registers the kernels whose shaders all compiled; the
 * others stay unregistered, so the models run stock ops there. Dawn reports WGSL errors asynchronously (a kernel
 * would otherwise compute garbage without throwing), hence the error scopes. Returns the failures.
 */
export async function verifyWebGpuKernels(device: GpuDevice & GpuErrorScopes): Promise<{ kernel: string; error: string }[]> {
  const failures: { kernel: string; error: string }[] = []
  for (const [kernelName, { shaders, kernelFunc }] of pendingKernels) {
    let error: string | null = null
    for (const shader of shaders) {
      if ((shader.storageBuffers ?? 0) > device.limits.maxStorageBuffersPerShaderStage) continue // never run here
      device.pushErrorScope('validation')
      pipelineFor(device, shader)
      const problem = await device.popErrorScope()
      if (problem) {
        error = problem.message
        pipelines.get(device)?.delete(shader.key)
        break
      }
    }
    if (tf.getKernel(kernelName, 'webgpu')) tf.unregisterKernel(kernelName, 'webgpu')
    if (error !== null) failures.push({ kernel: kernelName, error })
    else tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: (args) => kernelFunc(args, args.backend as unknown as WebGpuBackendLike) })
  }
  return failures
}

interface GpuErrorScopes {
  pushErrorScope(filter: 'validation'): void
  popErrorScope(): Promise<{ message: string } | null>
}

/** Threads per workgroup of every fused shader (`@workgroup_size(64)`). */
export const workgroupSize = 64

/**
 * The WGSL prologue every fused shader shares: `flatIndex` is the flat id of a thread and `flatGroup` that of a
 * workgroup, over a 2-D grid when one dimension would exceed the device's limit; tanh that never overflows to NaN.
 */
export const wgslPrologue = `
fn flatIndex(gid : vec3<u32>, groups : vec3<u32>) -> u32 { return gid.x + gid.y * groups.x * ${workgroupSize}u; }
fn flatGroup(wid : vec3<u32>, groups : vec3<u32>) -> u32 { return wid.x + wid.y * groups.x; }
fn safeTanh(x : f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
fn sigmoid(x : f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
`

/**
 * The `@group(0)` declarations of a fused shader in the order runFused binds them: the outputs (read_write), the
 * inputs (read; `name:i32` for an int32 tensor), then the uniform struct `p` with `params`' fields.
 */
export function wgslBindings(outputs: string[], inputs: string[], params: string): string {
  const array = (name: string) => {
    const [variable, type = 'f32'] = name.split(':')
    return `${variable} : array<${type}>`
  }
  const lines = [
    ...outputs.map((name, i) => `@group(0) @binding(${i}) var<storage, read_write> ${array(name)};`),
    ...inputs.map((name, i) => `@group(0) @binding(${outputs.length + i}) var<storage, read> ${array(name)};`),
    `struct Params { ${params} }`,
    `@group(0) @binding(${outputs.length + inputs.length}) var<uniform> p : Params;`,
  ]
  return lines.join('\n')
}

/** The entry point of a shader with one thread per element: `at` is the element, up to `p.count`. */
export const wgslEachElement = `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(global_invocation_id) gid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let at = flatIndex(gid, groups);
  if (at >= p.count) { return; }`

/** The entry point of a shader with one workgroup per row: `row` (up to `p.rows`) and the thread's `lane`. */
export const wgslEachRow = `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let row = flatGroup(wid, groups);
  if (row >= p.rows) { return; }
  let lane = lid.x;`

export interface FusedShader {
  /** Unique per WGSL source: the pipeline is compiled once per key and device. */
  key: string
  /**
   * WGSL with `@group(0)` bindings in this order: the outputs (`var<storage, read_write>`), the inputs
   * (`var<storage, read>`), then one `var<uniform>` struct of the `uniforms` fields; `@compute @workgroup_size(64)`.
   */
  code: string
  /** Storage buffers it binds where that may exceed WebGPU's default 8: compiled only on a device allowing them. */
  storageBuffers?: number
}

const pipelines = new WeakMap<GpuDevice, Map<string, GpuPipeline>>()

function pipelineFor(device: GpuDevice, shader: FusedShader): GpuPipeline {
  let cache = pipelines.get(device)
  if (!cache) pipelines.set(device, (cache = new Map()))
  let pipeline = cache.get(shader.key)
  if (!pipeline) {
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: wgslPrologue + shader.code }), entryPoint: 'main' } })
    cache.set(shader.key, pipeline)
  }
  return pipeline
}

/** The grid for `groups` workgroups: x up to the device's per-dimension limit, the rest in y. */
function grid(device: GpuDevice, groups: number): [number, number] {
  const limit = device.limits.maxComputeWorkgroupsPerDimension
  return groups <= limit ? [Math.max(groups, 1), 1] : [limit, Math.ceil(groups / limit)]
}

/**
 * One dispatch of `shader` over `groups` workgroups, writing new float32 tensors of `outputShapes` from `inputs`;
 * returns them. Every output and input must be non-empty.
 */
export function runFused(backend: WebGpuBackendLike, shader: FusedShader, inputs: TensorInfo[], outputShapes: number[][], uniforms: UniformValue[], groups: number): TensorInfo[] {
  const made = outputShapes.map((shape) => backend.makeTensorInfo(shape, 'float32'))
  dispatchInto(backend, shader, made, inputs, uniforms, groups)
  return made
}

/**
 * One dispatch of `shader` that writes into `outputs`, tensors the calling kernel made and has not returned yet:
 * a kernel that loops (one dispatch per time step) fills its outputs a slice at a time. Dispatches in one pass run
 * in order, each seeing the writes of those before it.
 */
export function dispatchInto(backend: WebGpuBackendLike, shader: FusedShader, outputs: TensorInfo[], inputs: TensorInfo[], uniforms: UniformValue[], groups: number): void {
  for (const info of [...outputs, ...inputs]) {
    backend.uploadToGPU(info.dataId)
    backend.commandQueueOwnedIds.add(info.dataId)
  }
  const pipeline = pipelineFor(backend.device, shader)
  const resources = [...outputs.map((info) => backend.tensorToBinding(info)), ...inputs.map((info) => backend.tensorToBinding(info)), ...(uniforms.length > 0 ? [backend.makeUniforms(uniforms)] : [])]
  const bindGroup = backend.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: resources.map((resource, binding) => ({ binding, resource })) })
  backend.ensureCommandEncoderReady()
  if (!backend.computePassEncoder) backend.computePassEncoder = backend.commandEncoder.beginComputePass({})
  const [x, y] = grid(backend.device, groups)
  backend.computePassEncoder.setPipeline(pipeline)
  backend.computePassEncoder.setBindGroup(0, bindGroup)
  backend.computePassEncoder.dispatchWorkgroups(x, y)
  backend.dispatchCountInPass++
  if (tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder()
    backend.submitQueue()
  }
}

/**
 * Workgroup-wide sums and maxima for shaders that give each row one workgroup: every thread of the workgroup calls
 * them with its partial value (in uniform control flow) and gets the workgroup's total.
 */
export const wgslWorkgroupReductions = `
var<workgroup> partials : array<f32, ${workgroupSize}>;
fn workgroupSum(lane : u32, value : f32) -> f32 {
  partials[lane] = value;
  workgroupBarrier();
  for (var stride = ${workgroupSize / 2}u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) { partials[lane] = partials[lane] + partials[lane + stride]; }
    workgroupBarrier();
  }
  let total = partials[0];
  workgroupBarrier();
  return total;
}
fn workgroupMax(lane : u32, value : f32) -> f32 {
  partials[lane] = value;
  workgroupBarrier();
  for (var stride = ${workgroupSize / 2}u; stride > 0u; stride = stride / 2u) {
    if (lane < stride) { partials[lane] = max(partials[lane], partials[lane + stride]); }
    workgroupBarrier();
  }
  let total = partials[0];
  workgroupBarrier();
  return total;
}
`

/** Workgroups for one thread per element of `count`. */
export const groupsFor = (count: number): number => Math.ceil(count / workgroupSize)

/** Float and int uniform fields, in the order the shader's struct declares them. */
export const f32 = (value: number): UniformValue => ({ type: 'float32', data: [value] })
export const i32 = (value: number): UniformValue => ({ type: 'int32', data: [value] })
export const u32 = (value: number): UniformValue => ({ type: 'uint32', data: [value >>> 0] })
