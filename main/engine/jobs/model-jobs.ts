// Jobs that run TensorFlow.js models: training, evaluation, translation and chat replies.
import type { JobKind } from '../../api/contract.ts'
import { methods, SearchOptions } from '../../api/contract.ts'
import { checkSourceLength } from '../../api/limits.ts'
import { z } from 'zod'
import { inspectSentence } from '../training/attention.ts'
import { loadDialogueRun, replyTo } from '../training/chat.ts'
import { evaluateDialogues } from '../training/dialogue-task.ts'
import { describeHypothesis, evaluateSplit, loadRun, searchOne } from '../training/inference.ts'
import { findRun, recordMetrics } from '../training/repository.ts'
import { trainRun } from '../training/trainer.ts'
import { JobCancelledError, startCompute, type JobRunner } from './context.ts'

export const runners: Partial<Record<JobKind, JobRunner>> = {
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
        checkSourceLength(lines.length > 1 ? `line ${i + 1}` : 'the sentence', srcIds.length)
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
}
