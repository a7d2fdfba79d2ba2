// word2vec runs in SQLite: a `runs` row (model 'word2vec') with its configuration, the vectors of every finished
// epoch in `embeddings` (for the projector's time axis), per-epoch metrics, and the output weights of the last
// epoch as its checkpoint (what resuming needs besides the vectors).
import { Word2VecConfig, type Word2VecEpoch, type Word2VecStatus, type Word2VecSummary } from '../../api/contract.ts'
import { WordVectors } from '../../../models/word2vec/word-vectors.ts'
import type { Database } from '../store/database.ts'

export interface StoredWord2Vec {
  id: number
  name: string
  status: Word2VecStatus
  /** Finished epochs (imported sets: 0). */
  epoch: number
  config: Word2VecConfig
  corpus: string | null
  error: string | null
  updatedAt: string
}

interface Word2VecRecord {
  id: number
  name: string
  status: Word2VecStatus
  step: number
  config: string
  error: string | null
  corpus_name: string | null
  updated_at: string
}

const columns = `r.id, r.name, r.status, r.step, r.config, r.error, r.updated_at, (SELECT name FROM corpora c WHERE c.id = r.corpus_id) AS corpus_name`

function toStored(r: Word2VecRecord): StoredWord2Vec {
  return { id: r.id, name: r.name, status: r.status, epoch: r.step, config: Word2VecConfig.parse(JSON.parse(r.config)), corpus: r.corpus_name, error: r.error, updatedAt: r.updated_at }
}

export function listWord2Vec(db: Database): StoredWord2Vec[] {
  return (db.prepare(`SELECT ${columns} FROM runs r WHERE r.model = 'word2vec' ORDER BY r.created_at DESC, r.id DESC`).all() as Word2VecRecord[]).map(toStored)
}

export function findWord2Vec(db: Database, name: string): StoredWord2Vec | undefined {
  const record = db.prepare(`SELECT ${columns} FROM runs r WHERE r.name = ? AND r.model = 'word2vec'`).get(name) as Word2VecRecord | undefined
  return record ? toStored(record) : undefined
}

export function createWord2Vec(db: Database, name: string, config: Word2VecConfig, corpusId: number | null, status: Word2VecStatus = 'created'): StoredWord2Vec {
  db.prepare("INSERT INTO runs (name, model, corpus_id, config, status) VALUES (?, 'word2vec', ?, ?, ?)").run(name, corpusId, JSON.stringify(config), status)
  return findWord2Vec(db, name)!
}

export function updateWord2Vec(db: Database, id: number, changes: { status?: Word2VecStatus; epoch?: number; error?: string | null }): void {
  const sets: string[] = ["updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"]
  const values: unknown[] = []
  if (changes.status !== undefined) sets.push('status = ?') && values.push(changes.status)
  if (changes.epoch !== undefined) sets.push('step = ?') && values.push(changes.epoch)
  if (changes.error !== undefined) sets.push('error = ?') && values.push(changes.error)
  db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id)
}

/** Stores one epoch's vectors (epoch 0: an imported set). */
export function saveVectors(db: Database, runId: number, epoch: number, vectors: WordVectors): void {
  db.transaction(() => {
    db.prepare("DELETE FROM embeddings WHERE run_id = ? AND name = 'word2vec' AND step = ?").run(runId, epoch)
    db.prepare("INSERT INTO embeddings (run_id, name, step, count, dim, words, vectors, meta) VALUES (?, 'word2vec', ?, ?, ?, ?, ?, ?)").run(
      runId,
      epoch,
      vectors.size,
      vectors.dim,
      JSON.stringify(vectors.words),
      Buffer.from(vectors.vectors.buffer, vectors.vectors.byteOffset, vectors.vectors.byteLength),
      JSON.stringify({ counts: vectors.counts, ...(Object.keys(vectors.labels).length > 0 && { labels: vectors.labels }) }),
    )
  })()
}

export function storedEpochs(db: Database, runId: number): number[] {
  return (db.prepare("SELECT step FROM embeddings WHERE run_id = ? AND name = 'word2vec' ORDER BY step").all(runId) as { step: number }[]).map((r) => r.step)
}

export function vectorShape(db: Database, runId: number): { count: number; dim: number } | undefined {
  return db.prepare("SELECT count, dim FROM embeddings WHERE run_id = ? AND name = 'word2vec' ORDER BY step DESC LIMIT 1").get(runId) as { count: number; dim: number } | undefined
}

/** One epoch's vectors (default: the last stored). */
export function loadVectors(db: Database, runId: number, epoch?: number): { epoch: number; vectors: WordVectors } | undefined {
  const row = (
    epoch === undefined
      ? db.prepare("SELECT step, dim, words, vectors, meta FROM embeddings WHERE run_id = ? AND name = 'word2vec' ORDER BY step DESC LIMIT 1").get(runId)
      : db.prepare("SELECT step, dim, words, vectors, meta FROM embeddings WHERE run_id = ? AND name = 'word2vec' AND step = ?").get(runId, epoch)
  ) as { step: number; dim: number; words: string; vectors: Buffer; meta: string } | undefined
  if (!row) return undefined
  const values = new Float32Array(row.vectors.byteLength / 4)
  new Uint8Array(values.buffer).set(row.vectors)
  const meta = JSON.parse(row.meta) as { counts?: number[] | null; labels?: Record<string, string[]> }
  return { epoch: row.step, vectors: new WordVectors(JSON.parse(row.words) as string[], row.dim, values, meta.counts ?? null, meta.labels ?? {}) }
}

/** Keeps only the latest epoch's output weights: resuming needs no more. */
export function saveOutputWeights(db: Database, runId: number, epoch: number, weights: Uint8Array): void {
  db.transaction(() => {
    db.prepare('DELETE FROM checkpoints WHERE run_id = ?').run(runId)
    db.prepare('INSERT INTO checkpoints (run_id, step, weights, meta) VALUES (?, ?, ?, ?)').run(runId, epoch, weights, JSON.stringify({ kind: 'word2vec-output' }))
  })()
}

export function loadOutputWeights(db: Database, runId: number): { epoch: number; weights: Uint8Array } | undefined {
  const row = db.prepare('SELECT step, weights FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1').get(runId) as { step: number; weights: Buffer } | undefined
  return row ? { epoch: row.step, weights: new Uint8Array(row.weights) } : undefined
}

/** Per-epoch log from the metrics table. */
export function epochLog(db: Database, runId: number): Word2VecEpoch[] {
  const rows = db.prepare("SELECT name, step, value FROM metrics WHERE run_id = ? AND name IN ('train/loss', 'train/words_per_s', 'eval/analogy', 'eval/spearman') ORDER BY step").all(runId) as { name: string; step: number; value: number }[]
  const byEpoch = new Map<number, Word2VecEpoch>()
  for (const row of rows) {
    const entry = byEpoch.get(row.step) ?? { epoch: row.step, loss: null, wordsPerSecond: null, analogy: null, spearman: null }
    if (row.name === 'train/loss') entry.loss = row.value
    if (row.name === 'train/words_per_s') entry.wordsPerSecond = row.value
    if (row.name === 'eval/analogy') entry.analogy = row.value
    if (row.name === 'eval/spearman') entry.spearman = row.value
    byEpoch.set(row.step, entry)
  }
  return [...byEpoch.values()]
}

export function methodOf(config: Word2VecConfig): string {
  if (config.corpus === null) return config.origin ?? 'imported'
  const objective = [config.hs ? 'hierarchical softmax' : null, config.negative > 0 ? `negative ${config.negative}` : null].filter(Boolean).join(' + ')
  return `${config.architecture === 'cbow' ? 'CBOW' : 'skip-gram'}, ${objective}`
}

export function summaryOf(db: Database, run: StoredWord2Vec): Word2VecSummary {
  const shape = vectorShape(db, run.id)
  return {
    name: run.name,
    source: run.config.corpus === null ? 'imported' : 'trained',
    status: run.status,
    corpus: run.corpus ?? run.config.corpus,
    epoch: run.epoch,
    epochs: run.config.corpus === null ? 0 : run.config.epochs,
    vocab: shape?.count ?? 0,
    dim: shape?.dim ?? run.config.dim,
    method: methodOf(run.config),
    error: run.error,
    updatedAt: run.updatedAt,
  }
}
