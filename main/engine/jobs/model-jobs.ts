// Jobs that run TensorFlow.js models: training, evaluation, translation and chat replies.
import type { EvalResult, JobKind } from '../../api/contract.ts'
import { methods, RunDistilParams, SearchOptions } from '../../api/contract.ts'
import { z } from 'zod'
import { chatReply, ChatReplyParams, translateLines, TranslateParams } from '../inference/answers.ts'
import { loadDialogueRun } from '../training/chat.ts'
import { evaluateDialogues } from '../training/dialogue-task.ts'
import { evaluateSplit, loadRun, type EvaluatedTexts } from '../training/inference.ts'
import { pairedBootstrap, sampledMetrics } from '../../../models/metrics/paired-bootstrap.ts'
import type { Database } from '../store/database.ts'
import { DistilCancelledError, distilCorpus } from '../training/distillation.ts'
import { findRun, recordMetrics } from '../training/repository.ts'
import { trainRun } from '../training/trainer.ts'
import { JobCancelledError, startCompute, type JobRunner } from './context.ts'
import { watchedOnDevice } from '../compute/webgpu-memory.ts'

/** Scores one run on a split (and keeps the scores with it, at the evaluated checkpoint's step, for the dashboard
 *  and `runs show`); also returns what it decoded, for a paired comparison. */
async function evaluateRun(
  db: Database,
  which: { run: string; checkpoint?: number | undefined; average?: number | undefined },
  split: 'dev' | 'test',
  search: SearchOptions,
  limit: number | undefined,
  progress: (done: number, total: number, unit: 'replies' | 'sentences') => void,
  isCancelled: () => boolean,
): Promise<EvalResult & { texts: EvaluatedTexts }> {
  const stored = findRun(db, which.run)
  let result: EvalResult & { texts: EvaluatedTexts }
  if (stored && (stored.config.model === 'hred' || stored.config.model === 'vhred')) {
    if (which.average !== undefined) throw new Error('checkpoint averaging is for translation runs')
    const dialogue = await loadDialogueRun(db, which.run, which.checkpoint)
    try {
      const started = performance.now()
      const scored = await watchedOnDevice('the evaluation', () => evaluateDialogues(db, stored.config, dialogue.model, dialogue.tokenizer, split, search, limit, (done, total) => progress(done, total, 'replies')))
      result = { ...scored, run: which.run, checkpointStep: dialogue.checkpointStep, seconds: (performance.now() - started) / 1000 }
    } finally {
      dialogue.model.dispose()
    }
  } else {
    const loaded = await loadRun(db, which.run, which.checkpoint, which.average)
    try {
      result = await watchedOnDevice('the evaluation', () => evaluateSplit(db, loaded, split, search, limit, (done, total) => progress(done, total, 'sentences'), isCancelled))
    } finally {
      loaded.model.dispose()
    }
  }
  recordMetrics(db, findRun(db, which.run)!.id, [
    ...result.scores.map((s) => ({ metric: `${split}/${s.metric}`, step: result.checkpointStep, value: s.score, signature: s.signature })),
    { metric: `${split}/loss`, step: result.checkpointStep, value: result.loss },
  ])
  return result
}

export const runners: Partial<Record<JobKind, JobRunner>> = {
  'run.train': async ({ spec, db, request, post }) => {
    const { name } = z.object({ name: z.string() }).parse(spec.params)
    const { active, device } = await startCompute(spec)
    return trainRun(name, {
      db,
      device: active !== null && device !== null ? { backend: active, device } : null,
      request,
      progress: (step, maxSteps) => post({ type: 'progress', done: step, total: maxSteps, unit: 'steps' }),
      emit: (event) => post({ type: 'event', event }),
    })
  },
  'run.eval': async ({ spec, db, isCancelled, post }) => {
    const { run, split, checkpoint, average, limit, against, againstCheckpoint, resamples, ...rest } = methods.eval.params.parse(spec.params)
    const search = SearchOptions.parse(rest)
    await startCompute(spec)
    const progress = (done: number, total: number, unit: 'replies' | 'sentences') => post({ type: 'progress', done, total, unit })
    const { texts, ...result } = await evaluateRun(db, { run, checkpoint, average }, split, search, limit, progress, isCancelled)
    if (against === undefined) return result
    const { texts: baseline, ...other } = await evaluateRun(db, { run: against, checkpoint: againstCheckpoint }, split, search, limit, progress, isCancelled)
    if (baseline.references.length !== texts.references.length || baseline.references.some((r, i) => r !== texts.references[i])) {
      throw new Error(`'${run}' and '${against}' are scored on different ${split} sentences (their corpora or splits differ); a paired comparison needs the same ones`)
    }
    const dialogue = texts.dialogue && baseline.dialogue
    const metrics = pairedBootstrap(texts.hypotheses.length, sampledMetrics(baseline.hypotheses, baseline.references, dialogue), sampledMetrics(texts.hypotheses, texts.references, dialogue), { resamples, seed: search.seed })
    return { ...result, comparison: { against, againstCheckpoint: other.checkpointStep, resamples, metrics } }
  },
  'run.chat': async ({ spec, db }) => {
    const params = ChatReplyParams.parse(spec.params)
    await startCompute(spec)
    const loaded = await loadDialogueRun(db, params.run, params.checkpoint)
    try {
      return await watchedOnDevice('the reply', () => chatReply(loaded, params))
    } finally {
      loaded.model.dispose()
    }
  },
  'run.distil': async ({ spec, db, isCancelled, post }) => {
    const params = RunDistilParams.extend({ into: z.string() }).parse(spec.params)
    await startCompute(spec)
    try {
      const result = await distilCorpus(db, params, (done, total) => post({ type: 'progress', done, total, unit: 'sentences' }), isCancelled)
      post({ type: 'event', event: { event: 'corpus.changed', data: { name: result.corpus } } })
      return result
    } catch (error) {
      if (error instanceof DistilCancelledError) throw new JobCancelledError()
      throw error
    }
  },
  'run.translate': async ({ spec, db, isCancelled, post }) => {
    const params = TranslateParams.parse(spec.params)
    await startCompute(spec)
    const loaded = await loadRun(db, params.run, params.checkpoint, params.average)
    try {
      const onLine = (done: number, total: number) => post({ type: 'progress', done, total, unit: 'lines' })
      const stopIfCancelled = () => {
        if (isCancelled()) throw new JobCancelledError()
      }
      return await watchedOnDevice('the translation', () => translateLines(loaded, params, onLine, stopIfCancelled))
    } finally {
      loaded.model.dispose()
    }
  },
}
