// What every corpus reader yields: rows in batches, with the bytes consumed so far for progress.
export interface CorpusRecord {
  src: string | null
  tgt: string | null
  /** A dialogue: its turns as a JSON array. */
  turns: string | null
}

export interface RecordBatch {
  records: CorpusRecord[]
  bytesRead: number
}

/** Counts of input units a reader passed over on purpose (blank lines, fuzzy entries, …), by reason. */
export type SkipCounts = Record<string, number>

export class CorpusFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file.split(/[\\/]/).pop()} line ${line}: ${detail}`)
    this.name = 'CorpusFormatError'
  }
}

/** A binary file (.mo) that is cut short or corrupt, located by byte offset. */
export class CorpusByteError extends Error {
  constructor(
    readonly file: string,
    readonly byteOffset: number,
    detail: string,
  ) {
    super(`${file.split(/[\\/]/).pop()} byte ${byteOffset}: ${detail}`)
    this.name = 'CorpusByteError'
  }
}

export function skip(counts: SkipCounts, reason: string): void {
  counts[reason] = (counts[reason] ?? 0) + 1
}

/** Thrown by a corpus operation (import, clean) asked to stop; its transaction has been rolled back. */
export class CorpusCancelledError extends Error {
  constructor(operation: string) {
    super(`${operation} cancelled`)
    this.name = 'CorpusCancelledError'
  }
}
