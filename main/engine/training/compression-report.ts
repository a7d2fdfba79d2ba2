// A run's compression table: the run itself, its int8 quantisations, the runs pruned from it and the students trained
// on its translations, each at its best checkpoint with its size, zeros, stored test scores and (when asked) its translate latency.
import type { CompressionRow } from '../../api/contract.ts'
import { decodeTensors } from '../../../models/train/checkpoint-codec.ts'
import { listCorpora } from '../corpus/repository.ts'
import type { Database } from '../store/database.ts'
import { splitPairs } from './data.ts'
import { listRuns, loadCheckpoint, testEvaluations, type StoredRun } from './repository.ts'

export type CompressionEntry = Omit<CompressionRow, 'latencyMs'>

function entryOf(db: Database, run: StoredRun, kind: CompressionRow['kind']): CompressionEntry | null {
  const checkpoint = loadCheckpoint(db, run.id, 'best')
  if (!checkpoint) return null
  let parameters = 0
  let nonZero = 0
  for (const array of decodeTensors(checkpoint.weights)) {
    parameters += array.values.length
    for (const value of array.values) if (value !== 0) nonZero++
  }
  const evaluation = testEvaluations(db, run.id).find((e) => e.step === checkpoint.step)
  const score = (metric: string) => evaluation?.scores.find((s) => s.metric === metric)?.score ?? null
  return {
    run: run.name,
    kind,
    sparsity: run.config.pruning?.sparsity ?? null,
    corpus: run.config.corpus,
    checkpointStep: checkpoint.step,
    parameters,
    nonZero,
    bytes: checkpoint.weights.byteLength,
    bleu: score('bleu'),
    chrf: score('chrf'),
  }
}

/** The run first, then its int8 quantisations, its pruned runs, the students of corpora it translated (each by name). */
export function compressionEntries(db: Database, run: StoredRun): CompressionEntry[] {
  const runs = listRuns(db).sort((a, b) => a.name.localeCompare(b.name))
  const taughtCorpora = new Set(listCorpora(db).filter((c) => c.distilledFrom?.run === run.name).map((c) => c.name))
  const entries = [
    entryOf(db, run, run.config.quantization ? 'int8' : run.config.pruning ? 'pruned' : 'float'),
    ...runs.filter((r) => r.config.quantization?.from.run === run.name).map((r) => entryOf(db, r, 'int8')),
    ...runs.filter((r) => r.config.pruning?.from.run === run.name).map((r) => entryOf(db, r, 'pruned')),
    ...runs.filter((r) => taughtCorpora.has(r.config.corpus)).map((r) => entryOf(db, r, 'distilled')),
  ]
  return entries.filter((entry): entry is CompressionEntry => entry !== null)
}

/** The sentence latency is measured on: the first test source of at least 20 words, cut to 20 (else the longest). */
export function latencySentence(db: Database, run: StoredRun): string {
  const sources = splitPairs(db, run.config.corpus, 'test').map((p) => p.src.split(/\s+/).filter(Boolean))
  const long = sources.find((words) => words.length >= 20) ?? sources.sort((a, b) => b.length - a.length)[0] ?? ['hello']
  return long.slice(0, 20).join(' ')
}
