// Runs long jobs in worker threads so the request loop never blocks; tracks progress, ETA and cancel.
import { randomUUID } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import type { BackendName, EngineEvent, ErrorCode, JobKind, JobProgress } from '../../api/contract.ts'
import { ApiError } from '../../api/contract.ts'
import { english, type LocalText } from '../../api/messages.ts'
import { controlIndex, controlRequest, type JobWorkerData, type WorkerMessage } from './protocol.ts'
import { jobResourceLimits } from './kinds.ts'

export interface WorkerEntry {
  /** The worker script: a .ts file in the source tree (run through tsx) or the bundled .js. */
  url: URL
  execArgv: string[]
}

export interface JobManagerOptions {
  dbPath: string
  backend: BackendName | null
  worker: WorkerEntry
  emit: (event: EngineEvent) => void
  /** Minimum milliseconds between two progress events of one job. */
  progressIntervalMs?: number
  /** Called once when a job ends, whatever its status (e.g. to start follow-up work). */
  onFinished?: (job: JobProgress, params: unknown) => void
}

interface RunningJob {
  progress: JobProgress
  /** What the job returned, once done. */
  result: unknown
  worker: Worker | null
  control: Int32Array
  startedMs: number
  /** Progress samples of the last throughputWindowMs (the first is the window's start). */
  samples: { ms: number; done: number }[]
  lastEmitMs: number
  finished: Promise<JobProgress>
}

/** Throughput (and so the ETA) is measured over this much recent time: long enough that a validation pause or a
 *  slow step does not swing the ETA, short enough to follow a real change of speed. */
const throughputWindowMs = 30_000
/** After a cancel request, how long a job may take to stop on its own before its thread is killed. */
const cancelGraceMs = 30_000
/** How many fresh worker threads a job whose start-up stalled gets, in all. */
const maxStartAttempts = 2
/** Finished jobs kept for jobs.list / jobs.get; older ones are forgotten. */
const keptFinishedJobs = 200

/** A training job's result says whether it ended paused or stopped (trainRun and the word2vec trainer return it). */
function outcomeOf(result: unknown): JobProgress['outcome'] {
  const status = (result as { status?: unknown } | null)?.status
  return status === 'paused' || status === 'stopped' ? status : null
}

export class JobManager {
  private readonly jobs = new Map<string, RunningJob>()

  constructor(private readonly options: JobManagerOptions) {}

  start(kind: JobKind, params: unknown, title: LocalText): JobProgress {
    const jobId = randomUUID()
    const control = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * 4))
    const progress: JobProgress = {
      jobId,
      kind,
      label: english(title),
      labelText: title,
      status: 'running',
      done: 0,
      total: null,
      unit: '',
      fraction: null,
      throughput: null,
      etaSeconds: null,
      startedAt: new Date().toISOString(),
      error: null,
    }
    const data: JobWorkerData = {
      spec: { jobId, kind, params, dbPath: this.options.dbPath, backend: this.options.backend },
      control,
    }
    let settle!: (value: JobProgress) => void
    const job: RunningJob = {
      progress,
      result: null,
      worker: null,
      control,
      startedMs: Date.now(),
      samples: [],
      lastEmitMs: 0,
      finished: new Promise((resolve) => (settle = resolve)),
    }
    this.jobs.set(jobId, job)

    const finish = (status: JobProgress['status'], error: string | null, errorCode: ErrorCode | null = null): void => {
      if (job.progress.status !== 'running') return
      job.progress = { ...job.progress, status, error, errorCode, etaSeconds: null }
      if (status === 'done') job.progress.fraction = 1
      job.worker = null
      this.options.emit({ event: 'job.progress', data: job.progress })
      settle(job.progress)
      this.forgetOldJobs()
      try {
        this.options.onFinished?.(job.progress, params)
      } catch (error) {
        // Follow-up bookkeeping (e.g. marking a run failed) may meet a full disk: log it, never crash the engine.
        process.stderr.write(`kotoba: after job ${jobId} (${kind}): ${error instanceof Error ? error.message : String(error)}\n`)
      }
    }
    const spawnWorker = (attempt: number): void => {
      const worker = new Worker(this.options.worker.url, { workerData: data, execArgv: this.options.worker.execArgv, resourceLimits: jobResourceLimits[kind] })
      job.worker = worker
      const current = () => job.worker === worker // messages of a replaced worker are ignored
      worker.on('message', (message: WorkerMessage) => {
        if (!current()) return
        switch (message.type) {
          case 'progress':
            this.recordProgress(job, message.done, message.total, message.unit)
            break
          case 'event':
            this.options.emit(message.event)
            break
          case 'done':
            job.result = message.result
            job.progress.outcome = outcomeOf(message.result)
            finish('done', null)
            break
          case 'cancelled':
            finish('cancelled', null)
            break
          case 'failed':
            finish('failed', message.error, message.code)
            break
          case 'stalled':
            // Nothing was done yet: a fresh thread gets one more try (a hung start cannot be undone in its own).
            if (attempt < maxStartAttempts && Atomics.load(control, controlIndex.cancel) === 0) {
              process.stderr.write(`kotoba: job ${jobId} (${kind}): ${message.error}; starting it again in a fresh worker\n`)
              job.worker = null
              void worker.terminate()
              spawnWorker(attempt + 1)
            } else {
              finish('failed', `${message.error} (${attempt} attempts)`)
            }
            break
        }
      })
      worker.on('error', (error) => current() && finish('failed', error.message))
      worker.on('exit', (code) => {
        if (!current()) return
        const cancelRequested = Atomics.load(control, controlIndex.cancel) === 1
        if (cancelRequested) finish('cancelled', null)
        else finish('failed', `the job's worker exited unexpectedly (code ${code})`)
      })
    }
    spawnWorker(1)
    this.options.emit({ event: 'job.progress', data: progress })
    return progress
  }

  private recordProgress(job: RunningJob, done: number, total: number | null, unit: string): void {
    const now = Date.now()
    // The first sample only sets the baseline: a resumed job starts at done > 0.
    const last = job.samples.at(-1)
    if (!last || now - last.ms >= 250) job.samples.push({ ms: now, done }) // a few samples a second are plenty
    while (job.samples.length > 2 && now - job.samples[1]!.ms >= throughputWindowMs) job.samples.shift()
    const oldest = job.samples[0]!
    if (now > oldest.ms && done >= oldest.done) job.progress.throughput = ((done - oldest.done) * 1000) / (now - oldest.ms)
    else if (done < oldest.done) job.samples = [{ ms: now, done }] // went back (a resumed attempt): start over
    const throughput = job.progress.throughput
    job.progress = {
      ...job.progress,
      done,
      total,
      unit,
      fraction: total && total > 0 ? Math.min(1, done / total) : null,
      etaSeconds: total !== null && throughput && throughput > 0 ? Math.max(0, (total - done) / throughput) : null,
    }
    if (now - job.lastEmitMs >= (this.options.progressIntervalMs ?? 100)) {
      job.lastEmitMs = now
      this.options.emit({ event: 'job.progress', data: job.progress })
    }
  }

  private forgetOldJobs(): void {
    const finished = [...this.jobs.entries()].filter(([, job]) => job.progress.status !== 'running')
    for (const [jobId] of finished.slice(0, Math.max(0, finished.length - keptFinishedJobs))) this.jobs.delete(jobId)
  }

  private find(jobId: string): RunningJob {
    const job = this.jobs.get(jobId)
    if (!job) throw new ApiError({ code: 'not_found', message: `no job with id ${jobId}` })
    return job
  }

  get(jobId: string): JobProgress {
    return this.find(jobId).progress
  }

  /** What a finished job returned (its report), or null. */
  result(jobId: string): unknown {
    return this.find(jobId).result
  }

  list(): JobProgress[] {
    return [...this.jobs.values()].map((job) => job.progress)
  }

  /** Asks the job to stop at its next check; it rolls back what it had not committed. */
  cancel(jobId: string): JobProgress {
    const job = this.find(jobId)
    if (job.progress.status === 'running' && job.worker) {
      Atomics.store(job.control, controlIndex.cancel, 1)
      const worker = job.worker
      const timer = setTimeout(() => void worker.terminate(), cancelGraceMs)
      timer.unref()
      void job.finished.then(() => clearTimeout(timer))
    }
    return job.progress
  }

  /** Asks a training job to save a checkpoint and pause or stop (it ends at its next step). */
  requestStop(jobId: string, kind: 'pause' | 'stop'): JobProgress {
    const job = this.find(jobId)
    if (job.progress.status === 'running') Atomics.store(job.control, controlIndex.request, controlRequest[kind])
    return job.progress
  }

  wait(jobId: string): Promise<JobProgress> {
    return this.find(jobId).finished
  }

  /** Cancels every running job and waits for each to stop. */
  async shutdown(): Promise<void> {
    const running = this.list().filter((job) => job.status === 'running')
    for (const job of running) this.cancel(job.jobId)
    await Promise.all(running.map((job) => this.wait(job.jobId)))
  }
}
