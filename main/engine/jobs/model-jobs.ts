// Jobs that run TensorFlow.js models: training, evaluation, translation and chat replies.
import type { JobKind } from '../../api/contract.ts'
import { methods, RunDistilParams, SearchOptions } from '../../api/contract.ts'
import { z } from 'zod'
import { chatReply, ChatReplyParams, translateLines, TranslateParams } from '../inference/answers.ts'
import { loadDialogueRun } from '../training/chat.ts'
import { evaluateDialogues } from '../training/dialogue-task.ts'
import { evaluateSplit, loadRun } from '../training/inference.ts'
import { DistilCancelledError, distilCorpus } from '../training/distillation.ts'
import { findRun, recordMetrics } from '../training/repository.ts'
import { trainRun } from '../training/trainer.ts'
import { JobCancelledError, startCompute, type JobRunner } from './context.ts'

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
  'run.chat': async ({ spec, db }) => {
    const params = ChatReplyParams.parse(spec.params)
    await startCompute(spec)
    const loaded = await loadDialogueRun(db, params.run, params.checkpoint)
    try {
      return await chatReply(loaded, params)
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
      return await translateLines(loaded, params, onLine, () => {
        if (isCancelled()) throw new JobCancelledError()
      })
    } finally {
      loaded.model.dispose()
    }
  },
}
