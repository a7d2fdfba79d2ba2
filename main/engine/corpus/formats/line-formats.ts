// One row per line: TSV pairs, dialogue JSONL, monolingual text.
import { readLineBatches } from '../lines.ts'
import { CorpusFormatError, skip, type CorpusRecord, type RecordBatch, type SkipCounts } from './record.ts'

export type LineFormat = 'tsv' | 'jsonl' | 'text'

function parseLine(format: LineFormat, line: string, file: string, lineNo: number): CorpusRecord {
  switch (format) {
    case 'tsv': {
      const tab = line.indexOf('\t')
      if (tab === -1) throw new CorpusFormatError(file, lineNo, 'expected "source<TAB>target", found no tab')
      if (line.indexOf('\t', tab + 1) !== -1) throw new CorpusFormatError(file, lineNo, 'expected 2 tab-separated columns, found more')
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

export async function* readLineFormat(format: LineFormat, file: string, skipped: SkipCounts): AsyncGenerator<RecordBatch> {
  for await (const batch of readLineBatches(file)) {
    const records: CorpusRecord[] = []
    batch.lines.forEach((line, offset) => {
      if (line.trim().length === 0) skip(skipped, 'blank lines')
      else records.push(parseLine(format, line, file, batch.firstLineNo + offset))
    })
    yield { records, bytesRead: batch.bytesRead }
  }
}
