// Jobs over corpora and tokenizers: import, clean, index, and SentencePiece training.
import type { JobKind } from '../../api/contract.ts'
import { CleanOptions, CorpusImportParams, TokenizerTrainParams } from '../../api/contract.ts'
import { z } from 'zod'
import { trainBpe } from '../../../models/tokenizer/bpe-trainer.ts'
import { writeModelProto } from '../../../models/tokenizer/model-writer.ts'
import { trainUnigram } from '../../../models/tokenizer/unigram-trainer.ts'
import { cleanCorpus } from '../corpus/clean.ts'
import { CorpusCancelledError, importCorpus } from '../corpus/import.ts'
import { corpusTexts, findCorpus } from '../corpus/repository.ts'
import { indexCorpus } from '../corpus/search.ts'
import { loadNmtNfkcRules } from '../tokenizers/normalization-cache.ts'
import { saveTrainedTokenizer } from '../tokenizers/repository.ts'
import { JobCancelledError, type JobRunner } from './context.ts'

export const runners: Partial<Record<JobKind, JobRunner>> = {
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
  'corpus.index': async ({ spec, db, isCancelled, post }) => {
    const { name } = z.object({ name: z.string() }).parse(spec.params)
    const corpus = findCorpus(db, name)
    if (!corpus) throw new Error(`no corpus named '${name}'`)
    // Chunk by chunk: a cancel (the engine closing) stops it within one chunk, leaving the index pending.
    if (!indexCorpus(db, corpus.id, isCancelled, (done, total) => post({ type: 'progress', done, total, unit: 'rows' }))) throw new JobCancelledError()
    post({ type: 'event', event: { event: 'corpus.changed', data: { name } } })
    return { rows: corpus.rows }
  },
  'tokenizer.train': async ({ spec, db, isCancelled, post }) => {
    const params = TokenizerTrainParams.parse(spec.params)
    const corpus = findCorpus(db, params.corpus)
    if (!corpus) throw new Error(`no corpus named '${params.corpus}'`)
    post({ type: 'progress', done: 0, total: 3, unit: 'phases' })
    const texts = corpusTexts(db, corpus.id, params.side)
    if (isCancelled()) throw new JobCancelledError()
    post({ type: 'progress', done: 1, total: 3, unit: 'phases' })
    if (params.normalization !== 'identity') loadNmtNfkcRules(db)
    const options = { vocabSize: params.vocabSize, characterCoverage: params.characterCoverage, userSymbols: params.userSymbols, byteFallback: params.byteFallback, normalization: params.normalization }
    const model = params.type === 'bpe' ? trainBpe(texts, options) : trainUnigram(texts, options)
    if (isCancelled()) throw new JobCancelledError()
    post({ type: 'progress', done: 2, total: 3, unit: 'phases' })
    saveTrainedTokenizer(
      db,
      { name: params.name, type: params.type, side: params.side, corpusId: corpus.id, corpusName: corpus.name },
      writeModelProto(model),
      model.pieces.length,
      model.normalization.name,
    )
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
