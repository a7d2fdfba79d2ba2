// Read-side queries over the corpora tables.
import { z } from 'zod'
import { CorpusSummary, type CorpusRow } from '../../api/contract.ts'
import { english, LocalText, message } from '../../api/messages.ts'
import type { Database } from '../store/database.ts'
import { processAlive, retryWhileBusy } from '../store/conditions.ts'

interface CorpusRecord {
  id: number
  name: string
  kind: CorpusSummary['kind']
  src_lang: string | null
  tgt_lang: string | null
  source: string
  meta: string
  created_at: string
}

const summarySql = `
  SELECT c.id, c.name, c.kind, c.src_lang, c.tgt_lang, c.source, c.meta, c.created_at
  FROM corpora c WHERE c.state = 'ready'`

/** Rows per split in one range scan of the corpus (the total is their sum). */
function splitCounts(db: Database, corpusId: number): { rows: number; splits: CorpusSummary['splits'] } {
  const counts = db.prepare('SELECT split, count(*) AS n FROM corpus_rows WHERE corpus_id = ? GROUP BY split').all(corpusId) as { split: string | null; n: number }[]
  const of = (split: string) => counts.find((c) => c.split === split)?.n ?? 0
  return { rows: counts.reduce((sum, c) => sum + c.n, 0), splits: { train: of('train'), dev: of('dev'), test: of('test') } }
}

/** The bundled samples' descriptions, by the English text stored with them, for the UI to show translated. */
const sampleSources = new Map<string, LocalText>([message('sampleBible'), message('sampleHamlet')].map((text) => [english(text), text]))

const StoredCorpusMeta = z.object({ sourceText: LocalText.optional(), distilledFrom: CorpusSummary.shape.distilledFrom }).passthrough()

function toSummary(db: Database, record: CorpusRecord): CorpusSummary {
  const meta = StoredCorpusMeta.safeParse(JSON.parse(record.meta))
  const sourceText = sampleSources.get(record.source) ?? (meta.success ? meta.data.sourceText : undefined)
  const distilledFrom = meta.success ? meta.data.distilledFrom : undefined
  return {
    id: record.id,
    name: record.name,
    kind: record.kind,
    srcLang: record.src_lang,
    tgtLang: record.tgt_lang,
    ...splitCounts(db, record.id),
    source: record.source,
    ...(sourceText ? { sourceText } : {}),
    ...(distilledFrom ? { distilledFrom } : {}),
    createdAt: record.created_at,
  }
}

export function listCorpora(db: Database): CorpusSummary[] {
  return (db.prepare(`${summarySql} ORDER BY c.created_at, c.id`).all() as CorpusRecord[]).map((record) => toSummary(db, record))
}

export function findCorpus(db: Database, name: string): CorpusSummary | undefined {
  const record = db.prepare(`${summarySql} AND c.name = ?`).get(name) as CorpusRecord | undefined
  return record && toSummary(db, record)
}

export interface CorpusRowRecord {
  idx: number
  src: string | null
  tgt: string | null
  turns: string | null
  grp: string | null
  split: string | null
}

export function toCorpusRow(r: CorpusRowRecord): CorpusRow {
  return {
    index: r.idx,
    src: r.src,
    tgt: r.tgt,
    turns: r.turns === null ? null : (JSON.parse(r.turns) as string[]),
    group: r.grp,
    split: r.split,
  }
}

export function corpusRows(db: Database, corpusId: number, offset: number, limit: number): CorpusRow[] {
  const records = db
    .prepare('SELECT idx, src, tgt, turns, grp, split FROM corpus_rows WHERE corpus_id = ? ORDER BY idx LIMIT ? OFFSET ?')
    .all(corpusId, limit, offset) as CorpusRowRecord[]
  return records.map(toCorpusRow)
}

export function deleteCorpus(db: Database, name: string): boolean {
  const corpus = findCorpus(db, name)
  if (!corpus) return false
  retryWhileBusy(() => db.prepare("UPDATE corpora SET state = 'importing', import_pid = NULL WHERE id = ?").run(corpus.id)) // hidden at once
  retryWhileBusy(() => db.prepare('DELETE FROM corpus_fts WHERE corpus_id = ?').run(corpus.id))
  removeCorpusRows(db, corpus.id)
  return true
}

/** Rows deleted per transaction when a corpus is removed. */
const deleteChunkRows = 20_000

/** Deletes a corpus and its rows in short transactions (a million rows would otherwise hold the lock for seconds). */
export function removeCorpusRows(db: Database, corpusId: number): void {
  const deleteRange = db.prepare('DELETE FROM corpus_rows WHERE corpus_id = ? AND idx >= ? AND idx < ?')
  const last = (db.prepare('SELECT max(idx) AS last FROM corpus_rows WHERE corpus_id = ?').get(corpusId) as { last: number | null }).last ?? -1
  for (let start = last - (last % deleteChunkRows); start >= 0; start -= deleteChunkRows) {
    retryWhileBusy(() => deleteRange.run(corpusId, start, start + deleteChunkRows))
  }
  retryWhileBusy(() => db.prepare('DELETE FROM corpora WHERE id = ?').run(corpusId))
}


/** Every text of one side of a corpus (dialogues: every turn), for learning vocabularies. */
export function corpusTexts(db: Database, corpusId: number, side: 'src' | 'tgt' | 'joint'): string[] {
  return [...streamCorpusTexts(db, corpusId, side)]
}

/** The texts of a corpus one row at a time, without holding the corpus in memory (dialogues: every turn). */
export function* streamCorpusTexts(db: Database, corpusId: number, side: 'src' | 'tgt' | 'joint'): Generator<string> {
  for (const row of db.prepare('SELECT src, tgt, turns FROM corpus_rows WHERE corpus_id = ? ORDER BY idx').iterate(corpusId) as Iterable<TextRow>) {
    yield* rowTexts([row], side)
  }
}

interface TextRow {
  src: string | null
  tgt: string | null
  turns: string | null
}

/** The texts of rows on one side (dialogues: every turn). */
function rowTexts(rows: Iterable<TextRow>, side: 'src' | 'tgt' | 'joint'): string[] {
  const texts: string[] = []
  for (const row of rows) {
    if (row.turns !== null) texts.push(...(JSON.parse(row.turns) as string[]))
    else {
      if (side !== 'tgt' && row.src !== null) texts.push(row.src)
      if (side !== 'src' && row.tgt !== null) texts.push(row.tgt)
    }
  }
  return texts
}

/** Up to `limit` texts of one side for measuring a tokenizer: the dev split when there is one (text the
 *  tokenizer did not learn from, when it was trained before the split), else the first rows. */
export function corpusSample(db: Database, corpusId: number, side: 'src' | 'tgt' | 'joint', limit: number): string[] {
  const hasDev = db.prepare("SELECT 1 FROM corpus_rows WHERE corpus_id = ? AND split = 'dev' LIMIT 1").get(corpusId) !== undefined
  const rows = db
    .prepare(`SELECT src, tgt, turns FROM corpus_rows WHERE corpus_id = ? ${hasDev ? "AND split = 'dev'" : ''} ORDER BY idx LIMIT ?`)
    .all(corpusId, limit) as TextRow[]
  return rowTexts(rows, side).slice(0, limit)
}

/** Removes imports that a crash or a kill left unfinished (their process is gone); returns their names. */
export function removeAbandonedImports(db: Database): string[] {
  const unfinished = db.prepare("SELECT id, name, import_pid FROM corpora WHERE state = 'importing'").all() as { id: number; name: string; import_pid: number | null }[]
  const abandoned = unfinished.filter((c) => c.import_pid === null || c.import_pid === process.pid || !processAlive(c.import_pid))
  for (const corpus of abandoned) removeCorpusRows(db, corpus.id)
  return abandoned.map((c) => c.name)
}
