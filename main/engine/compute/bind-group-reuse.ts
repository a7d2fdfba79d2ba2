// Bind groups made once and used again. dawn.node converts each createBindGroup descriptor through N-API, property
// by property: ~12 µs plus ~6 µs a buffer on a 2-core Xeon, and our fused shaders bind up to 12 buffers. A reference
// Transformer update made 150 bind groups, ~40% of the host's time to record it. A bind group is immutable, so one
// for the same layout and the same buffers at the same offsets and sizes can serve again; the pool hands a step of
// one shape the same buffers each update (webgpu-memory.ts takes the oldest free buffer), so after two updates such
// a step makes none. tfjs asks its pipeline for the layout at every dispatch, and dawn.node answers with a new object
// each time, so each pipeline's layouts are kept too.

/** What reuse needs of a GPUDevice. */
export interface BindGroupDevice {
  createBindGroup(descriptor: BindGroupDescriptor): unknown
  createComputePipeline(descriptor: object): PipelineWithLayouts
  createComputePipelineAsync?(descriptor: object): Promise<PipelineWithLayouts>
}
interface BindGroupDescriptor {
  layout: unknown
  entries: readonly { binding: number; resource: { buffer?: object; offset?: number; size?: number } | object }[]
  label?: string
}
interface PipelineWithLayouts {
  getBindGroupLayout(index: number): unknown
}

/** Bind groups kept per device, the least recently used dropped past this: a few shapes' worth of updates (a reference
 *  Transformer update binds 150 groups, an LSTM 93). A dropped or stale group (its buffer destroyed) is only garbage. */
export const KEPT_BIND_GROUPS = 2048

const ids = new WeakMap<object, number>()
let lastId = 0

/** A number for `object`, the same for its lifetime; objects numbered earlier get smaller numbers. */
export function objectId(object: object): number {
  let id = ids.get(object)
  if (id === undefined) {
    id = ++lastId
    ids.set(object, id)
  }
  return id
}

/** The key of a descriptor: its layout, then each entry's binding and buffer, offset and size (or other resource). */
function descriptorKey({ layout, entries }: BindGroupDescriptor): string | null {
  if (typeof layout !== 'object' || layout === null) return null
  let key = String(objectId(layout))
  for (const { binding, resource } of entries) {
    if ('buffer' in resource && resource.buffer) key += `|${binding}:${objectId(resource.buffer)}@${resource.offset ?? 0}+${resource.size ?? 'rest'}`
    else key += `|${binding}:${objectId(resource)}`
  }
  return key
}

/** How many bind groups a device made and how many it reused. */
export interface BindGroupCounts {
  made: number
  reused: number
}
const countsOf = new WeakMap<object, BindGroupCounts>()

/** The counts of a device that reuses its bind groups, or null for one that does not. */
export function bindGroupCounts(device: object): BindGroupCounts | null {
  return countsOf.get(device) ?? null
}

/** Makes `device` return a kept bind group for a descriptor it has seen, and each pipeline the same layout object
 *  (once per device). */
export function reuseBindGroups(device: BindGroupDevice): void {
  if (countsOf.has(device)) return
  const counts: BindGroupCounts = { made: 0, reused: 0 }
  countsOf.set(device, counts)
  const kept = new Map<string, unknown>() // oldest use first
  const create = device.createBindGroup.bind(device)
  device.createBindGroup = (descriptor) => {
    const key = descriptor.label === undefined ? descriptorKey(descriptor) : null
    if (key === null) return create(descriptor)
    const group = kept.get(key)
    if (group !== undefined) {
      kept.delete(key)
      kept.set(key, group)
      counts.reused++
      return group
    }
    const made = create(descriptor)
    counts.made++
    kept.set(key, made)
    if (kept.size > KEPT_BIND_GROUPS) kept.delete(kept.keys().next().value!)
    return made
  }
  const createPipeline = device.createComputePipeline.bind(device)
  device.createComputePipeline = (descriptor) => keepLayouts(createPipeline(descriptor))
  const createPipelineAsync = device.createComputePipelineAsync?.bind(device)
  if (createPipelineAsync) device.createComputePipelineAsync = async (descriptor) => keepLayouts(await createPipelineAsync(descriptor))
}

/** `pipeline`, answering each getBindGroupLayout(index) with the object it gave first. */
function keepLayouts<P extends PipelineWithLayouts>(pipeline: P): P {
  const layoutOf = pipeline.getBindGroupLayout.bind(pipeline)
  const layouts = new Map<number, unknown>()
  pipeline.getBindGroupLayout = (index) => {
    let layout = layouts.get(index)
    if (layout === undefined) {
      layout = layoutOf(index)
      layouts.set(index, layout)
    }
    return layout
  }
  return pipeline
}
