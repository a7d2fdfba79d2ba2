// The engine's side of warm inference: one worker thread, started on the first translation or chat reply, kept while
// it is used and ended after an idle spell (its models and memory go with it). A worker that dies or loses its
// compute backend is replaced, and the request is tried once more in the fresh one.
import { Worker } from 'node:worker_threads'
import { ApiError, type BackendName, type ErrorCode } from '../../api/contract.ts'
import type { WorkerEntry } from '../jobs/manager.ts'
import type { WarmReply, WarmRequest, WarmTask, WarmWorkerData } from './protocol.ts'

export interface WarmInferenceOptions {
  dbPath: string
  backend: BackendName | null
  worker: WorkerEntry
  /** Idle milliseconds before the worker (and every model it holds) is let go. */
  idleMs?: number
  maxModels?: number
}

interface Pending {
  resolve: (result: unknown) => void
  reject: (error: WarmFailure) => void
}

class WarmFailure extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode | undefined,
    readonly retryable: boolean,
  ) {
    super(message)
  }
}

const defaultIdleMs = Number(process.env.KOTOBA_WARM_IDLE_MS ?? 5 * 60_000)

export class WarmInference {
  private worker: Worker | null = null
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private idleTimer: ReturnType<typeof setTimeout> | null = null

  constructor(private readonly options: WarmInferenceOptions) {}

  /** Answers a translate or chat.reply request (params as the API validated them). */
  async call(task: WarmTask, params: unknown): Promise<unknown> {
    try {
      return await this.send(task, params)
    } catch (error) {
      if (!(error instanceof WarmFailure)) throw error
      if (!error.retryable) throw new ApiError({ code: error.code ?? 'bad_request', message: error.message })
      process.stderr.write(`kotoba: inference worker: ${error.message}; answering in a fresh worker\n`)
      this.stop(true)
      try {
        return await this.send(task, params)
      } catch (again) {
        if (again instanceof WarmFailure) throw new ApiError({ code: again.code ?? 'internal', message: again.message })
        throw again
      }
    }
  }

  private send(task: WarmTask, params: unknown): Promise<unknown> {
    const worker = this.ensureWorker()
    const id = this.nextId++
    this.holdOpen()
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ type: 'request', id, task, params } satisfies WarmRequest)
    }).finally(() => this.scheduleIdle())
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker
    const workerData: WarmWorkerData = { warm: true, dbPath: this.options.dbPath, backend: this.options.backend, maxModels: this.options.maxModels ?? 2 }
    const worker = new Worker(this.options.worker.url, { workerData, execArgv: this.options.worker.execArgv })
    worker.unref() // an idle warm worker never keeps the process alive
    worker.on('message', (reply: WarmReply) => {
      const waiting = this.pending.get(reply.id)
      if (!waiting) return
      this.pending.delete(reply.id)
      if (reply.type === 'result') waiting.resolve(reply.result)
      else waiting.reject(new WarmFailure(reply.error, reply.code, reply.retryable))
    })
    const lost = (why: string) => {
      if (this.worker !== worker) return
      this.worker = null
      this.failPending(new WarmFailure(why, 'internal', true))
    }
    worker.on('error', (error) => lost(`the inference worker failed: ${error.message}`))
    worker.on('exit', (code) => lost(`the inference worker exited (code ${code})`))
    this.worker = worker
    return worker
  }

  private failPending(failure: WarmFailure): void {
    for (const [id, waiting] of this.pending) {
      this.pending.delete(id)
      waiting.reject(failure)
    }
  }

  private holdOpen(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer)
    this.idleTimer = null
  }

  private scheduleIdle(): void {
    if (this.pending.size > 0 || !this.worker) return
    this.holdOpen()
    this.idleTimer = setTimeout(() => this.stop(), this.options.idleMs ?? defaultIdleMs)
    this.idleTimer.unref()
  }

  /** Ends the worker now (idle, shutdown, or after it lost its backend); waiting requests fail (`retryable`: to be
   *  tried again in a fresh worker). */
  stop(retryable = false): void {
    this.holdOpen()
    const worker = this.worker
    this.worker = null
    if (!worker) return
    this.failPending(new WarmFailure('the inference worker was stopped', 'internal', retryable))
    void worker.terminate()
  }
}
