// What every job runner gets inside its worker thread, and what they share.
import type { ComputeReport } from '../../api/contract.ts'
import type { JobSpec, WorkerMessage } from './protocol.ts'
import type { Database } from '../store/database.ts'

export class JobCancelledError extends Error {
  constructor() {
    super('cancelled')
    this.name = 'JobCancelledError'
  }
}

export interface JobContext {
  spec: JobSpec
  db: Database
  isCancelled: () => boolean
  /** A pause or stop request from the run controls (a cancel counts as pause). */
  request: () => 'pause' | 'stop' | null
  post: (message: WorkerMessage) => void
}

export type JobRunner = (context: JobContext) => Promise<unknown>

/** Thrown when a worker's start-up never finishes (nothing was done yet): the manager retries in a fresh worker. */
export class JobStalledError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'JobStalledError'
  }
}

/** How long a backend may take to start. It takes well under a second (a few on a loaded machine); a start that
 *  never settles has been seen (rarely) with the threaded wasm build, cannot be undone in the same thread, and holds
 *  up whatever waits on the job — a chat reply — until the job manager retries it in a fresh worker. */
const computeStartDeadlineMs = Number(process.env.KOTOBA_COMPUTE_START_DEADLINE_MS ?? 20_000)

/** TensorFlow.js in this worker thread (loaded only here): the backend the engine was told to use, else the best. */
export async function startCompute(spec: JobSpec): Promise<ComputeReport> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new JobStalledError(`the TensorFlow.js backend did not start within ${computeStartDeadlineMs / 1000} s`)), computeStartDeadlineMs)
  })
  try {
    const report = await Promise.race([import('../compute/backends.ts').then(({ selectBackend }) => selectBackend(spec.backend)), deadline])
    if (!report.active) throw new Error(`no TensorFlow.js backend could start: ${report.error ?? report.reason}`)
    return report
  } finally {
    clearTimeout(timer)
  }
}
