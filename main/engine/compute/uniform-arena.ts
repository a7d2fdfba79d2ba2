// Uniforms uploaded once per submit. tfjs-backend-webgpu gives every dispatch its own uniform buffer, taken from the
// pool and written by its own queue.writeBuffer: ~10 µs of the host's time measured alone, 3.7 ms of the ~19 ms it
// took to record a reference Transformer update (150 dispatches). Here each dispatch's uniforms, packed as tfjs packs
// them, take a slot in an arena, one buffer written once before the submit that runs them. Queue writes run before
// later submits, so every dispatch sees its slot, and a slot's data never changes under work already queued: the
// next arena is another buffer until the submit releases this one.
import { UNIFORM_USAGE } from './webgpu-backend.ts'

/** What the arena needs of tfjs-backend-webgpu 4.22's backend. */
export interface UniformBackend {
  device: { limits: { minUniformBufferOffsetAlignment: number } }
  bufferManager: { acquireBuffer(size: number, usage: number): unknown }
  queue: { writeBuffer(buffer: unknown, offset: number, data: ArrayBuffer, dataOffset?: number, size?: number): void }
  uniformPendingDisposal: unknown[]
  makeUniforms(uniforms: ProgramUniform[]): { buffer: unknown; offset: number; size: number }
  submitQueue(): void
}
/** A uniform as tfjs's programs list them: a scalar or a vector of up to 6 components. */
interface ProgramUniform {
  type: 'float32' | 'int32' | 'uint32'
  data: number[]
}

/** The bytes of one arena: slots of 256 bytes (the usual offset alignment), 128 dispatches. */
export const ARENA_BYTES = 32 * 1024

const arenaBackends = new WeakSet<object>()

/** Makes `backend` put each dispatch's uniforms in an arena written once per submit (once per backend). */
export function uploadUniformsPerSubmit(backend: UniformBackend): void {
  if (arenaBackends.has(backend)) return
  arenaBackends.add(backend)
  const pack = packerOf(backend.makeUniforms)
  const alignment = backend.device.limits.minUniformBufferOffsetAlignment
  const host = new ArrayBuffer(ARENA_BYTES)
  let arena: unknown = null
  let used = 0
  /** Writes what the arena holds and hands its buffer to tfjs, which pools it again after the next submit. */
  const flush = () => {
    if (arena === null) return
    backend.queue.writeBuffer(arena, 0, host, 0, used)
    backend.uniformPendingDisposal.push(arena)
    arena = null
    used = 0
  }
  const makeUniforms = backend.makeUniforms.bind(backend)
  backend.makeUniforms = (uniforms) => {
    const bytes = pack(uniforms)
    if (bytes === null || bytes.byteLength > ARENA_BYTES) return makeUniforms(uniforms)
    let offset = Math.ceil(used / alignment) * alignment
    if (arena !== null && offset + bytes.byteLength > ARENA_BYTES) {
      flush()
      offset = 0
    }
    arena ??= backend.bufferManager.acquireBuffer(ARENA_BYTES, UNIFORM_USAGE)
    new Uint8Array(host, offset, bytes.byteLength).set(bytes)
    used = offset + bytes.byteLength
    return { buffer: arena, offset, size: bytes.byteLength }
  }
  const submitQueue = backend.submitQueue.bind(backend)
  backend.submitQueue = () => {
    flush()
    submitQueue()
  }
}

/**
 * tfjs's packing of a program's uniforms (WGSL's alignment of each field), without its upload: tfjs's own
 * makeUniforms run against a stand-in that keeps the bytes it writes. Returns null if tfjs did not write them as
 * expected (another tfjs version); the caller then uploads as tfjs does.
 */
function packerOf(makeUniforms: UniformBackend['makeUniforms']): (uniforms: ProgramUniform[]) => Uint8Array | null {
  let written: Uint8Array | null = null
  const standIn = {
    bufferManager: { acquireBuffer: () => standIn },
    queue: {
      writeBuffer: (_buffer: unknown, _offset: number, data: ArrayBuffer, dataOffset = 0, size = data.byteLength - dataOffset) => {
        written = new Uint8Array(data, dataOffset, size)
      },
    },
    uniformPendingDisposal: { push: () => 0 },
  }
  return (uniforms) => {
    written = null
    try {
      makeUniforms.call(standIn as unknown as UniformBackend, uniforms)
    } catch {
      return null
    }
    return written
  }
}
