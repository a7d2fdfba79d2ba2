// What every job runner gets inside its worker thread, and what they share.
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

/** TensorFlow.js in this worker thread (loaded only here): the backend the engine was told to use, else the best. */
export async function startCompute(spec: JobSpec): Promise<void> {
  const { selectBackend } = await import('../compute/backends.ts')
  const report = await selectBackend(spec.backend)
  if (!report.active) throw new Error(`no TensorFlow.js backend could start: ${report.error ?? report.reason}`)
}
