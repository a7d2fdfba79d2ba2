// Moses-style parallel files: line i of the source file translates line i of the target file.
import { basename } from 'node:path'
import { readLineBatches, type LineBatch } from '../lines.ts'
import { skip, type RecordBatch, type SkipCounts } from './record.ts'

export class LineCountMismatchError extends Error {
  constructor(srcFile: string, srcLines: number, tgtFile: string, tgtLines: number) {
    super(`${basename(srcFile)} has ${srcLines} lines but ${basename(tgtFile)} has ${tgtLines}: Moses files must align line by line`)
    this.name = 'LineCountMismatchError'
  }
}

/** One side of the pair: the lines read but not yet paired, and totals so far. */
class Side {
  lines: string[] = []
  count = 0
  bytes = 0
  private readonly reader: AsyncGenerator<LineBatch>

  constructor(readonly file: string) {
    this.reader = readLineBatches(file)
  }

  async refill(): Promise<void> {
    if (this.lines.length > 0) return
    const next = await this.reader.next()
    if (next.done) return
    this.lines = next.value.lines
    this.count += next.value.lines.length
    this.bytes = next.value.bytesRead
  }

  /** Total lines of the file, reading what is left. */
  async total(): Promise<number> {
    let total = this.count
    for await (const batch of this.reader) total += batch.lines.length
    return total
  }
}

export async function* readMoses(srcFile: string, tgtFile: string, skipped: SkipCounts): AsyncGenerator<RecordBatch> {
  const src = new Side(srcFile)
  const tgt = new Side(tgtFile)
  for (;;) {
    await src.refill()
    await tgt.refill()
    const n = Math.min(src.lines.length, tgt.lines.length)
    if (n === 0) {
      if (src.lines.length === 0 && tgt.lines.length === 0) return
      // One file ended first: count the rest of the other, so the error can give both totals.
      throw new LineCountMismatchError(srcFile, await src.total(), tgtFile, await tgt.total())
    }
    const records = []
    for (let i = 0; i < n; i++) {
      const s = src.lines[i]!
      const t = tgt.lines[i]!
      if (s.trim().length === 0 && t.trim().length === 0) skip(skipped, 'blank lines')
      else records.push({ src: s, tgt: t, turns: null })
    }
    src.lines = src.lines.slice(n)
    tgt.lines = tgt.lines.slice(n)
    yield { records, bytesRead: src.bytes + tgt.bytes }
  }
}
