// Reads word2vec text, word2vec binary (Mikolov's word2vec.c; gensim) and GloVe (text without a header) vectors
// chunk by chunk, so a file of any size streams through (Node reads at most 2 GiB at once; GoogleNews is 3.6 GB),
// keeping the first `maxVocab` words (these files are sorted by frequency, so the first are the commonest).
import { VectorFileError } from './format-error.ts'
import { WordVectors } from './word-vectors.ts'

export type VectorFileFormat = 'word2vec' | 'word2vec-bin' | 'glove'

/** "count dimensions", the first line of word2vec text and binary files. */
function parseHeader(line: string, where: string): { count: number; dim: number } {
  const fields = line.trim().split(/\s+/)
  const count = Number(fields[0])
  const dim = Number(fields[1])
  if (fields.length !== 2 || !Number.isInteger(count) || !Number.isInteger(dim) || count < 0 || dim <= 0) {
    throw new VectorFileError(`${where}: expected a header 'count dimensions', found ${JSON.stringify(line.trim().slice(0, 80))}`)
  }
  return { count, dim }
}

const longestWordBytes = 1000

export class VectorStreamReader {
  private pending = new Uint8Array(0)
  /** Bytes of the file before `pending` (for error messages). */
  private consumed = 0
  private line = 0
  private count: number | null = null
  private dim = 0
  private readonly words: string[] = []
  private values = new Float32Array(0)
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  constructor(
    private readonly format: VectorFileFormat,
    private readonly maxVocab = Number.POSITIVE_INFINITY,
  ) {}

  /** Words kept so far. */
  get size(): number {
    return this.words.length
  }

  /** Vector size, once the header or first row has said (0 before). */
  get dimensions(): number {
    return this.dim
  }

  /** How many words the file will give: its header's count within maxVocab (null while unknown, e.g. GloVe). */
  get expectedWords(): number | null {
    return this.count === null ? (Number.isFinite(this.maxVocab) ? this.maxVocab : null) : Math.min(this.count, this.maxVocab)
  }

  /** Takes the next bytes of the file; false once `maxVocab` words are read (the rest need not be read). */
  push(chunk: Uint8Array): boolean {
    const bytes = this.pending.length === 0 ? chunk : concat(this.pending, chunk)
    const used = this.format === 'word2vec-bin' ? this.binaryRecords(bytes, false) : this.textLines(bytes, false)
    this.consumed += used
    this.pending = Uint8Array.from(bytes.subarray(used)) // a copy: the caller may reuse its buffer (and Buffer#slice would not copy)
    return !this.full()
  }

  /** The vectors read; checks the file ended where its header said. */
  end(): WordVectors {
    if (!this.full()) {
      if (this.format === 'word2vec-bin') this.binaryRecords(this.pending, true)
      else this.textLines(this.pending, true)
      if (this.count === null && this.format !== 'glove') throw new VectorFileError('the file is empty: no header line (count dimensions)')
      if (this.count !== null && this.words.length !== this.count) throw new VectorFileError(`the header announces ${this.count} words but the file has ${this.words.length}`)
    }
    if (this.words.length === 0 && this.format === 'glove') throw new VectorFileError('the file holds no vectors')
    return new WordVectors(this.words, this.dim, this.values.slice(0, this.words.length * this.dim))
  }

  private full(): boolean {
    return this.words.length >= this.maxVocab || (this.count !== null && this.words.length >= this.count && this.format === 'word2vec-bin')
  }

  /** A row for the next word, growing the buffer when the count is not known in advance (GloVe). */
  private row(): Float32Array {
    const needed = (this.words.length + 1) * this.dim
    if (needed > this.values.length) {
      const rows = Math.min(this.maxVocab, this.count ?? Number.POSITIVE_INFINITY, Math.max(1024, this.words.length * 2))
      const grown = new Float32Array(Math.max(rows, this.words.length + 1) * this.dim)
      grown.set(this.values)
      this.values = grown
    }
    return this.values.subarray(this.words.length * this.dim, needed)
  }

  /** Complete lines of a text file (all of them at the end); returns the bytes used. */
  private textLines(bytes: Uint8Array, last: boolean): number {
    let start = 0
    while (!this.full()) {
      let newline = bytes.indexOf(0x0a, start)
      if (newline < 0) {
        if (!last || start >= bytes.length) break
        newline = bytes.length
      }
      this.line++
      let text: string
      try {
        text = this.decoder.decode(bytes.subarray(start, newline))
      } catch {
        throw new VectorFileError(`line ${this.line} is not valid UTF-8`)
      }
      start = Math.min(newline + 1, bytes.length)
      this.textLine(text.trimEnd())
    }
    return start
  }

  private textLine(line: string): void {
    if (this.format === 'word2vec' && this.count === null) {
      ;({ count: this.count, dim: this.dim } = parseHeader(line, `line ${this.line}`))
      return
    }
    if (line === '') return
    const fields = line.split(' ')
    if (this.dim === 0) {
      if (fields.length < 2) throw new VectorFileError(`line ${this.line}: expected a word and its numbers, found ${fields.length} field`)
      this.dim = fields.length - 1 // GloVe: the first row says the size
    }
    if (this.count !== null && this.words.length === this.count) throw new VectorFileError(`line ${this.line}: more rows than the ${this.count} the header announces`)
    if (fields.length !== this.dim + 1) throw new VectorFileError(`line ${this.line}: expected a word and ${this.dim} numbers, found ${fields.length} fields`)
    const row = this.row()
    for (let c = 0; c < this.dim; c++) {
      const value = Number(fields[c + 1])
      if (!Number.isFinite(value) || fields[c + 1] === '') throw new VectorFileError(`line ${this.line}: '${fields[c + 1]}' is not a number (column ${c + 2})`)
      row[c] = value
    }
    this.words.push(fields[0]!)
  }

  /** "count dim\n", then per word: the word, a space, dim little-endian float32s and an optional "\n". */
  private binaryRecords(bytes: Uint8Array, last: boolean): number {
    let offset = 0
    if (this.count === null) {
      const newline = bytes.indexOf(0x0a)
      if (newline < 0) {
        if (last) throw new VectorFileError(bytes.length === 0 ? 'the file is empty: no header line (count dimensions)' : 'no header line (count dimensions) found')
        return 0
      }
      let header: string
      try {
        header = this.decoder.decode(bytes.subarray(0, newline))
      } catch {
        throw new VectorFileError('the first line is not text: not a word2vec file (a header "count dimensions" comes first)')
      }
      ;({ count: this.count, dim: this.dim } = parseHeader(header, 'header'))
      offset = newline + 1
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    while (!this.full()) {
      while (offset < bytes.length && (bytes[offset] === 0x0a || bytes[offset] === 0x0d)) offset++ // word2vec.c and gensim newlines
      const index = this.words.length + 1
      const space = bytes.indexOf(0x20, offset)
      const at = this.consumed + offset
      if (space < 0 || space - offset > longestWordBytes) {
        if (!last && bytes.length - offset <= longestWordBytes) break // the word continues in the next chunk
        if (last && offset >= bytes.length) break // the file ends between words: end() compares with the header
        throw new VectorFileError(`word ${index} of ${this.count}: no word followed by a space at byte ${at} (truncated or not a binary word2vec file)`)
      }
      let word: string
      try {
        word = this.decoder.decode(bytes.subarray(offset, space))
      } catch {
        throw new VectorFileError(`word ${index} of ${this.count} at byte ${at} is not valid UTF-8`)
      }
      if (space + 1 + this.dim * 4 > bytes.length) {
        if (!last) break
        throw new VectorFileError(`word ${index} of ${this.count} ('${word}'): the file ends inside its vector`)
      }
      const row = this.row()
      for (let c = 0; c < this.dim; c++) row[c] = view.getFloat32(space + 1 + c * 4, true)
      this.words.push(word)
      offset = space + 1 + this.dim * 4
    }
    return offset
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length)
  joined.set(a)
  joined.set(b, a.length)
  return joined
}

/** The format of a vector file from its first bytes: binary floats, a word2vec header line, or GloVe rows. */
export function detectVectorFormat(head: Uint8Array): VectorFileFormat {
  const newline = head.indexOf(0x0a)
  const sample = head.subarray(newline + 1, Math.min(head.length, newline + 1 + 4096))
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, Math.max(0, sample.length - 4)))
  } catch {
    return 'word2vec-bin'
  }
  if (sample.some((b) => b === 0 || b < 0x09)) return 'word2vec-bin'
  const first = new TextDecoder().decode(head.subarray(0, newline < 0 ? head.length : newline)).trim()
  return /^\d+\s+\d+$/.test(first) ? 'word2vec' : 'glove'
}
