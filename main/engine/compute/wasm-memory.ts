// The wasm backend's heap as a bounded resource. Near its 4 GiB end tfjs-backend-wasm 4.22 corrupts its own heap, and
// the next malloc spins forever (a training step that never ends, one core busy):
// - it ignores a failed malloc and writes the tensor at address 0;
// - its allocator (emmalloc) hands out a block whose end passes 2^32 when the heap has grown that far: the address
//   arithmetic wraps, and the block's footer lands on live data at the bottom of the heap.
// So the heap may grow only to HEAP_CEILING, and a request that could end past 2^32 even from the heap's current end
// is refused: below the ceiling every request under 512 MiB is safe wherever it lands. Every allocation is checked
// before anything is written: a full heap is an OutOfMemoryError naming the size, which the trainer answers by
// splitting the batch. The guard also counts the bytes tensors hold, so a run can report its peak and a user can cap
// them lower (KOTOBA_WASM_MEMORY_MIB).

import { bytesFromEnvironment, formatBytes, OutOfMemoryError } from './out-of-memory.ts'

const MiB = 2 ** 20
const ADDRESS_SPACE = 2 ** 32
/** The most the heap may grow to (tfjs's own limit is 4 GiB). */
export const HEAP_CEILING = ADDRESS_SPACE - 512 * MiB
/** Room for the allocator's headers and alignment beyond a request. */
const ALLOCATOR_MARGIN = MiB
const PAGE = 65536

/** What the guard needs of the backend's Emscripten module. */
export interface WasmHeapModule {
  _malloc(bytes: number): number
  _free(address: number): void
}

/** The wasm heap's OutOfMemoryError: what tensors hold, and which bound was met. */
function heapFull(requestedBytes: number, heldBytes: number, limitBytes: number | null, heapBytes: number): OutOfMemoryError {
  const where =
    limitBytes === null
      ? `the WebAssembly heap is full (${gib(heapBytes)} GiB of its ${gib(HEAP_CEILING)} GiB)`
      : `the WebAssembly memory limit of ${formatBytes(limitBytes)} (KOTOBA_WASM_MEMORY_MIB) would be passed`
  return new OutOfMemoryError(requestedBytes, `${where}; tensors hold ${formatBytes(heldBytes)}`, limitBytes, ', or train on a GPU (webgpu)')
}

export interface WasmMemoryUsage {
  /** Bytes held by live allocations (tensors and kernels' scratch). */
  heldBytes: number
  /** The most held since the last resetWasmPeak(). */
  peakBytes: number
  /** The heap's size now (it only grows). */
  heapBytes: number
}

interface Guard {
  module: WasmHeapModule
  memory: WebAssembly.Memory
  sizes: Map<number, number>
  held: number
  peak: number
}

let guard: Guard | null = null
/** undefined until set or read from the environment when the first heap is guarded. */
let limitBytes: number | null | undefined

/**
 * Checks every allocation the backend (and our kernels, which allocate through it) makes: a failed one throws an
 * OutOfMemoryError before anything is written. Idempotent per module.
 */
export function guardWasmHeap(module: WasmHeapModule, memory: WebAssembly.Memory): void {
  if (guard?.module === module) return
  limitBytes ??= bytesFromEnvironment('KOTOBA_WASM_MEMORY_MIB')
  const malloc = module._malloc.bind(module)
  const free = module._free.bind(module)
  const state: Guard = { module, memory, sizes: new Map(), held: 0, peak: 0 }
  const grow = memory.grow.bind(memory)
  // Emscripten grows the heap through this object and takes a throw as "could not grow" (malloc then returns 0).
  memory.grow = (pages: number): number => {
    if (memory.buffer.byteLength + pages * PAGE > HEAP_CEILING) throw new RangeError(`the wasm heap stays under ${gib(HEAP_CEILING)} GiB`)
    return grow(pages)
  }
  module._malloc = (bytes: number): number => {
    if (limitBytes != null && state.held + bytes > limitBytes) throw heapFull(bytes, state.held, limitBytes, memory.buffer.byteLength)
    const heapBytes = memory.buffer.byteLength
    if (heapBytes + bytes + ALLOCATOR_MARGIN > ADDRESS_SPACE) throw heapFull(bytes, state.held, null, heapBytes)
    // Emscripten's malloc returns a signed address: above 2 GiB it is negative.
    const address = malloc(bytes) >>> 0
    if (address === 0 && bytes > 0) throw heapFull(bytes, state.held, null, memory.buffer.byteLength)
    state.sizes.set(address, bytes)
    state.held += bytes
    state.peak = Math.max(state.peak, state.held)
    return address
  }
  module._free = (address: number): void => {
    const key = address >>> 0
    const bytes = state.sizes.get(key)
    if (bytes !== undefined) {
      state.sizes.delete(key)
      state.held -= bytes
    }
    free(address)
  }
  guard = state
}

/** The guarded heap's use, or null when no wasm backend runs in this thread. */
export function wasmMemoryUsage(): WasmMemoryUsage | null {
  return guard && { heldBytes: guard.held, peakBytes: guard.peak, heapBytes: guard.memory.buffer.byteLength }
}

/** Starts a new peak from what is held now. */
export function resetWasmPeak(): void {
  if (guard) guard.peak = guard.held
}

/** The cap in force (null: none). */
export function wasmMemoryLimit(): number | null {
  return limitBytes ?? null
}

/** Caps the bytes tensors may hold (null: up to the heap's ceiling); KOTOBA_WASM_MEMORY_MIB sets it at start. */
export function setWasmMemoryLimit(bytes: number | null): void {
  limitBytes = bytes
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(2)
}
