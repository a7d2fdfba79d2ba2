// Messages between the job manager (engine thread) and a job's worker thread.
import type { BackendName, EngineEvent, ErrorCode, JobKind } from '../../api/contract.ts'

export interface JobSpec {
  jobId: string
  kind: JobKind
  params: unknown
  dbPath: string
  backend: BackendName | null
}

/** workerData of every job worker. `control[0]` is set to 1 to ask the job to stop; `control[1]` carries a
 * run-control request for training jobs (see controlRequest). */
export interface JobWorkerData {
  spec: JobSpec
  control: Int32Array
}

export const controlIndex = { cancel: 0, request: 1 } as const

/** Values of control[controlIndex.request]. */
export const controlRequest = { none: 0, pause: 1, stop: 2 } as const

export type WorkerMessage =
  | { type: 'progress'; done: number; total: number | null; unit: string }
  | { type: 'event'; event: EngineEvent }
  | { type: 'done'; result: unknown }
  | { type: 'cancelled' }
  | { type: 'failed'; error: string; code?: ErrorCode }
  /** The job could not start (e.g. its compute backend never came up) and did nothing yet: start it again. */
  | { type: 'stalled'; error: string }
