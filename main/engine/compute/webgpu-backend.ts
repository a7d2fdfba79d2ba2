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
  setBindGroup(index: number, group: unknown, dynamicOffsets?: number[]): void
  dispatchWorkgroups(x: number, y?: number, z?: number): void
}
interface GpuPipeline {
  getBindGroupLayout(index: number): unknown
}
type GpuBufferBindingType = 'storage' | 'read-only-storage' | 'uniform'
interface GpuDevice {
  createShaderModule(descriptor: { code: string }): unknown
  createComputePipeline(descriptor: { layout: unknown; compute: { module: unknown; entryPoint: string } }): GpuPipeline
  createBindGroupLayout(descriptor: { entries: { binding: number; visibility: number; buffer: { type: GpuBufferBindingType; hasDynamicOffset?: boolean } }[] }): unknown
  createPipelineLayout(descriptor: { bindGroupLayouts: unknown[] }): unknown
  createBindGroup(descriptor: { layout: unknown; entries: { binding: number; resource: GpuBindingResource }[] }): unknown
  limits: { maxComputeWorkgroupsPerDimension: number; maxStorageBuffersPerShaderStage: number; minUniformBufferOffsetAlignment: number }
  features?: { has(name: string): boolean }
}

export interface WebGpuBackendLike {
  device: GpuDevice
  makeTensorInfo(shape: number[], dtype: tf.DataType): TensorInfo
  uploadToGPU(dataId: DataId): void
  tensorToBinding(info: TensorInfo): GpuBindingResource
  makeUniforms(values: UniformValue[]): GpuBindingResource
  bufferManager: { acquireBuffer(size: number, usage: number): unknown }
  queue: { writeBuffer(buffer: unknown, offset: number, data: ArrayBuffer): void }
  /** Uniform buffers returned to the pool at the next submit, once the commands binding them are queued. */
  uniformPendingDisposal: unknown[]
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
 * others stay unregistered, so the models run stock ops there. Returns the failures.
 */
export async function verifyWebGpuKernels(device: GpuDevice & GpuErrorScopes): Promise<{ kernel: string; error: string }[]> {
  const failures = await compileWebGpuKernels(device)
  for (const [kernelName, { kernelFunc }] of pendingKernels) {
    if (tf.getKernel(kernelName, 'webgpu')) tf.unregisterKernel(kernelName, 'webgpu')
    if (!failures.some(({ kernel }) => kernel === kernelName)) {
      tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: (args) => kernelFunc(args, args.backend as unknown as WebGpuBackendLike) })
    }
  }
  return failures
}

/**
 * Compiles every declared kernel's shaders on `device` afresh, as the device and KOTOBA_WEBGPU_SUBGROUPS are now
 * (registered kernels use them from their next dispatch); returns the kernels whose shaders did not compile. Dawn
 * reports WGSL errors asynchronously (a kernel would otherwise compute garbage without throwing), hence the error
 * scopes.
 */
export async function compileWebGpuKernels(device: GpuDevice & GpuErrorScopes): Promise<{ kernel: string; error: string }[]> {
  pipelines.delete(device)
  const compiles = async (shader: FusedShader, subgroups: boolean): Promise<string | null> => {
    device.pushErrorScope('validation')
    pipelineFor(device, shader, subgroups)
    const problem = await device.popErrorScope()
    if (problem) pipelines.get(device)?.delete(shader.key)
    return problem?.message ?? null
  }
  const failures: { kernel: string; error: string }[] = []
  for (const [kernelName, { shaders }] of pendingKernels) {
    for (const shader of shaders) {
      if ((shader.storageBuffers ?? 0) > device.limits.maxStorageBuffersPerShaderStage) continue // never run here
      // A driver that rejects the subgroup reductions still gets the shader with workgroup-memory ones.
      const subgroups = subgroupsUsable(device) && isRowShader(shader.code)
      let error = await compiles(shader, subgroups)
      if (error !== null && subgroups) error = await compiles(shader, false)
      if (error !== null) {
        failures.push({ kernel: kernelName, error })
        break
      }
    }
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

/**
 * The entry point of a shader with one workgroup per row: `row` (up to `p.rows`) and the thread's `lane`. On a device
 * with subgroups, withSubgroupReductions swaps it for wgslEachRowInSubgroups.
 */
export const wgslEachRow = `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  let row = flatGroup(wid, groups);
  if (row >= p.rows) { return; }
  let lane = lid.x;`

/** wgslEachRow that also keeps the thread's place in its subgroup for wgslSubgroupReductions. */
const wgslEachRowInSubgroups = `@compute @workgroup_size(${workgroupSize})
fn main(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>,
        @builtin(subgroup_invocation_id) subgroupLane : u32, @builtin(subgroup_size) subgroupSize : u32) {
  let row = flatGroup(wid, groups);
  if (row >= p.rows) { return; }
  let lane = lid.x;
  subgroup = SubgroupPlace(subgroupLane, subgroupSize);`

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
  /**
   * Dispatched once per time step (dispatchLoop): its pipeline's layout, read off its wgslBindings, takes the uniforms
   * at a dynamic offset, so a whole loop binds one bind group and one uniform buffer.
   */
  looped?: boolean
}

/** A compiled shader and the layout of its bind group (asked of the pipeline once: each ask is a native call). */
interface CompiledShader {
  pipeline: GpuPipeline
  bindGroupLayout: unknown
  /** Compiled with subgroup reductions (a row shader on a device that has them). */
  subgroups: boolean
  /** A looped shader's outputs and inputs, as its wgslBindings declare them. */
  bindings?: { outputs: number; inputs: number }
}

const pipelines = new WeakMap<GpuDevice, Map<string, CompiledShader>>()

/** GPUShaderStage.COMPUTE */
const COMPUTE_STAGE = 0x4
/** GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST: a uniform buffer the queue writes. */
export const UNIFORM_USAGE = 0x40 | 0x8

/** `shader`'s pipeline on `device`, compiled on first use (with subgroup reductions if `subgroups`, by default where usable). */
function pipelineFor(device: GpuDevice, shader: FusedShader, subgroups?: boolean): CompiledShader {
  let cache = pipelines.get(device)
  if (!cache) pipelines.set(device, (cache = new Map()))
  let compiled = cache.get(shader.key)
  if (!compiled) {
    const inSubgroups = (subgroups ?? subgroupsUsable(device)) && isRowShader(shader.code)
    const code = inSubgroups ? withSubgroupReductions(shader.code) : wgslPrologue + shader.code
    const compute = { module: device.createShaderModule({ code }), entryPoint: 'main' }
    if (shader.looped) {
      const count = (access: string) => shader.code.split(`var<storage, ${access}>`).length - 1
      const bindings = { outputs: count('read_write'), inputs: count('read') }
      const bindGroupLayout = device.createBindGroupLayout({ entries: loopedLayoutEntries(bindings) })
      compiled = { pipeline: device.createComputePipeline({ layout: device.createPipelineLayout({ bindGroupLayouts: [bindGroupLayout] }), compute }), bindGroupLayout, bindings, subgroups: inSubgroups }
    } else {
      const pipeline = device.createComputePipeline({ layout: 'auto', compute })
      compiled = { pipeline, bindGroupLayout: pipeline.getBindGroupLayout(0), subgroups: inSubgroups }
    }
    cache.set(shader.key, compiled)
  }
  return compiled
}

/** wgslBindings' order as an explicit layout: outputs, inputs, then the uniforms at a dynamic offset. */
function loopedLayoutEntries({ outputs, inputs }: { outputs: number; inputs: number }) {
  const entry = (binding: number, type: GpuBufferBindingType) => ({ binding, visibility: COMPUTE_STAGE, buffer: { type, hasDynamicOffset: type === 'uniform' } })
  return [
    ...Array.from({ length: outputs }, (_, i) => entry(i, 'storage')),
    ...Array.from({ length: inputs }, (_, i) => entry(outputs + i, 'read-only-storage')),
    entry(outputs + inputs, 'uniform'),
  ]
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
  if (shader.looped) throw new Error(`${shader.key} takes its uniforms at a dynamic offset: dispatch it with dispatchLoop`)
  useTensors(backend, [...outputs, ...inputs])
  const { pipeline, bindGroupLayout } = pipelineFor(backend.device, shader)
  const resources = [...outputs.map((info) => backend.tensorToBinding(info)), ...inputs.map((info) => backend.tensorToBinding(info)), ...(uniforms.length > 0 ? [backend.makeUniforms(uniforms)] : [])]
  const bindGroup = backend.device.createBindGroup({ layout: bindGroupLayout, entries: resources.map((resource, binding) => ({ binding, resource })) })
  recordDispatch(backend, pipeline, bindGroup, [], grid(backend.device, groups))
}

/** One dispatch of a time loop: its shader (declared `looped`), what it binds, and its uniforms at each step. */
export interface LoopedDispatch {
  shader: FusedShader
  outputs: TensorInfo[]
  inputs: TensorInfo[]
  groups: number
  uniformsAt(step: number): UniformValue[]
}

/**
 * A time loop: at each of `steps` steps, every one of `dispatches` in order. The bindings are the same at every step,
 * only the uniforms change, so each dispatch gets one bind group and all steps' uniforms go in one buffer, each at
 * its own dynamic offset: a step records a set and a dispatch, no bind group or uniform buffer of its own.
 */
export function dispatchLoop(backend: WebGpuBackendLike, steps: number, dispatches: LoopedDispatch[]): void {
  if (steps === 0 || dispatches.length === 0) return
  const { device } = backend
  const tensors = dispatches.flatMap(({ outputs, inputs }) => [...outputs, ...inputs])
  useTensors(backend, tensors)
  const widths = dispatches.map(({ uniformsAt }) => uniformsAt(0).length)
  // Every field is a 4-byte scalar (UniformValue), so a struct is its fields in order.
  const stride = Math.ceil((4 * Math.max(...widths)) / device.limits.minUniformBufferOffsetAlignment) * device.limits.minUniformBufferOffsetAlignment
  const slots = new ArrayBuffer(steps * dispatches.length * stride)
  const [asFloat, asInt, asUint] = [new Float32Array(slots), new Int32Array(slots), new Uint32Array(slots)]
  for (let step = 0; step < steps; step++) {
    dispatches.forEach(({ shader, uniformsAt }, i) => {
      const uniforms = uniformsAt(step)
      if (uniforms.length !== widths[i]) throw new Error(`${shader.key}: step ${step} has ${uniforms.length} uniforms, step 0 had ${widths[i]}`)
      const at = ((step * dispatches.length + i) * stride) / 4
      uniforms.forEach(({ type, data: [value] }, field) => ((type === 'float32' ? asFloat : type === 'int32' ? asInt : asUint)[at + field] = value))
    })
  }
  const uniformBuffer = backend.bufferManager.acquireBuffer(slots.byteLength, UNIFORM_USAGE)
  backend.queue.writeBuffer(uniformBuffer, 0, slots)
  try {
    const bound = dispatches.map(({ shader, outputs, inputs, groups }, i) => {
      if (!shader.looped) throw new Error(`${shader.key} is not declared looped: dispatch it with dispatchInto`)
      const { pipeline, bindGroupLayout, bindings } = pipelineFor(device, shader)
      if (bindings!.outputs !== outputs.length || bindings!.inputs !== inputs.length) throw new Error(`${shader.key} binds ${bindings!.outputs} outputs and ${bindings!.inputs} inputs, given ${outputs.length} and ${inputs.length}`)
      const resources = [...outputs, ...inputs].map((info) => backend.tensorToBinding(info))
      const entries = [...resources, { buffer: uniformBuffer, offset: 0, size: 4 * widths[i]! }].map((resource, binding) => ({ binding, resource }))
      return { pipeline, bindGroup: device.createBindGroup({ layout: bindGroupLayout, entries }), workgroups: grid(device, groups) }
    })
    for (let step = 0; step < steps; step++) {
      bound.forEach(({ pipeline, bindGroup, workgroups }, i) => recordDispatch(backend, pipeline, bindGroup, [(step * dispatches.length + i) * stride], workgroups))
    }
  } finally {
    // Pooled again only at the submit after the loop's last dispatch: a submit inside the loop would let a later
    // upload reuse it under the steps still to run. The tensors stay the queue's until then too.
    backend.uniformPendingDisposal.push(uniformBuffer)
    useTensors(backend, tensors)
  }
}

/** Uploads tensors a dispatch binds and marks them the pending commands': disposed before the submit, they wait for it. */
function useTensors(backend: WebGpuBackendLike, tensors: TensorInfo[]): void {
  for (const info of tensors) {
    backend.uploadToGPU(info.dataId)
    backend.commandQueueOwnedIds.add(info.dataId)
  }
}

/** Records one dispatch into the backend's pass, submitting every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE as tfjs does. */
function recordDispatch(backend: WebGpuBackendLike, pipeline: GpuPipeline, bindGroup: unknown, dynamicOffsets: number[], [x, y]: [number, number]): void {
  backend.ensureCommandEncoderReady()
  if (!backend.computePassEncoder) backend.computePassEncoder = backend.commandEncoder.beginComputePass({})
  backend.computePassEncoder.setPipeline(pipeline)
  backend.computePassEncoder.setBindGroup(0, bindGroup, dynamicOffsets)
  backend.computePassEncoder.dispatchWorkgroups(x, y)
  backend.dispatchCountInPass++
  if ((tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') as number) <= backend.dispatchCountInPass) {
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

/**
 * wgslWorkgroupReductions with subgroup operations (WGSL's \`subgroups\`), for a device that has them: each subgroup
 * reduces in registers and leaves its result in workgroup memory, and each subgroup then reduces those results: two
 * barriers a reduction instead of eight. Which threads share a subgroup is the driver's choice, so
 * nothing assumes they are neighbours: the second pass has thread i of every subgroup read the slots i, i + size, ….
 * The subgroup size is a power of two (WebGPU), so it divides 64 or, past 64, one subgroup holds the workgroup.
 */
const wgslSubgroupReductions = `
struct SubgroupPlace { lane : u32, size : u32 }
var<private> subgroup : SubgroupPlace;
var<workgroup> partials : array<f32, ${workgroupSize}>;
fn workgroupSum(lane : u32, value : f32) -> f32 {
  // The subgroup's first thread keeps its sum, the others 0, so each subgroup counts once.
  partials[lane] = select(0.0, subgroupAdd(value), subgroup.lane == 0u);
  workgroupBarrier();
  var gathered = 0.0;
  for (var slot = subgroup.lane; slot < ${workgroupSize}u; slot = slot + subgroup.size) { gathered = gathered + partials[slot]; }
  let total = subgroupAdd(gathered);
  workgroupBarrier();
  return total;
}
fn workgroupMax(lane : u32, value : f32) -> f32 {
  // Every thread keeps its subgroup's maximum: counted again, a maximum is unchanged.
  partials[lane] = subgroupMax(value);
  workgroupBarrier();
  var gathered = partials[subgroup.lane];
  for (var slot = subgroup.lane + subgroup.size; slot < ${workgroupSize}u; slot = slot + subgroup.size) { gathered = max(gathered, partials[slot]); }
  let total = subgroupMax(gathered);
  workgroupBarrier();
  return total;
}
`

/** A shader with one workgroup per row that reduces across it (wgslEachRow, wgslWorkgroupReductions). */
const isRowShader = (code: string): boolean => code.includes(wgslWorkgroupReductions) && code.includes(wgslEachRow)

/** The WGSL of a row shader, the prologue included, with its reductions done in subgroups. */
function withSubgroupReductions(code: string): string {
  return `enable subgroups;\n${wgslPrologue}${code.replace(wgslWorkgroupReductions, wgslSubgroupReductions).replace(wgslEachRow, wgslEachRowInSubgroups)}`
}

/** Whether `shaderKey` was compiled on `device` with subgroup reductions (undefined: not compiled there). */
export function compiledWithSubgroups(device: GpuDevice, shaderKey: string): boolean | undefined {
  return pipelines.get(device)?.get(shaderKey)?.subgroups
}

/**
 * Whether row shaders reduce with subgroup operations on `device`: it has the feature, and KOTOBA_WEBGPU_SUBGROUPS
 * is not 0 (for comparing the two on one GPU).
 */
export function subgroupsUsable(device: GpuDevice): boolean {
  return process.env.KOTOBA_WEBGPU_SUBGROUPS !== '0' && device.features?.has('subgroups') === true
}

/** Workgroups for one thread per element of `count`. */
export const groupsFor = (count: number): number => Math.ceil(count / workgroupSize)

/** Float and int uniform fields, in the order the shader's struct declares them. */
export const f32 = (value: number): UniformValue => ({ type: 'float32', data: [value] })
export const i32 = (value: number): UniformValue => ({ type: 'int32', data: [value] })
export const u32 = (value: number): UniformValue => ({ type: 'uint32', data: [value >>> 0] })
