// What each kind of long job does inside its worker thread.
import { CleanOptions, CorpusImportParams, TokenizerTrainParams, type JobKind } from '../../api/contract.ts'
import { trainBpe } from '../../../models/tokenizer/bpe-trainer.ts'
import { writeModelProto } from '../../../models/tokenizer/model-writer.ts'
import { saveTrainedTokenizer } from '../tokenizers/repository.ts'
import { corpusTexts } from '../corpus/repository.ts'
import { z } from 'zod'
import { cleanCorpus } from '../corpus/clean.ts'
import { findCorpus } from '../corpus/repository.ts'
import { indexCorpus } from '../corpus/search.ts'
import { CorpusCancelledError, importCorpus } from '../corpus/import.ts'
import type { Database } from '../store/database.ts'
import type { JobSpec, WorkerMessage } from './protocol.ts'

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
  post: (message: WorkerMessage) => void
}

type JobRunner = (context: JobContext) => Promise<unknown>

export const jobRunners: Record<JobKind, JobRunner> = {
  'corpus.import': async ({ spec, db, isCancelled, post }) => {
    const params = CorpusImportParams.parse(spec.params)
    try {
      const result = await importCorpus(db, params, {
        isCancelled,
        onProgress: ({ bytesRead, totalBytes }) => post({ type: 'progress', done: bytesRead, total: totalBytes, unit: 'bytes' }),
      })
      post({ type: 'event', event: { event: 'corpus.changed', data: { name: result.name } } })
      return result
    } catch (error) {
      if (error instanceof CorpusCancelledError) throw new JobCancelledError()
      throw error
    }
  },
  'corpus.index': async ({ spec, db, post }) => {
    const { name } = z.object({ name: z.string() }).parse(spec.params)
    const corpus = findCorpus(db, name)
    if (!corpus) throw new Error(`no corpus named '${name}'`)
    indexCorpus(db, corpus.id) // one SQLite statement: not interruptible midway, so no cancel check inside
    post({ type: 'progress', done: corpus.rows, total: corpus.rows, unit: 'rows' })
    post({ type: 'event', event: { event: 'corpus.changed', data: { name } } })
    return { rows: corpus.rows }
  },
  'tokenizer.train': async ({ spec, db, isCancelled, post }) => {
    const params = TokenizerTrainParams.parse(spec.params)
    const corpus = findCorpus(db, params.corpus)
    if (!corpus) throw new Error(`no corpus named '${params.corpus}'`)
    if (params.type !== 'bpe') throw new Error('unigram training is not available yet: use type bpe')
    post({ type: 'progress', done: 0, total: 3, unit: 'phases' })
    const texts = corpusTexts(db, corpus.id, params.side)
    if (isCancelled()) throw new JobCancelledError()
    post({ type: 'progress', done: 1, total: 3, unit: 'phases' })
    const model = trainBpe(texts, { vocabSize: params.vocabSize, characterCoverage: params.characterCoverage })
    if (isCancelled()) throw new JobCancelledError()
    post({ type: 'progress', done: 2, total: 3, unit: 'phases' })
    saveTrainedTokenizer(db, { name: params.name, type: 'bpe', side: params.side, corpusId: corpus.id, corpusName: corpus.name }, writeModelProto(model), model.pieces.length)
    post({ type: 'progress', done: 3, total: 3, unit: 'phases' })
    return { pieces: model.pieces.length }
  },
  'corpus.clean': async ({ spec, db, isCancelled, post }) => {
    const { name, ...options } = CleanOptions.extend({ name: z.string() }).parse(spec.params)
    const corpus = findCorpus(db, name)
    if (!corpus) throw new Error(`no corpus named '${name}'`)
    try {
      const report = cleanCorpus(db, corpus.id, options, {
        isCancelled,
        onProgress: (done, total) => post({ type: 'progress', done, total, unit: 'rows' }),
      })
      post({ type: 'event', event: { event: 'corpus.changed', data: { name } } })
      return report
    } catch (error) {
      if (error instanceof CorpusCancelledError) throw new JobCancelledError()
      throw error
    }
  },
}
