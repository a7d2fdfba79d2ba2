// Corpus cleaning: Unicode NFKC, trimming, empty and duplicate rows, length and length-ratio filters.
// Lengths are in characters (code points), which works for every script, spaced or not.
import { createHash } from 'node:crypto'
import type { CleanOptions } from '../../api/contract.ts'
import type { Database } from '../store/database.ts'
import { CorpusCancelledError } from './formats/record.ts'
import { toCorpusRow, type CorpusRowRecord } from './repository.ts'
import { invalidateIndex } from './search.ts'

export interface CleanReport {
  before: number
  kept: number
  /** Rows dropped, by reason. */
  dropped: Record<string, number>
  /** Texts (sides or turns) changed, by step. */
  changed: Record<string, number>
}

const length = (text: string) => [...text].length

function count(counts: Record<string, number>, reason: string): void {
  counts[reason] = (counts[reason] ?? 0) + 1
}

/** Cleans one text; returns it and which steps changed it. */
function cleanText(text: string, options: CleanOptions, changed: Record<string, number>): string {
  let out = text
  if (options.normalize) {
    const normalized = out.normalize('NFKC')
    if (normalized !== out) count(changed, 'NFKC')
    out = normalized
  }
  if (options.trim) {
    const trimmed = out.replace(/\s+/g, ' ').trim()
    if (trimmed !== out) count(changed, 'whitespace')
    out = trimmed
  }
  return out
}

/** Why a cleaned row is dropped, or null to keep it. */
function dropReason(texts: string[], options: CleanOptions, seen: Set<string>): string | null {
  if (options.dropEmpty && texts.some((t) => t.length === 0)) return 'empty'
  const lengths = texts.map(length)
  if (options.minLength !== undefined && lengths.some((n) => n < options.minLength!)) return `shorter than ${options.minLength} characters`
  if (options.maxLength !== undefined && lengths.some((n) => n > options.maxLength!)) return `longer than ${options.maxLength} characters`
  if (options.maxRatio !== undefined && texts.length === 2) {
    const [a, b] = lengths as [number, number]
    if (Math.max(a, b) > options.maxRatio * Math.max(1, Math.min(a, b))) return `length ratio above ${options.maxRatio}`
  }
  if (options.dedupe) {
    const key = createHash('sha1').update(JSON.stringify(texts)).digest('base64')
    if (seen.has(key)) return 'duplicate'
    seen.add(key)
  }
  return null
}

/**
 * Rewrites a corpus's rows in one transaction; `onProgress(done, total)` after each batch,
 * `isCancelled()` between batches (a cancel rolls everything back).
 */
export function cleanCorpus(
  db: Database,
  corpusId: number,
  options: CleanOptions,
  hooks: { onProgress?: (done: number, total: number) => void; isCancelled?: () => boolean } = {},
): CleanReport {
  const before = (db.prepare('SELECT count(*) AS n FROM corpus_rows WHERE corpus_id = ?').get(corpusId) as { n: number }).n
  const report: CleanReport = { before, kept: 0, dropped: {}, changed: {} }
  const seen = new Set<string>()
  const readBatch = db.prepare('SELECT idx, src, tgt, turns, grp, split FROM corpus_rows WHERE corpus_id = ? AND idx > ? ORDER BY idx LIMIT 5000')
  const clean = db.transaction(() => {
    db.exec('CREATE TEMP TABLE IF NOT EXISTS cleaned (idx INTEGER PRIMARY KEY, src TEXT, tgt TEXT, turns TEXT, grp TEXT, split TEXT)')
    db.exec('DELETE FROM temp.cleaned')
    const keep = db.prepare('INSERT INTO temp.cleaned (idx, src, tgt, turns, grp, split) VALUES (?, ?, ?, ?, ?, ?)')
    let last = -1
    let done = 0
    for (;;) {
      const batch = readBatch.all(corpusId, last) as CorpusRowRecord[]
      if (batch.length === 0) break
      if (hooks.isCancelled?.()) throw new CorpusCancelledError('cleaning')
      for (const record of batch) {
        const row = toCorpusRow(record)
        let texts: string[]
        if (row.turns) texts = row.turns.map((turn) => cleanText(turn, options, report.changed))
        else texts = [row.src, row.tgt].filter((t): t is string => t !== null).map((t) => cleanText(t, options, report.changed))
        if (row.turns && options.dropEmpty) texts = texts.filter((t) => t.length > 0)
        const reason = row.turns && texts.length < 2 ? 'fewer than 2 turns' : dropReason(texts, options, seen)
        if (reason) count(report.dropped, reason)
        else if (row.turns) keep.run(report.kept++, null, null, JSON.stringify(texts), record.grp, record.split)
        else keep.run(report.kept++, texts[0] ?? null, row.tgt === null ? null : (texts[1] ?? null), null, record.grp, record.split)
      }
      last = batch.at(-1)!.idx
      done += batch.length
      hooks.onProgress?.(done, before)
    }
    if (report.kept === 0) throw new Error('cleaning would drop every row; loosen the filters')
    db.prepare('DELETE FROM corpus_rows WHERE corpus_id = ?').run(corpusId)
    db.prepare('INSERT INTO corpus_rows (corpus_id, idx, src, tgt, turns, grp, split) SELECT ?, idx, src, tgt, turns, grp, split FROM temp.cleaned').run(corpusId)
    db.exec('DELETE FROM temp.cleaned')
    invalidateIndex(db, corpusId)
    const meta = JSON.parse((db.prepare('SELECT meta FROM corpora WHERE id = ?').get(corpusId) as { meta: string }).meta) as { cleaning?: unknown[] }
    const history = [...(meta.cleaning ?? []), { at: new Date().toISOString(), options, report }]
    db.prepare('UPDATE corpora SET meta = ? WHERE id = ?').run(JSON.stringify({ ...meta, cleaning: history }), corpusId)
  })
  clean.immediate()
  return report
}
