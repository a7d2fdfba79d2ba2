// Writes a corpus (or one split of it) back to a file: TSV pairs, dialogue JSONL or one text per line.
import { closeSync, openSync, writeSync } from 'node:fs'
import type { CorpusKind } from '../../api/contract.ts'
import type { Database } from '../store/database.ts'
import { toCorpusRow, type CorpusRowRecord } from './repository.ts'

export type ExportFormat = 'tsv' | 'jsonl' | 'text'

export const defaultExportFormat: Record<CorpusKind, ExportFormat> = { parallel: 'tsv', dialogue: 'jsonl', monolingual: 'text' }

/** Tabs and newlines inside a text would break the line format: they become spaces. */
const flat = (text: string | null) => (text ?? '').replace(/[\t\r\n]+/g, ' ')

export function exportCorpus(db: Database, corpus: { id: number; kind: CorpusKind }, path: string, format: ExportFormat, split?: string): number {
  if (format === 'tsv' && corpus.kind !== 'parallel') throw new Error(`a ${corpus.kind} corpus has no target side to write as TSV`)
  if (format === 'jsonl' && corpus.kind !== 'dialogue') throw new Error(`JSONL export is for dialogue corpora; this one is ${corpus.kind}`)
  const read = db.prepare(
    `SELECT idx, src, tgt, turns, grp, split FROM corpus_rows WHERE corpus_id = ? AND idx > ? ${split ? 'AND split = ?' : ''} ORDER BY idx LIMIT 5000`,
  )
  const fd = openSync(path, 'w')
  let rows = 0
  try {
    let last = -1
    for (;;) {
      const batch = (split ? read.all(corpus.id, last, split) : read.all(corpus.id, last)) as CorpusRowRecord[]
      if (batch.length === 0) break
      const lines = batch.map((record) => {
        const row = toCorpusRow(record)
        if (format === 'jsonl') return JSON.stringify(row.turns)
        if (format === 'tsv') return `${flat(row.src)}\t${flat(row.tgt)}`
        return row.turns ? row.turns.map(flat).join('\n') : flat(row.src)
      })
      writeSync(fd, `${lines.join('\n')}\n`)
      rows += batch.length
      last = batch.at(-1)!.idx
    }
  } finally {
    closeSync(fd)
  }
  return rows
}
