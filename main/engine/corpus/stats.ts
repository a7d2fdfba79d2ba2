// Length statistics of a corpus: means and histograms, in characters (the unit of the cleaning filters).
import type { CorpusStats } from '../../api/contract.ts'
import type { Database } from '../store/database.ts'

const bucketCount = 30

interface Histogram {
  bucketSize: number
  counts: number[]
}

/** `lengths` SQL yields one `n` per text; the last bucket holds everything from its start up. */
function histogram(db: Database, lengthsSql: string, corpusId: number): { mean: number; max: number; histogram: Histogram } {
  const summary = db.prepare(`SELECT avg(n) AS mean, max(n) AS max, count(*) AS texts FROM (${lengthsSql})`).get(corpusId) as { mean: number | null; max: number | null; texts: number }
  const max = summary.max ?? 0
  const bucketSize = Math.max(1, Math.ceil((max + 1) / bucketCount))
  const counts = new Array<number>(Math.min(bucketCount, Math.floor(max / bucketSize) + 1)).fill(0)
  const rows = db.prepare(`SELECT n / CAST(? AS INTEGER) AS bucket, count(*) AS count FROM (${lengthsSql}) GROUP BY bucket`).all(bucketSize, corpusId) as { bucket: number; count: number }[]
  for (const { bucket, count } of rows) counts[Math.min(bucket, counts.length - 1)]! += count
  return { mean: summary.mean ?? 0, max, histogram: { bucketSize, counts } }
}

export function corpusStats(db: Database, corpus: { id: number; kind: CorpusStats['kind'] }): CorpusStats {
  const sides: CorpusStats['sides'] = []
  if (corpus.kind === 'dialogue') {
    const turns = histogram(db, 'SELECT length(t.value) AS n FROM corpus_rows r, json_each(r.turns) t WHERE r.corpus_id = ?', corpus.id)
    sides.push({ side: 'turns', ...turns })
  } else {
    sides.push({ side: 'src', ...histogram(db, 'SELECT length(src) AS n FROM corpus_rows WHERE corpus_id = ?', corpus.id) })
    if (corpus.kind === 'parallel') sides.push({ side: 'tgt', ...histogram(db, 'SELECT length(tgt) AS n FROM corpus_rows WHERE corpus_id = ?', corpus.id) })
  }
  const splits = db.prepare("SELECT coalesce(split, 'none') AS split, count(*) AS rows FROM corpus_rows WHERE corpus_id = ? GROUP BY split ORDER BY split").all(corpus.id) as { split: string; rows: number }[]
  return { kind: corpus.kind, sides, splits }
}
