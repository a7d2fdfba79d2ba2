// The compute device's memory as the trainer charts it: the wasm heap's tensors, or the engine's GPU buffers in use.
import { gpuMemoryUsage, resetGpuPeak } from './webgpu-memory.ts'
import { resetWasmPeak, wasmMemoryUsage } from './wasm-memory.ts'

/** Starts a new peak from what is held now. */
export function resetMemoryPeak(): void {
  resetWasmPeak()
  resetGpuPeak()
}

/** The most bytes held at once since resetMemoryPeak on the backend in use, or null where it is not measured (cpu). */
export function memoryPeakBytes(): number | null {
  return (gpuMemoryUsage() ?? wasmMemoryUsage())?.peakBytes ?? null
}
