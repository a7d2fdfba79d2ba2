// Sequence-level knowledge distillation (Kim & Rush 2016, §3.2): the teacher translates its training split with beam
// search and a student learns from those translations. The new corpus keeps its provenance (teacher, checkpoint,
// decoding) and the original dev and test pairs, so students are scored against real references.
import { SearchOptions, type RunDistilParams } from '../../api/contract.ts'
import { english, message } from '../../api/messages.ts'
import { findCorpus } from '../corpus/repository.ts'
import type { Database } from '../store/database.ts'
import { retryWhileBusy } from '../store/conditions.ts'
import { splitPairs } from './data.ts'
import { loadRun, translateSources } from './inference.ts'
import { watchedOnDevice } from '../compute/webgpu-memory.ts'

export interface DistilledCorpus {
  corpus: string
  sentences: number
  checkpointStep: number
  search: string
  seconds: number
}

export async function distilCorpus(
  db: Database,
  params: RunDistilParams & { into: string },
  onProgress: (done: number, total: number) => void,
  isCancelled: () => boolean,
): Promise<DistilledCorpus> {
  const started = performance.now()
  const loaded = await loadRun(db, params.name, params.checkpoint)
  try {
    const original = findCorpus(db, loaded.run.config.corpus)
    if (!original) throw new Error(`the corpus of run '${params.name}' ('${loaded.run.config.corpus}') is gone`)
    if (original.kind !== 'parallel') throw new Error(`corpus '${original.name}' is ${original.kind}; distillation translates a parallel corpus`)
    const train = splitPairs(db, original.name, 'train').slice(0, params.limit)
    const sources = train.map((pair) => loaded.src.encode(pair.src).slice(0, loaded.model.maxPositions))
    const options = SearchOptions.parse({ search: params.search, beamSize: params.beamSize })
    const stopIfCancelled = () => {
      if (isCancelled()) throw new DistilCancelledError()
    }
    // The corpus is written only from translations the device computed whole.
    const translations = await watchedOnDevice('the distillation', () => translateSources(loaded, sources, options, onProgress, stopIfCancelled, 256))
    const search = params.search === 'greedy' ? 'greedy' : `beam ${params.beamSize}`
    const provenance = { run: loaded.run.name, checkpointStep: loaded.checkpointStep, corpus: original.name, search, sentences: translations.length }
    const source = message('corpusDistilled', { run: loaded.run.name, step: loaded.checkpointStep, search, corpus: original.name })
    const held = (['dev', 'test'] as const).flatMap((split) => splitPairs(db, original.name, split).map((pair) => ({ ...pair, split })))
    // One transaction: the corpus appears whole, with every split, or not at all.
    const write = db.transaction(() => {
      if (findCorpus(db, params.into)) throw new Error(`a corpus named '${params.into}' already exists`)
      const corpusId = Number(
        db
          .prepare("INSERT INTO corpora (name, kind, src_lang, tgt_lang, source, meta, state) VALUES (?, 'parallel', ?, ?, ?, ?, 'ready')")
          .run(params.into, original.srcLang, original.tgtLang, english(source), JSON.stringify({ sourceText: source, distilledFrom: provenance })).lastInsertRowid,
      )
      const insert = db.prepare('INSERT INTO corpus_rows (corpus_id, idx, src, tgt, split) VALUES (?, ?, ?, ?, ?)')
      train.forEach((pair, i) => insert.run(corpusId, i, pair.src, translations[i]!, 'train'))
      held.forEach((pair, i) => insert.run(corpusId, train.length + i, pair.src, pair.tgt, pair.split))
    })
    retryWhileBusy(() => write.immediate())
    return { corpus: params.into, sentences: translations.length, checkpointStep: loaded.checkpointStep, search, seconds: (performance.now() - started) / 1000 }
  } finally {
    loaded.model.dispose()
  }
}

export class DistilCancelledError extends Error {
  constructor() {
    super('distillation cancelled')
  }
}
