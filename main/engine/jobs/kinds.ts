// What each kind of long job does inside its worker thread.
import { CleanOptions, CorpusImportParams, methods, SearchOptions, TokenizerTrainParams, type JobKind } from '../../api/contract.ts'
import { selectBackend } from '../compute/backends.ts'
import { inspectSentence } from '../training/attention.ts'
import { loadDialogueRun, replyTo } from '../training/chat.ts'
import { evaluateDialogues } from '../training/dialogue-task.ts'
import { describeHypothesis, evaluateSplit, loadRun, searchOne } from '../training/inference.ts'
import { findRun, recordMetrics } from '../training/repository.ts'
import { evaluateWord2Vec } from '../word2vec/evaluate.ts'
import { trainWord2VecRun } from '../word2vec/train.ts'
import { trainRun } from '../training/trainer.ts'
import { trainBpe } from '../../../models/tokenizer/bpe-trainer.ts'
import { trainUnigram } from '../../../models/tokenizer/unigram-trainer.ts'
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
  /** A pause or stop request from the run controls (a cancel counts as pause). */
  request: () => 'pause' | 'stop' | null
  post: (message: WorkerMessage) => void
}

/** TensorFlow.js in this worker thread: the backend the engine was told to use, else the best available. */
async function startCompute(spec: JobSpec): Promise<void> {
  const report = await selectBackend(spec.backend)
  if (!report.active) throw new Error(`no TensorFlow.js backend could start: ${report.error ?? report.reason}`)
}

type JobRunner = (context: JobContext) => Promise<unknown>

export const jobRunners: Record<JobKind, JobRunner> = {
  'run.train': async ({ spec, db, request, post }) => {
    const { name } = z.object({ name: z.string() }).parse(spec.params)
    await startCompute(spec)
    return trainRun(name, {
      db,
      request,
      progress: (step, maxSteps) => post({ type: 'progress', done: step, total: maxSteps, unit: 'steps' }),
      emit: (event) => post({ type: 'event', event }),
    })
  },
  'run.eval': async ({ spec, db, isCancelled, post }) => {
    const { run, split, checkpoint, average, limit, ...search } = methods.eval.params.parse(spec.params)
    await startCompute(spec)
    const stored = findRun(db, run)
    if (stored && (stored.config.model === 'hred' || stored.config.model === 'vhred')) {
      if (average !== undefined) throw new Error('checkpoint averaging is for translation runs')
      const dialogue = await loadDialogueRun(db, run, checkpoint)
      try {
        const started = performance.now()
        const scored = await evaluateDialogues(db, stored.config, dialogue.model, dialogue.tokenizer, split, SearchOptions.parse(search), limit, (done, total) => post({ type: 'progress', done, total, unit: 'replies' }))
        const result = { ...scored, run, checkpointStep: dialogue.checkpointStep, seconds: (performance.now() - started) / 1000 }
        recordMetrics(db, stored.id, [
          ...result.scores.map((s) => ({ metric: `${split}/${s.metric}`, step: result.checkpointStep, value: s.score, signature: s.signature })),
          { metric: `${split}/loss`, step: result.checkpointStep, value: result.loss },
        ])
        return result
      } finally {
        dialogue.model.dispose()
      }
    }
    const loaded = await loadRun(db, run, checkpoint, average)
    try {
      const result = await evaluateSplit(db, loaded, split, SearchOptions.parse(search), limit, (done, total) => post({ type: 'progress', done, total, unit: 'sentences' }), isCancelled)
      // Kept with the run (at the evaluated checkpoint's step) so the dashboard and `runs show` can list it.
      recordMetrics(db, loaded.run.id, [
        ...result.scores.map((s) => ({ metric: `${split}/${s.metric}`, step: result.checkpointStep, value: s.score, signature: s.signature })),
        { metric: `${split}/loss`, step: result.checkpointStep, value: result.loss },
      ])
      return result
    } finally {
      loaded.model.dispose()
    }
  },
  'w2v.train': async ({ spec, db, request, post }) => {
    const { name } = z.object({ name: z.string() }).parse(spec.params)
    return trainWord2VecRun(name, {
      db,
      request,
      // Only evaluation after each epoch uses TensorFlow.js (its matrix products): started when first needed.
      startCompute: () => startCompute(spec),
      progress: (done, total) => post({ type: 'progress', done, total, unit: 'words' }),
      emit: (event) => post({ type: 'event', event }),
    })
  },
  'w2v.eval': async ({ spec, db, post }) => {
    const params = methods['w2v.eval'].params.parse(spec.params)
    await startCompute(spec)
    return evaluateWord2Vec(db, params, (done, total) => post({ type: 'progress', done, total, unit: 'sets' }))
  },
  'run.chat': async ({ spec, db }) => {
    const { run, checkpoint, turns, latentSeed, ...search } = methods['chat.reply'].params.parse(spec.params)
    await startCompute(spec)
    const loaded = await loadDialogueRun(db, run, checkpoint)
    try {
      return await replyTo(loaded, turns, SearchOptions.parse(search), latentSeed)
    } finally {
      loaded.model.dispose()
    }
  },
  'run.translate': async ({ spec, db, isCancelled, post }) => {
    const { run, checkpoint, average, lines, attention, inspect, ...search } = methods.translate.params.parse(spec.params)
    await startCompute(spec)
    const loaded = await loadRun(db, run, checkpoint, average)
    try {
      const options = SearchOptions.parse(search)
      const results = []
      for (const [i, line] of lines.entries()) {
        if (isCancelled()) throw new JobCancelledError()
        const srcIds = loaded.src.encode(line)
        const hypotheses = await searchOne(loaded.model, loaded.tgt, srcIds, options)
        const best = hypotheses[0]
        const maps =
          inspect && best
            ? (await inspectSentence(loaded.model, loaded.src, loaded.tgt, srcIds, best.tokens, best.finished)).map((map) => ({ ...map, step: loaded.checkpointStep, probe: i }))
            : undefined
        results.push({ source: line, srcPieces: loaded.src.piecesOf(srcIds), hypotheses: hypotheses.map((h) => describeHypothesis(loaded.tgt, h, attention)), maps })
        post({ type: 'progress', done: i + 1, total: lines.length, unit: 'lines' })
      }
      return { run, checkpointStep: loaded.checkpointStep, results }
    } finally {
      loaded.model.dispose()
    }
  },
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
    post({ type: 'progress', done: 0, total: 3, unit: 'phases' })
    const texts = corpusTexts(db, corpus.id, params.side)
    if (isCancelled()) throw new JobCancelledError()
    post({ type: 'progress', done: 1, total: 3, unit: 'phases' })
    const options = { vocabSize: params.vocabSize, characterCoverage: params.characterCoverage, userSymbols: params.userSymbols, byteFallback: params.byteFallback }
    const model = params.type === 'bpe' ? trainBpe(texts, options) : trainUnigram(texts, options)
    if (isCancelled()) throw new JobCancelledError()
    post({ type: 'progress', done: 2, total: 3, unit: 'phases' })
    saveTrainedTokenizer(db, { name: params.name, type: params.type, side: params.side, corpusId: corpus.id, corpusName: corpus.name }, writeModelProto(model), model.pieces.length)
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
