// Out of memory on a compute device, as an expected condition: raised before anything is written, so the update it
// stops has changed nothing and the trainer can run it again in smaller pieces.

const MiB = 2 ** 20

/** A tensor (or a kernel's scratch space) did not fit in the compute device's memory. */
export class OutOfMemoryError extends Error {
  readonly code = 'out_of_memory'
  /** Bytes of a GPU's pool of released buffers destroyed after the failure: the same work may fit now. */
  pooledBytesFreed = 0
  constructor(
    readonly requestedBytes: number,
    /** Where it did not fit, e.g. "the WebAssembly heap is full (…)". */
    where: string,
    /** The user's cap when that was the bound, else null: the device itself was full. */
    readonly limitBytes: number | null,
    advice: string,
  ) {
    super(`out of memory: ${formatBytes(requestedBytes)} more did not fit, ${where}. Lower the tokens per batch, the vocabulary or the model size${advice}.`)
    this.name = 'OutOfMemoryError'
  }
}

/** True for an OutOfMemoryError, also one that crossed a module or realm boundary. */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof OutOfMemoryError || (error as { code?: unknown } | null)?.code === 'out_of_memory'
}

/** A size in the unit that shows it: KiB below 1 MiB, else MiB. */
export function formatBytes(bytes: number): string {
  return bytes < MiB ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / MiB).toFixed(1)} MiB`
}

/** A cap in MiB from this environment variable, in bytes (null: unset or empty). */
export function bytesFromEnvironment(name: string): number | null {
  const text = process.env[name]
  if (text === undefined || text.trim() === '') return null
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number of MiB, not '${text}'`)
  return Math.floor(value * MiB)
}
