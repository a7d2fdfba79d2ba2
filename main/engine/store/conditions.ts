// Expected storage conditions, not crashes: another writer holds the database (SQLITE_BUSY), or the disk is full
// (SQLITE_FULL, ENOSPC). Writers retry the first with back-off; the second becomes a clear `disk_full` error.

/** Another connection holds the write lock longer than the busy timeout. */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

/** The database or the disk under it is full. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || code === 'disk_full'
}

/** The error codes a client acts on differently (free disk space; shorten the input; wait for the GPU), or null for
 *  any other error. */
export function expectedErrorCode(error: unknown): 'disk_full' | 'too_large' | 'gpu_lost' | null {
  if (isDiskFull(error)) return 'disk_full'
  const code = (error as { code?: unknown } | null)?.code
  return code === 'too_large' || code === 'gpu_lost' ? code : null
}

export class DiskFullError extends Error {
  readonly code = 'disk_full'
  constructor(what: string, cause?: unknown) {
    super(`the disk is full: ${what} could not be written (${cause instanceof Error ? cause.message : 'no space left'}); free some space and try again`)
    this.name = 'DiskFullError'
  }
}

/** Whether the process trains, imports or serves: a pid recorded in the database of a process that is gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface BusyRetryOptions {
  /** Give up after this long in all (each attempt already waits for the busy timeout). */
  maxMs?: number
  /** Called between attempts; throwing from it stops retrying (e.g. a pause request). */
  onRetry?: (attempt: number, error: unknown) => void
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4))
/** Blocks this thread (a worker's, or the CLI's between commands): better-sqlite3 calls are synchronous anyway. */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms)
}

/** Runs a write, retrying with exponential back-off (0.1 s → 2 s) while the database is busy. */
export function retryWhileBusy<T>(write: () => T, options: BusyRetryOptions = {}): T {
  const deadline = Date.now() + (options.maxMs ?? 10 * 60_000)
  for (let attempt = 1; ; attempt++) {
    try {
      return write()
    } catch (error) {
      if (!isBusy(error) || Date.now() > deadline) throw error
      options.onRetry?.(attempt, error)
      sleepSync(Math.min(2000, 100 * 2 ** Math.min(attempt - 1, 5)))
    }
  }
}
