// Entry of every job's worker thread: opens its own database connection and runs one job.
import { parentPort, workerData } from 'node:worker_threads'
import { openDatabase } from '../store/database.ts'
import { JobCancelledError, jobRunners } from './kinds.ts'
import { controlIndex, controlRequest, type JobWorkerData, type WorkerMessage } from './protocol.ts'

const { spec, control } = workerData as JobWorkerData
const post = (message: WorkerMessage): void => parentPort!.postMessage(message)
const isCancelled = (): boolean => Atomics.load(control, controlIndex.cancel) === 1
const request = (): 'pause' | 'stop' | null => {
  const value = Atomics.load(control, controlIndex.request)
  return value === controlRequest.stop ? 'stop' : value === controlRequest.pause || isCancelled() ? 'pause' : null
}

const db = openDatabase(spec.dbPath)
try {
  const result = await jobRunners[spec.kind]({ spec, db, isCancelled, request, post })
  post({ type: 'done', result })
} catch (error) {
  if (error instanceof JobCancelledError) post({ type: 'cancelled' })
  else post({ type: 'failed', error: error instanceof Error ? error.message : String(error) })
} finally {
  db.close()
}
