// The engine: owns the database, the compute backend and the jobs; answers API requests.
import { findWord2Vec, updateWord2Vec } from './word2vec/repository.ts'
import { z } from 'zod'
import {
  ApiError,
  isMethodName,
  methods,
  type BackendName,
  type ComputeReport,
  type EngineEvent,
  type MethodName,
  type Result,
  type ValidParams,
} from '../api/contract.ts'
import { message } from '../api/messages.ts'
import { JobManager, type WorkerEntry } from './jobs/manager.ts'
import { giveVulkanARuntimeDir } from './compute/vulkan-environment.ts'
import { WarmInference } from './inference/warm-inference.ts'
import { unindexedCorpora } from './corpus/search.ts'
import { loadSampleOnce } from './sample/load.ts'
import { removeAbandonedImports } from './corpus/repository.ts'
import { openDatabase, type Database } from './store/database.ts'
import { DiskFullError, expectedErrorCode, isDiskFull } from './store/conditions.ts'
import { handlers } from './handlers.ts'
import { findRun, lastRunOnDevice, markInterruptedRuns, updateRun } from './training/repository.ts'

export interface EngineOptions {
  dbPath: string
  /** Force one TensorFlow.js backend instead of picking the best. */
  backend?: BackendName | null
  /** Load the bundled sample corpora into a new database (default true). */
  loadSample?: boolean
  /**
   * Build corpora's search indexes in the background: after an import, a clean or a distillation, and at start for
   * corpora left unindexed (default true). A one-shot process (a CLI command) passes false: it would otherwise wait
   * at exit for an index of a large corpus (30 s for a million pairs) it never uses. Its corpora are searched by a
   * scan until a long-running engine (the app, `kotoba serve`) indexes them.
   */
  backgroundIndexing?: boolean
  worker: WorkerEntry
}

type Listener = (event: EngineEvent) => void

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error
  if (error instanceof z.ZodError) {
    const issues = error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.map(String).join('.') : '(params)',
      message: issue.message,
    }))
    return new ApiError({
      code: 'bad_request',
      message: `invalid params: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ')}`,
      issues,
    })
  }
  const expected = expectedErrorCode(error)
  if (expected === 'disk_full') return new ApiError({ code: 'disk_full', message: error instanceof DiskFullError ? error.message : new DiskFullError('the change', error).message })
  if (expected === 'too_large' || expected === 'gpu_lost') return new ApiError({ code: expected, message: (error as Error).message })
  return new ApiError({ code: 'internal', message: error instanceof Error ? error.message : String(error) })
}

export class Engine {
  readonly jobs: JobManager
  /** Translations and chat replies, with models kept loaded between requests. */
  readonly inference: WarmInference
  /** The training job of each run that is training now. */
  private readonly runJobs = new Map<string, string>()
  private readonly listeners = new Set<Listener>()
  private compute: Promise<ComputeReport> | null = null

  private constructor(
    readonly db: Database,
    readonly options: EngineOptions,
  ) {
    giveVulkanARuntimeDir() // for the job and inference workers' GPU backend
    this.inference = new WarmInference({ dbPath: options.dbPath, backend: options.backend ?? null, worker: options.worker })
    this.jobs = new JobManager({
      dbPath: options.dbPath,
      backend: options.backend ?? null,
      worker: options.worker,
      emit: (event) => this.emit(event),
      onFinished: (job, params) => {
        if (job.kind === 'run.train' || job.kind === 'w2v.train') {
          const { name } = params as { name: string }
          this.runJobs.delete(name)
          // A worker that died without reporting (out of memory, a native crash) leaves the run 'running'.
          const error = job.error ?? 'the training job ended unexpectedly'
          const run = job.kind === 'run.train' ? findRun(this.db, name) : undefined
          if (run?.status === 'running') {
            updateRun(this.db, run.id, { status: 'failed', error })
            this.emit({ event: 'run.changed', data: { name, status: 'failed', step: run.step } })
          }
          const embeddings = job.kind === 'w2v.train' ? findWord2Vec(this.db, name) : undefined
          if (embeddings?.status === 'running') {
            updateWord2Vec(this.db, embeddings.id, { status: 'failed', error })
            this.emit({ event: 'w2v.changed', data: { name, status: 'failed', epoch: embeddings.epoch } })
          }
        }
        // Rows changed: rebuild the corpus's search index in the background (search scans meanwhile).
        if (this.options.backgroundIndexing !== false && job.status === 'done' && (job.kind === 'corpus.import' || job.kind === 'corpus.clean' || job.kind === 'run.distil')) {
          const name = job.kind === 'run.distil' ? (params as { into: string }).into : (params as { name: string }).name
          this.indexInBackground(name)
        }
      },
    })
  }

  static async open(options: EngineOptions): Promise<Engine> {
    const db = openDatabase(options.dbPath)
    try {
      try {
        markInterruptedRuns(db)
        removeAbandonedImports(db)
      } catch (error) {
        // Housekeeping can wait for a disk with space; reading (runs list, corpus show, translate) must not.
        if (!isDiskFull(error)) throw error
        console.error(`kotoba: the disk is full; interrupted runs and imports are tidied at a later start (${(error as Error).message})`)
      }
      if (options.loadSample ?? true) await loadSampleOnce(db)
    } catch (error) {
      db.close()
      throw error
    }
    const engine = new Engine(db, options)
    if (options.backgroundIndexing !== false) for (const name of unindexedCorpora(db)) engine.indexInBackground(name)
    return engine
  }

  private indexInBackground(name: string): void {
    this.jobs.start('corpus.index', { name }, message('jobIndex', { name }))
  }

  /** The jobId of the run's training job, if it is training. */
  runJob(name: string): string | null {
    return this.runJobs.get(name) ?? null
  }

  /** Starts (or resumes from its last checkpoint) a run's training job. */
  startRun(name: string): string {
    const job = this.jobs.start('run.train', { name }, message('jobTrain', { name }))
    this.runJobs.set(name, job.jobId)
    return job.jobId
  }

  /** Starts (or resumes from its last finished epoch) a word2vec run's training job. */
  startWord2Vec(name: string): string {
    const job = this.jobs.start('w2v.train', { name }, message('jobWord2vec', { name }))
    this.runJobs.set(name, job.jobId)
    return job.jobId
  }

  /** The backend this process computes on, with its live tensor memory. TensorFlow.js loads and the selection runs
   *  on first use, so opening the engine stays fast and light (jobs compute in their own worker threads). */
  async computeReport(): Promise<ComputeReport> {
    const backends = await import('./compute/backends.ts')
    this.compute ??= backends.selectBackend(this.options.backend ?? null)
    const report = backends.withMemory(await this.compute)
    const { active, device } = report
    return { ...report, lastRun: active !== null && device !== null ? lastRunOnDevice(this.db, { backend: active, device }) : null }
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit(event: EngineEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch (error) {
        console.error('engine: an event listener failed:', error)
      }
    }
  }

  /** Validates and answers one request. Never throws anything but ApiError. */
  async handle(method: string, params: unknown): Promise<unknown> {
    try {
      if (!isMethodName(method)) {
        throw new ApiError({ code: 'unknown_method', message: `unknown method '${method}'` })
      }
      return await this.dispatch(method, params)
    } catch (error) {
      const apiError = toApiError(error)
      if (apiError.code === 'internal') console.error(`engine: ${method} failed:`, error)
      throw apiError
    }
  }

  private async dispatch<M extends MethodName>(method: M, params: unknown): Promise<Result<M>> {
    const valid = methods[method].params.parse(params ?? {}) as ValidParams<M>
    const handler = handlers[method] as (engine: Engine, params: ValidParams<M>) => Promise<Result<M>> | Result<M>
    return await handler(this, valid)
  }

  async close(): Promise<void> {
    this.inference.stop()
    await this.jobs.shutdown()
    this.listeners.clear()
    this.db.close()
  }
}
