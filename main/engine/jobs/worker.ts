// Entry of every job's worker thread: opens its own database connection and runs one job. The warm inference
// worker starts from the same script (one bundled entry), told apart by its workerData.
import { parentPort, workerData } from 'node:worker_threads'
import type { JobKind } from '../../api/contract.ts'
import { explainGpuLoss } from '../compute/gpu-loss.ts'
import { expectedErrorCode } from '../store/conditions.ts'
import { openDatabase } from '../store/database.ts'
import { JobCancelledError, JobStalledError } from './context.ts'
import { jobRunner } from './kinds.ts'
import { controlIndex, controlRequest, type JobWorkerData, type WorkerMessage } from './protocol.ts'

if ((workerData as { warm?: boolean }).warm) await import('../inference/warm-worker.ts')
else await runJob()

async function runJob(): Promise<void> {
  const { spec, control } = workerData as JobWorkerData
  const post = (message: WorkerMessage): void => parentPort!.postMessage(message)
  const isCancelled = (): boolean => Atomics.load(control, controlIndex.cancel) === 1
  const request = (): 'pause' | 'stop' | null => {
    const value = Atomics.load(control, controlIndex.request)
    return value === controlRequest.stop ? 'stop' : value === controlRequest.pause || isCancelled() ? 'pause' : null
  }

  const answeringKinds = new Set<JobKind>(['run.translate', 'run.chat', 'run.eval'])
  const isRetryable = (error: unknown): boolean => (error as { retryable?: unknown } | null)?.retryable === true

  const db = openDatabase(spec.dbPath)
  // The wasm backend's pool threads are daemons (unref'd); work that waits on one of them (its start-up, a message it
  // proxies to this thread) must not find an empty event loop, or Node ends the worker with "unsettled top-level
  // await" (exit code 13). This timer keeps the loop alive until the job is over.
  const keepAlive = setInterval(() => {}, 60_000)
  try {
    const result = await (await jobRunner(spec.kind))({ spec, db, isCancelled, request, post })
    post({ type: 'done', result })
  } catch (caught) {
    // A lost GPU fails tfjs with errors that say nothing; named, an answer is retryable (a fresh worker starts a new
    // device). Trainings name it themselves, as they pause.
    const controlled = caught instanceof JobCancelledError || caught instanceof JobStalledError
    const error = answeringKinds.has(spec.kind) && !controlled ? await explainGpuLoss(caught) : caught
    if (error instanceof JobCancelledError) post({ type: 'cancelled' })
    else if (error instanceof JobStalledError) post({ type: 'stalled', error: error.message })
    // A compute thread or the GPU lost while answering (translate, chat, eval write nothing until they finish): a
    // fresh worker answers instead. Trainings retry the step themselves, or pause at their last checkpoint.
    else if (isRetryable(error) && answeringKinds.has(spec.kind)) post({ type: 'stalled', error: (error as Error).message })
    else post({ type: 'failed', error: error instanceof Error ? error.message : String(error), code: expectedErrorCode(error) ?? undefined })
  } finally {
    clearInterval(keepAlive)
    db.close()
  }
}
