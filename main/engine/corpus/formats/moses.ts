// Moses-style parallel files: line i of the source file translates line i of the target file.
import { basename } from 'node:path'
import { readLineBatches } from '../lines.ts'
import { skip, type RecordBatch, type SkipCounts } from './record.ts'

export class LineCountMismatchError extends Error {
  constructor(srcFile: string, srcLines: number, tgtFile: string, tgtLines: number) {
    super(`${basename(srcFile)} has ${srcLines} lines but ${basename(tgtFile)} has ${tgtLines}: Moses files must align line by line`)
    this.name = 'LineCountMismatchError'
  }
}

async function countRemaining(lines: AsyncGenerator<{ lines: string[] }>): Promise<number> {
  let count = 0
  for await (const batch of lines) count += batch.lines.length
  return count
}

export async function* readMoses(srcFile: string, tgtFile: string, skipped: SkipCounts): AsyncGenerator<RecordBatch> {
  const src = readLineBatches(srcFile)
  const tgt = readLineBatches(tgtFile)
  let srcLines: string[] = []
  let tgtLines: string[] = []
  let srcCount = 0
  let tgtCount = 0
  let srcBytes = 0
  let tgtBytes = 0
  for (;;) {
    if (srcLines.length === 0) {
      const next = await src.next()
      if (!next.done) {
        srcLines = next.value.lines
        srcCount += srcLines.length
        srcBytes = next.value.bytesRead
      }
    }
    if (tgtLines.length === 0) {
      const next = await tgt.next()
      if (!next.done) {
        tgtLines = next.value.lines
        tgtCount += tgtLines.length
        tgtBytes = next.value.bytesRead
      }
    }
    const n = Math.min(srcLines.length, tgtLines.length)
    if (n === 0) {
      if (srcLines.length === 0 && tgtLines.length === 0) return
      // One file ended first: count the rest of the other, so the error can give both totals.
      const srcTotal = srcCount + (srcLines.length > 0 ? await countRemaining(src) : 0)
      const tgtTotal = tgtCount + (tgtLines.length > 0 ? await countRemaining(tgt) : 0)
      throw new LineCountMismatchError(srcFile, srcTotal, tgtFile, tgtTotal)
    }
    const records = []
    for (let i = 0; i < n; i++) {
      const s = srcLines[i]!
      const t = tgtLines[i]!
      if (s.trim().length === 0 && t.trim().length === 0) skip(skipped, 'blank lines')
      else records.push({ src: s, tgt: t, turns: null })
    }
    srcLines = srcLines.slice(n)
    tgtLines = tgtLines.slice(n)
    yield { records, bytesRead: srcBytes + tgtBytes }
  }
}
