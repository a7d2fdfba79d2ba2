// Streaming corpus import: one transaction per import, so a bad line or a cancel leaves nothing behind.
import { open, stat } from 'node:fs/promises'
import { basename, extname } from 'node:path'
import type { CorpusFormat, CorpusImportParams, CorpusKind } from '../../api/contract.ts'
import type { Database } from '../store/database.ts'
import { readLineBatches } from './lines.ts'

export class CorpusFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${basename(file)} line ${line}: ${detail}`)
    this.name = 'CorpusFormatError'
  }
}

export class ImportCancelledError extends Error {
  constructor() {
    super('import cancelled')
    this.name = 'ImportCancelledError'
  }
}

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
  skippedBlankLines: number
}

interface ParsedRow {
  src: string | null
  tgt: string | null
  turns: string | null
}

const kindOfFormat: Record<CorpusFormat, CorpusKind> = { tsv: 'parallel', jsonl: 'dialogue', text: 'monolingual' }

/** Guesses the format from the extension, then from the first non-blank line. */
export async function sniffFormat(file: string): Promise<CorpusFormat> {
  const ext = extname(file).toLowerCase()
  if (ext === '.tsv') return 'tsv'
  if (ext === '.jsonl') return 'jsonl'
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.alloc(64 * 1024)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    const head = buffer.subarray(0, bytesRead).toString('utf8')
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

function parseLine(format: CorpusFormat, line: string, file: string, lineNo: number): ParsedRow {
  switch (format) {
    case 'tsv': {
      const tab = line.indexOf('\t')
      if (tab === -1) throw new CorpusFormatError(file, lineNo, 'expected "source<TAB>target", found no tab')
      if (line.indexOf('\t', tab + 1) !== -1) {
        throw new CorpusFormatError(file, lineNo, 'expected 2 tab-separated columns, found more')
      }
      return { src: line.slice(0, tab), tgt: line.slice(tab + 1), turns: null }
    }
    case 'jsonl': {
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch (error) {
        throw new CorpusFormatError(file, lineNo, `not valid JSON (${(error as Error).message})`)
      }
      if (!Array.isArray(value) || !value.every((turn) => typeof turn === 'string')) {
        throw new CorpusFormatError(file, lineNo, 'expected a JSON array of strings (the turns of one dialogue)')
      }
      if (value.length < 2) throw new CorpusFormatError(file, lineNo, 'a dialogue needs at least 2 turns')
      return { src: null, tgt: null, turns: JSON.stringify(value) }
    }
    case 'text':
      return { src: line, tgt: null, turns: null }
  }
}

export async function importCorpus(db: Database, request: ImportRequest, hooks: ImportHooks = {}): Promise<ImportResult> {
  const [file, ...rest] = request.files
  if (!file || rest.length > 0) throw new Error('exactly one input file is supported for tsv, jsonl and text corpora')
  const format = request.format ?? (await sniffFormat(file))
  const kind = kindOfFormat[format]
  const totalBytes = (await stat(file)).size
  if (kind !== 'parallel' && request.tgtLang) throw new Error(`a ${kind} corpus has no target language; drop tgtLang`)

  const insertCorpus = db.prepare(
    'INSERT INTO corpora (name, kind, src_lang, tgt_lang, source, meta) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const insertRow = db.prepare('INSERT INTO corpus_rows (corpus_id, idx, src, tgt, turns, grp) VALUES (?, ?, ?, ?, ?, ?)')
  let rows = 0
  let skippedBlankLines = 0
  db.exec('BEGIN IMMEDIATE')
  try {
    const meta = JSON.stringify({ format, importedFrom: request.files.map((f) => basename(f)) })
    const corpusId = Number(
      insertCorpus.run(
        request.name,
        kind,
        request.srcLang ?? null,
        request.tgtLang ?? null,
        request.source ?? request.files.map((f) => basename(f)).join(', '),
        meta,
      ).lastInsertRowid,
    )
    for await (const batch of readLineBatches(file)) {
      if (hooks.isCancelled?.()) throw new ImportCancelledError()
      batch.lines.forEach((line, offset) => {
        if (line.trim().length === 0) {
          skippedBlankLines++
          return
        }
        const row = parseLine(format, line, file, batch.firstLineNo + offset)
        insertRow.run(corpusId, rows, row.src, row.tgt, row.turns, request.groupOf?.(rows) ?? null)
        rows++
      })
      hooks.onProgress?.({ bytesRead: batch.bytesRead, totalBytes, rows })
    }
    if (hooks.isCancelled?.()) throw new ImportCancelledError()
    if (rows === 0) throw new Error(`${basename(file)}: no ${kind} rows found (the file is empty or blank)`)
    db.exec('COMMIT')
    return { corpusId, name: request.name, kind, format, rows, skippedBlankLines }
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK')
    throw error
  }
}
