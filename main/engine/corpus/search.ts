// Full-text search over a corpus's rows (SQLite FTS5, trigram tokens: substring search in any script).
import type { CorpusRow } from '../../api/contract.ts'
import type { Database } from '../store/database.ts'
import { retryWhileBusy } from '../store/conditions.ts'
import { toCorpusRow, type CorpusRowRecord } from './repository.ts'

// The index is built after the rows are committed (a 'corpus.index' job): building it takes longer than
// importing, and search works without it (a slower scan) in the meantime.

function setIndexed(db: Database, corpusId: number, indexed: boolean): void {
  db.prepare("UPDATE corpora SET meta = json_set(meta, '$.searchIndex', ?) WHERE id = ?").run(indexed ? 'ready' : 'pending', corpusId)
}

/** Drops a corpus's index entries (its rows are about to change); search scans until it is rebuilt. */
export function invalidateIndex(db: Database, corpusId: number): void {
  db.prepare('DELETE FROM corpus_fts WHERE corpus_id = ?').run(corpusId)
  setIndexed(db, corpusId, false)
}

/** Rows indexed per transaction: other writers wait at most for one chunk. */
const indexChunkRows = 10_000

/** (Re)builds the search index of one corpus in short transactions; search scans the rows until the last one.
 *  `shouldStop` is asked between chunks: a stopped build leaves the index pending (search scans; the next build
 *  starts over), and returns false. */
export function indexCorpus(db: Database, corpusId: number, shouldStop: () => boolean = () => false, onProgress?: (done: number, total: number) => void): boolean {
  retryWhileBusy(() => db.transaction(() => invalidateIndex(db, corpusId)).immediate())
  const insertRange = db.prepare('INSERT INTO corpus_fts (src, tgt, turns, corpus_id, idx) SELECT src, tgt, turns, corpus_id, idx FROM corpus_rows WHERE corpus_id = ? AND idx >= ? AND idx < ?')
  const last = (db.prepare('SELECT max(idx) AS last FROM corpus_rows WHERE corpus_id = ?').get(corpusId) as { last: number | null }).last ?? -1
  for (let start = 0; start <= last; start += indexChunkRows) {
    if (shouldStop()) return false
    retryWhileBusy(() => insertRange.run(corpusId, start, start + indexChunkRows))
    onProgress?.(Math.min(last + 1, start + indexChunkRows), last + 1)
  }
  retryWhileBusy(() => setIndexed(db, corpusId, true))
  return true
}

/** Corpora whose index is not built (imported by a process that exited first, or an interrupted build). */
export function unindexedCorpora(db: Database): string[] {
  return (db.prepare("SELECT name FROM corpora WHERE json_extract(meta, '$.searchIndex') = 'pending' ORDER BY id").all() as { name: string }[]).map((r) => r.name)
}

export function isIndexed(db: Database, corpusId: number): boolean {
  const row = db.prepare("SELECT json_extract(meta, '$.searchIndex') AS state FROM corpora WHERE id = ?").get(corpusId) as { state: string | null } | undefined
  return row?.state === 'ready'
}

/** Trigram FTS needs 3 characters; shorter queries (and corpora not indexed yet) fall back to a LIKE scan. */
const minimumTrigramLength = 3

export function searchCorpus(db: Database, corpusId: number, query: string, offset: number, limit: number): { total: number; rows: CorpusRow[] } {
  const text = query.trim()
  if ([...text].length >= minimumTrigramLength && isIndexed(db, corpusId)) {
    const phrase = `"${text.replaceAll('"', '""')}"` // one phrase: the words in this order
    const from = 'FROM corpus_fts f JOIN corpus_rows r ON r.corpus_id = f.corpus_id AND r.idx = f.idx WHERE corpus_fts MATCH ? AND f.corpus_id = ?'
    const total = (db.prepare(`SELECT count(*) AS n ${from}`).get(phrase, corpusId) as { n: number }).n
    const records = db.prepare(`SELECT r.idx, r.src, r.tgt, r.turns, r.grp, r.split ${from} ORDER BY r.idx LIMIT ? OFFSET ?`).all(phrase, corpusId, limit, offset) as CorpusRowRecord[]
    return { total, rows: records.map(toCorpusRow) }
  }
  const pattern = `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
  const where = "corpus_id = ? AND (src LIKE ? ESCAPE '\\' OR tgt LIKE ? ESCAPE '\\' OR turns LIKE ? ESCAPE '\\')"
  const total = (db.prepare(`SELECT count(*) AS n FROM corpus_rows WHERE ${where}`).get(corpusId, pattern, pattern, pattern) as { n: number }).n
  const records = db
    .prepare(`SELECT idx, src, tgt, turns, grp, split FROM corpus_rows WHERE ${where} ORDER BY idx LIMIT ? OFFSET ?`)
    .all(corpusId, pattern, pattern, pattern, limit, offset) as CorpusRowRecord[]
  return { total, rows: records.map(toCorpusRow) }
}
