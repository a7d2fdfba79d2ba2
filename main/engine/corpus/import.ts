// Streaming corpus import: rows are committed in short chunks under an invisible 'importing' corpus that becomes
// visible in one final flip, so readers never see a partial corpus, a bad line or a cancel leaves nothing behind,
// and other writers (a training's checkpoints) never wait long for an import.
import { open, stat } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import type { CorpusFormat, CorpusImportParams, CorpusKind } from '../../api/contract.ts'
import type { Database } from '../store/database.ts'
import { processAlive, retryWhileBusy } from '../store/conditions.ts'
import { removeCorpusRows } from './repository.ts'
import { isMoFile, readGettext } from './formats/gettext.ts'
import { readLineFormat } from './formats/line-formats.ts'
import { readMoses } from './formats/moses.ts'
import { CorpusCancelledError, type RecordBatch, type SkipCounts } from './formats/record.ts'
import { readTmx } from './formats/tmx.ts'

export { CorpusCancelledError, CorpusFormatError } from './formats/record.ts'

export interface ImportHooks {
  onProgress?: (progress: { bytesRead: number; totalBytes: number; rows: number }) => void
  /** Polled between batches; returning true rolls the import back. */
  isCancelled?: () => boolean
}

export interface ImportRequest extends CorpusImportParams {
  /** Recorded as the corpus source; defaults to the file names. */
  source?: string
  /** Grouping key per 0-based row index (e.g. Bible book), for leak-free splits. */
  groupOf?: (index: number) => string | null
}

export interface ImportResult {
  corpusId: number
  name: string
  kind: CorpusKind
  format: CorpusFormat
  rows: number
  /** What was passed over on purpose, by reason (blank lines, fuzzy entries, …). */
  skipped: SkipCounts
}

const kindOfFormat: Record<CorpusFormat, CorpusKind> = {
  tsv: 'parallel',
  moses: 'parallel',
  tmx: 'parallel',
  po: 'parallel',
  mo: 'parallel',
  jsonl: 'dialogue',
  text: 'monolingual',
}

const byExtension: Record<string, CorpusFormat> = { '.tsv': 'tsv', '.jsonl': 'jsonl', '.tmx': 'tmx', '.po': 'po', '.pot': 'po', '.mo': 'mo' }

/** Two files are a Moses pair; otherwise the extension decides, then the content. */
export async function sniffFormat(files: string[]): Promise<CorpusFormat> {
  if (files.length === 2) return 'moses'
  const file = files[0]!
  const known = byExtension[extname(file).toLowerCase()]
  if (known) return known
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(64 * 1024)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    const bytes = buffer.subarray(0, bytesRead)
    if (isMoFile(bytes)) return 'mo'
    const head = bytes.toString('utf8').replace(/^\uFEFF/, '')
    if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE tmx[^>]*>\s*)?<tmx[\s>]/i.test(head)) return 'tmx'
    if (/^msgid\s+"/m.test(head) && /^msgstr(\[\d+\])?\s+"/m.test(head)) return 'po'
    const firstLine = head.split('\n').find((line) => line.trim().length > 0) ?? ''
    if (firstLine.trimStart().startsWith('[')) {
      try {
        if (Array.isArray(JSON.parse(firstLine))) return 'jsonl'
      } catch {
        // not JSON: fall through
      }
    }
    return firstLine.includes('\t') ? 'tsv' : 'text'
  } finally {
    await handle.close()
  }
}

function readerFor(format: CorpusFormat, request: ImportRequest, skipped: SkipCounts): AsyncGenerator<RecordBatch> {
  const [first, second] = request.files as [string, string | undefined]
  if (format === 'moses') {
    if (!second) throw new Error('a Moses corpus needs two files: the source side and the target side')
    return readMoses(first, second, skipped)
  }
  if (second) throw new Error(`a ${format} corpus is one file; two files are read as a Moses pair (format "moses")`)
  switch (format) {
    case 'tmx':
      return readTmx(first, { srcLang: request.srcLang, tgtLang: request.tgtLang }, skipped)
    case 'po':
    case 'mo':
      return readGettext(format, first, skipped)
    default:
      return readLineFormat(format, first, skipped)
  }
}

/** Rows per committed chunk, and the longest a chunk holds the write lock: another writer (a training's checkpoint)
 *  waits at most this long for an import, however large the file. */
const chunkRows = 5000
const chunkMs = 200

export async function importCorpus(db: Database, request: ImportRequest, hooks: ImportHooks = {}): Promise<ImportResult> {
  const format = request.format ?? (await sniffFormat(request.files))
  const kind = kindOfFormat[format]
  if (kind !== 'parallel' && request.tgtLang) throw new Error(`a ${kind} corpus has no target language; drop tgtLang`)
  let totalBytes = 0
  for (const file of request.files) totalBytes += (await stat(file)).size
  const skipped: SkipCounts = {}
  const reader = readerFor(format, request, skipped)

  const insertRow = db.prepare('INSERT INTO corpus_rows (corpus_id, idx, src, tgt, turns, grp) VALUES (?, ?, ?, ?, ?, ?)')
  const names = request.files.map((f) => basename(f))
  const corpusId = retryWhileBusy(() => beginImport(db, request, kind, names))
  let rows = 0
  let chunkStarted = 0
  let chunkStartedMs = 0
  const commitChunk = (): void => {
    if (db.inTransaction) db.exec('COMMIT')
  }
  try {
    for await (const batch of reader) {
      if (hooks.isCancelled?.()) throw new CorpusCancelledError('import')
      for (const record of batch.records) {
        if (!db.inTransaction) {
          retryWhileBusy(() => db.exec('BEGIN IMMEDIATE'))
          chunkStarted = rows
          chunkStartedMs = performance.now()
        }
        insertRow.run(corpusId, rows, record.src, record.tgt, record.turns, request.groupOf?.(rows) ?? null)
        rows++
        if (rows - chunkStarted >= chunkRows || (rows % 256 === 0 && performance.now() - chunkStartedMs >= chunkMs)) commitChunk()
      }
      commitChunk() // a batch is read between chunks, never inside one: the lock is held only while inserting
      hooks.onProgress?.({ bytesRead: batch.bytesRead, totalBytes, rows })
    }
    if (hooks.isCancelled?.()) throw new CorpusCancelledError('import')
    if (rows === 0) throw new Error(`${names.join(' + ')}: no ${kind} rows found${Object.keys(skipped).length ? ` (skipped: ${JSON.stringify(skipped)})` : ''}`)
    // The flip: from here on the corpus is visible, whole.
    retryWhileBusy(() =>
      db
        .prepare("UPDATE corpora SET state = 'ready', import_pid = NULL, meta = ? WHERE id = ?")
        .run(JSON.stringify({ format, importedFrom: names, skipped, searchIndex: 'pending' }), corpusId),
    )
    return { corpusId, name: request.name, kind, format, rows, skipped }
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK')
    await reader.return(undefined)
    try {
      removeCorpusRows(db, corpusId)
    } catch {
      // e.g. the disk is full: the next engine start removes the unfinished import (its process is gone by then)
    }
    throw error
  }
}

/** Registers the corpus, invisible until its import finishes. */
function beginImport(db: Database, request: ImportRequest, kind: CorpusKind, names: string[]): number {
  return db.transaction(() => {
    const existing = db.prepare('SELECT id, state, import_pid FROM corpora WHERE name = ?').get(request.name) as { id: number; state: string; import_pid: number | null } | undefined
    if (existing?.state === 'importing' && existing.import_pid !== null && existing.import_pid !== process.pid && processAlive(existing.import_pid)) {
      throw new Error(`a corpus named '${request.name}' is being imported by another process`)
    }
    if (existing?.state === 'ready') throw new Error(`a corpus named '${request.name}' already exists`)
    if (existing) removeCorpusRows(db, existing.id) // left by a crashed import
    return Number(
      db
        .prepare("INSERT INTO corpora (name, kind, src_lang, tgt_lang, source, meta, state, import_pid) VALUES (?, ?, ?, ?, ?, '{}', 'importing', ?)")
        .run(request.name, kind, request.srcLang ?? null, request.tgtLang ?? null, request.source ?? names.join(' + '), process.pid).lastInsertRowid,
    )
  }).immediate()
}
