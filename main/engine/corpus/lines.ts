// Streams a text file as batches of lines, strictly UTF-8, never holding the whole file (nor a line over the limit).
import { limits } from '../../api/limits.ts'
import { createReadStream } from 'node:fs'

export class InvalidUtf8Error extends Error {
  constructor(
    readonly file: string,
    readonly byteOffset: number,
  ) {
    super(`${file}: invalid UTF-8 at byte offset ${byteOffset}`)
    this.name = 'InvalidUtf8Error'
  }
}

export interface LineBatch {
  /** 1-based number of the first line in `lines`. */
  firstLineNo: number
  lines: string[]
  /** Bytes of the file consumed so far, for progress. */
  bytesRead: number
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence, or -1. */
export function findInvalidUtf8(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i]!
    let need: number
    let min: number
    if (b < 0x80) {
      i++
      continue
    } else if (b >= 0xc2 && b <= 0xdf) {
      need = 1
      min = 0x80
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      min = 0x800
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      min = 0x10000
    } else return i
    let codePoint = b & (0x3f >> need)
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k]
      if (c === undefined || (c & 0xc0) !== 0x80) return i
      codePoint = (codePoint << 6) | (c & 0x3f)
    }
    if (codePoint < min || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) return i
    i += need + 1
  }
  return -1
}

/** The bytes of a multi-byte sequence cut off at the end of `chunk` (so errors in the next chunk can be located). */
function unfinishedTail(chunk: Uint8Array): Uint8Array {
  for (let back = 1; back <= 3 && back <= chunk.length; back++) {
    const b = chunk[chunk.length - back]!
    if ((b & 0xc0) === 0x80) continue // continuation byte: keep looking for the lead byte
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    return length > back ? chunk.subarray(chunk.length - back) : new Uint8Array(0)
  }
  return new Uint8Array(0)
}

export interface TextChunk {
  text: string
  /** Bytes of the file consumed so far. */
  bytesRead: number
}

/** Decodes a file as strict UTF-8, chunk by chunk; invalid bytes throw with their exact offset. */
export async function* readTextChunks(file: string): AsyncGenerator<TextChunk> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
  let bytesRead = 0
  let pending: Uint8Array = new Uint8Array(0) // bytes of an unfinished sequence, for error offsets
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 }) as AsyncIterable<Buffer>) {
    let text: string
    try {
      text = decoder.decode(chunk, { stream: true })
    } catch {
      const joined = new Uint8Array(pending.length + chunk.length)
      joined.set(pending)
      joined.set(chunk, pending.length)
      throw new InvalidUtf8Error(file, bytesRead - pending.length + Math.max(findInvalidUtf8(joined), 0))
    }
    pending = unfinishedTail(chunk)
    bytesRead += chunk.length
    yield { text, bytesRead }
  }
  let rest: string
  try {
    rest = decoder.decode()
  } catch {
    throw new InvalidUtf8Error(file, bytesRead - pending.length + Math.max(findInvalidUtf8(pending), 0))
  }
  if (rest.length > 0) yield { text: rest, bytesRead }
}

/** A line over the import limit (a whole file without newlines, a binary): refused by number before it fills memory. */
export class LineTooLongError extends Error {
  readonly code = 'too_large'
  constructor(file: string, lineNo: number, maxChars: number) {
    super(`${file.split(/[\\/]/).pop()} line ${lineNo}: longer than ${maxChars.toLocaleString('en-US')} characters (the limit for one row); is it the right file, with one row per line?`)
    this.name = 'LineTooLongError'
  }
}

export async function* readLineBatches(file: string, batchSize = 2000, maxLineChars = limits.importLineChars): AsyncGenerator<LineBatch> {
  let carry = ''
  let lineNo = 1
  let batch: string[] = []
  let batchStart = 1
  let bytesRead = 0
  for await (const chunk of readTextChunks(file)) {
    bytesRead = chunk.bytesRead
    carry += chunk.text
    let start = 0
    for (let nl = carry.indexOf('\n'); nl !== -1; nl = carry.indexOf('\n', start)) {
      const end = nl > start && carry.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      if (end - start > maxLineChars) throw new LineTooLongError(file, lineNo, maxLineChars)
      batch.push(carry.slice(start, end))
      start = nl + 1
      lineNo++
      if (batch.length >= batchSize) {
        yield { firstLineNo: batchStart, lines: batch, bytesRead }
        batch = []
        batchStart = lineNo
      }
    }
    carry = carry.slice(start)
    if (carry.length > maxLineChars) throw new LineTooLongError(file, lineNo, maxLineChars)
  }
  if (carry.length > 0) batch.push(carry.endsWith('\r') ? carry.slice(0, -1) : carry)
  if (batch.length > 0) yield { firstLineNo: batchStart, lines: batch, bytesRead }
}
