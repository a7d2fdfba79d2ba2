// Jobs of word2vec runs. Training needs no TensorFlow.js (its own WebAssembly kernel); evaluation loads it.
import type { JobKind } from '../../api/contract.ts'
import { methods } from '../../api/contract.ts'
import { z } from 'zod'
import { importVectorFile } from '../word2vec/import-vectors.ts'
import { trainWord2VecRun } from '../word2vec/train.ts'
import { startCompute, type JobRunner } from './context.ts'

export const runners: Partial<Record<JobKind, JobRunner>> = {
  'w2v.train': async ({ spec, db, request, post }) => {
    const { name } = z.object({ name: z.string() }).parse(spec.params)
    return trainWord2VecRun(name, {
      db,
      request,
      // Only evaluation after each epoch uses TensorFlow.js (its matrix products): started when first needed.
      startCompute: async () => void (await startCompute(spec)),
      progress: (done, total) => post({ type: 'progress', done, total, unit: 'words' }),
      emit: (event) => post({ type: 'event', event }),
    })
  },
  'w2v.import': async ({ spec, db, post }) => {
    const params = z.object({ name: z.string(), file: z.string(), format: z.enum(['word2vec', 'word2vec-bin', 'glove']).optional(), maxVocab: z.number().int().optional() }).parse(spec.params)
    return importVectorFile(db, params, (done, total) => post({ type: 'progress', done, total, unit: 'bytes' }))
  },
  'w2v.eval': async ({ spec, db, post }) => {
    const params = methods['w2v.eval'].params.parse(spec.params)
    await startCompute(spec)
    const { evaluateWord2Vec } = await import('../word2vec/evaluate.ts') // TensorFlow.js: only for this job
    return evaluateWord2Vec(db, params, (done, total) => post({ type: 'progress', done, total, unit: 'sets' }))
  },
}
