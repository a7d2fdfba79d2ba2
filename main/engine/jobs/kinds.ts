// Which module runs each kind of long job. A job's worker thread loads only its kind's module, so a corpus import
// or a word2vec training never loads TensorFlow.js and the model code (tens of MiB per worker).
import type { ResourceLimits } from 'node:worker_threads'
import type { JobKind } from '../../api/contract.ts'
import type { JobRunner } from './context.ts'

type RunnerModule = { runners: Partial<Record<JobKind, JobRunner>> }

const modelJobs = (): Promise<RunnerModule> => import('./model-jobs.ts')
const dataJobs = (): Promise<RunnerModule> => import('./data-jobs.ts')
const word2vecJobs = (): Promise<RunnerModule> => import('./word2vec-jobs.ts')

const moduleOf: Record<JobKind, () => Promise<RunnerModule>> = {
  'corpus.import': dataJobs,
  'corpus.clean': dataJobs,
  'corpus.index': dataJobs,
  'tokenizer.train': dataJobs,
  'run.train': modelJobs,
  'run.eval': modelJobs,
  'run.translate': modelJobs,
  'run.distil': modelJobs,
  'run.chat': modelJobs,
  'w2v.train': word2vecJobs,
  'w2v.eval': word2vecJobs,
  'w2v.import': word2vecJobs,
}

export async function jobRunner(kind: JobKind): Promise<JobRunner> {
  const runner = (await moduleOf[kind]()).runners[kind]
  if (!runner) throw new Error(`no runner for job kind '${kind}'`)
  return runner
}

/** V8 limits of a kind's worker. A word2vec training keeps its data in shared WebAssembly memory and allocates little
 *  once its corpus is read, so a small young generation keeps ~20 MiB of idle heap out of the process. */
export const jobResourceLimits: Partial<Record<JobKind, ResourceLimits>> = {
  'w2v.train': { maxYoungGenerationSizeMb: 8 },
}
