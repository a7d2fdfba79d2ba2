// Helpers every group of handlers uses: files, corpora and jobs run to their end.
import { existsSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { ApiError, type JobKind, type MethodName, type Result, type ValidParams } from '../../api/contract.ts'
import type { LocalText } from '../../api/messages.ts'
import { findCorpus } from '../corpus/repository.ts'
import { requestRunControl, trainedElsewhere } from '../training/repository.ts'
import type { Engine } from '../engine.ts'

/** An absolute path to an existing file, or a not_found / bad_request error naming it. */
export function requireFile(file: string): string {
  const path = resolve(file)
  if (!existsSync(path)) throw new ApiError({ code: 'not_found', message: `no such file: ${path}` })
  if (!statSync(path).isFile()) throw new ApiError({ code: 'bad_request', message: `not a file: ${path}` })
  return path
}

/** An absolute path to write: its folder must exist, and an existing file is replaced only when asked to. */
export function requireOutputFile(out: string, force: boolean): string {
  const path = resolve(out)
  const folder = dirname(path)
  if (!existsSync(folder)) throw new ApiError({ code: 'not_found', message: `the folder ${folder} does not exist: create it first, or write elsewhere` })
  if (!statSync(folder).isDirectory()) throw new ApiError({ code: 'bad_request', message: `${folder} is not a folder` })
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new ApiError({ code: 'bad_request', message: `${path} is a folder; name a file to write` })
    if (!force) throw new ApiError({ code: 'conflict', message: `${path} exists; overwrite it with --force (force: true), or choose another name` })
  }
  return path
}

/** Asks the other process that trains a run (e.g. `kotoba train` in a terminal) to pause or stop, through the
 *  database, and waits until it has (or has died, or ten minutes passed). */
export async function controlRunElsewhere(engine: Engine, runId: number, kind: 'pause' | 'stop', isRunning: () => boolean): Promise<void> {
  requestRunControl(engine.db, runId, kind)
  const deadline = Date.now() + 10 * 60_000
  while (isRunning() && trainedElsewhere(engine.db, runId) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200))
}

export async function runJobToEnd(engine: Engine, kind: JobKind, params: unknown, title: LocalText): Promise<unknown> {
  const job = engine.jobs.start(kind, params, title)
  const label = job.label
  const finished = await engine.jobs.wait(job.jobId)
  if (finished.status === 'cancelled') throw new ApiError({ code: 'conflict', message: `${label}: cancelled` })
  if (finished.status !== 'done') throw new ApiError({ code: finished.errorCode ?? 'bad_request', message: finished.error ?? `${label} failed` })
  return engine.jobs.result(job.jobId)
}

export function requireCorpus(engine: Engine, name: string) {
  const corpus = findCorpus(engine.db, name)
  if (!corpus) throw new ApiError({ code: 'not_found', message: `no corpus named '${name}'` })
  return corpus
}

/** Handlers for a group of methods; params arrive validated. */
export type HandlersFor<K extends MethodName> = {
  [M in K]: (engine: Engine, params: ValidParams<M>) => Promise<Result<M>> | Result<M>
}
