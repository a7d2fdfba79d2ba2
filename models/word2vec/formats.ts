// Word-vector files: word2vec's text and binary formats (Mikolov's word2vec.c; what gensim's load_word2vec_format
// reads) and the TensorBoard projector's vectors.tsv + metadata.tsv. Bad input names the line or word at fault.
import { VectorFileError } from './format-error.ts'
import { detectVectorFormat, VectorStreamReader } from './vector-stream.ts'
import { WordVectors } from './word-vectors.ts'

export { VectorFileError }

function checkWords(words: readonly string[]): void {
  const bad = words.findIndex((w) => w.length === 0 || /\s/.test(w))
  if (bad >= 0) throw new VectorFileError(`word ${bad + 1} ('${words[bad]}') is empty or contains whitespace, which word2vec files cannot hold`)
}

/** "count dim" then one "word v1 … vdim" line per word. */
export function toWord2VecText(vectors: WordVectors): string {
  checkWords(vectors.words)
  const lines = [`${vectors.size} ${vectors.dim}`]
  for (let i = 0; i < vectors.size; i++) {
    const row = vectors.vectors.subarray(i * vectors.dim, (i + 1) * vectors.dim)
    lines.push(`${vectors.words[i]} ${Array.from(row, (v) => formatFloat(v)).join(' ')}`)
  }
  return `${lines.join('\n')}\n`
}

/** Shortest text that reads back as the same float32. */
function formatFloat(value: number): string {
  for (let digits = 6; digits < 10; digits++) {
    const text = value.toPrecision(digits)
    if (Math.fround(Number(text)) === value) return String(Number(text))
  }
  return String(value)
}

/** A whole word2vec text file in memory (files of any size: VectorStreamReader). */
export function fromWord2VecText(text: string): WordVectors {
  const reader = new VectorStreamReader('word2vec')
  reader.push(new TextEncoder().encode(text))
  return reader.end()
}

/** "count dim\n", then per word: the word, a space, dim little-endian float32s and "\n" (as gensim writes). */
export function toWord2VecBinary(vectors: WordVectors): Uint8Array {
  checkWords(vectors.words)
  const encoder = new TextEncoder()
  const header = encoder.encode(`${vectors.size} ${vectors.dim}\n`)
  const encodedWords = vectors.words.map((w) => encoder.encode(`${w} `))
  const rowBytes = vectors.dim * 4
  const total = header.length + encodedWords.reduce((sum, w) => sum + w.length + rowBytes + 1, 0)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  out.set(header, 0)
  let offset = header.length
  encodedWords.forEach((word, i) => {
    out.set(word, offset)
    offset += word.length
    for (let c = 0; c < vectors.dim; c++) view.setFloat32(offset + c * 4, vectors.vectors[i * vectors.dim + c]!, true)
    offset += rowBytes
    out[offset++] = 0x0a
  })
  return out
}

/** A whole binary word2vec file in memory (files of any size: VectorStreamReader). */
export function fromWord2VecBinary(bytes: Uint8Array): WordVectors {
  const reader = new VectorStreamReader('word2vec-bin')
  reader.push(bytes)
  return reader.end()
}

/** A binary word2vec file starts with a text header and then holds raw floats, so its first kilobytes are not all text. */
export function looksBinary(bytes: Uint8Array): boolean {
  return detectVectorFormat(bytes) === 'word2vec-bin'
}

/** The TensorBoard projector's pair of files: vectors (tab-separated, no header) and metadata (with a header when
 *  there is more than one column: word, count when known, then each label column). */
export function toProjectorTsv(vectors: WordVectors): { vectors: string; metadata: string } {
  const rows: string[] = []
  for (let i = 0; i < vectors.size; i++) rows.push(Array.from(vectors.vectors.subarray(i * vectors.dim, (i + 1) * vectors.dim), (v) => formatFloat(v)).join('\t'))
  const clean = (w: string) => w.replace(/[\t\r\n]/g, ' ')
  const columns: [string, readonly (string | number)[]][] = [['word', vectors.words], ...(vectors.counts ? [['count', vectors.counts] as [string, readonly number[]]] : []), ...Object.entries(vectors.labels)]
  const metadata =
    columns.length === 1 ? vectors.words.map(clean) : [columns.map(([name]) => clean(name)).join('\t'), ...vectors.words.map((_, i) => columns.map(([, values]) => clean(String(values[i]))).join('\t'))]
  return { vectors: `${rows.join('\n')}\n`, metadata: `${metadata.join('\n')}\n` }
}

const wordColumn = /^(word|token|label|name)$/i
const countColumn = /^(count|frequency|freq)$/i

/** Reads the projector's files (or any vectors.tsv with its metadata.tsv). The metadata has one word per line, or a
 *  header and columns: the word column (word/token/label/name, else the first), a count column (count/frequency) and
 *  any others as labels — e.g. a part-of-speech column to colour by. */
export function fromProjectorTsv(vectorsText: string, metadataText: string): WordVectors {
  const rows = vectorsText.split(/\r?\n/)
  while (rows.length > 0 && rows.at(-1)!.trim() === '') rows.pop()
  if (rows.length === 0) throw new VectorFileError('vectors.tsv: no rows')
  const dim = rows[0]!.split('\t').length
  const values = new Float32Array(rows.length * dim)
  rows.forEach((row, r) => {
    const fields = row.split('\t')
    if (fields.length !== dim) throw new VectorFileError(`vectors.tsv line ${r + 1}: ${fields.length} numbers, but line 1 has ${dim}`)
    fields.forEach((field, c) => {
      const value = Number(field)
      if (!Number.isFinite(value) || field.trim() === '') throw new VectorFileError(`vectors.tsv line ${r + 1}: '${field.slice(0, 40)}' is not a number (column ${c + 1})`)
      values[r * dim + c] = value
    })
  })
  const lines = metadataText.split(/\r?\n/)
  while (lines.length > 0 && lines.at(-1) === '') lines.pop()
  const header = lines[0]?.includes('\t') ? lines.shift()!.split('\t') : null
  if (lines.length !== rows.length) throw new VectorFileError(`metadata.tsv has ${lines.length} ${header ? 'rows after its header' : 'lines'} but vectors.tsv ${rows.length}: they must match line for line`)
  const cells = lines.map((line, i) => {
    const fields = header ? line.split('\t') : [line]
    if (header && fields.length !== header.length) throw new VectorFileError(`metadata.tsv line ${i + 2}: ${fields.length} columns, the header has ${header.length}`)
    return fields
  })
  const names = header ?? ['word']
  const wordAt = Math.max(0, names.findIndex((n) => wordColumn.test(n.trim())))
  const column = (at: number) => cells.map((fields) => fields[at]!)
  const words = column(wordAt)
  let counts: number[] | null = null
  const labels: Record<string, string[]> = {}
  names.forEach((name, at) => {
    if (at === wordAt) return
    const values = column(at)
    const numbers = values.map(Number)
    if (counts === null && countColumn.test(name.trim()) && numbers.every((n) => Number.isInteger(n) && n >= 0)) counts = numbers
    else labels[name.trim() || `column ${at + 1}`] = values
  })
  return new WordVectors(words, dim, values, counts, labels)
}
