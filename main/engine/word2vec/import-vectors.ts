// Imports a word2vec text/binary or GloVe file of any size: read in 4 MiB chunks through the streaming reader (no
// 2 GiB limit, memory for the kept vectors only), stopping early once `maxVocab` words are kept.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { basename } from 'node:path'
import { Word2VecConfig, type Word2VecSummary } from '../../api/contract.ts'
import { VectorFileError } from '../../../models/word2vec/format-error.ts'
import { detectVectorFormat, VectorStreamReader, type VectorFileFormat } from '../../../models/word2vec/vector-stream.ts'
import type { WordVectors } from '../../../models/word2vec/word-vectors.ts'
import type { Database } from '../store/database.ts'
import { createWord2Vec, findWord2Vec, saveVectors, summaryOf } from './repository.ts'

const chunkBytes = 4 << 20
/** One embedding set is one SQLite value; SQLite's default SQLITE_MAX_LENGTH is 10⁹ bytes. */
const maxStoredVectorBytes = 1_000_000_000

/** Refuses, as early as the file tells, a set too large to store, naming the --max-vocab that fits. */
function checkStorable(reader: VectorStreamReader): void {
  const dim = reader.dimensions
  if (dim === 0) return
  const words = Math.max(reader.expectedWords ?? 0, reader.size)
  if (words * dim * 4 > maxStoredVectorBytes) {
    const fits = Math.floor(maxStoredVectorBytes / (dim * 4))
    throw new VectorFileError(`${words.toLocaleString('en-US')} vectors of ${dim} floats are more than one embedding set can hold (${maxStoredVectorBytes / 1e9} GB): import the commonest words with --max-vocab ${fits} or fewer`)
  }
}

export function readVectorFile(path: string, format: VectorFileFormat | undefined, maxVocab: number | undefined, onProgress: (done: number, total: number) => void): WordVectors {
  const fd = openSync(path, 'r')
  try {
    const size = fstatSync(fd).size
    const buffer = Buffer.allocUnsafe(chunkBytes)
    let reader: VectorStreamReader | null = null
    for (let position = 0; ; ) {
      const read = readSync(fd, buffer, 0, chunkBytes, position)
      if (read === 0) break
      const chunk = buffer.subarray(0, read)
      reader ??= new VectorStreamReader(format ?? detectVectorFormat(chunk), maxVocab)
      position += read
      const more = reader.push(chunk) // copies what it keeps: the buffer is reused
      checkStorable(reader)
      onProgress(position, size)
      if (!more) break
    }
    if (!reader) throw new VectorFileError('the file is empty')
    return reader.end()
  } finally {
    closeSync(fd)
  }
}

/** Reads the file and stores it as a finished embedding set; errors name the file. */
export function importVectorFile(db: Database, params: { name: string; file: string; format?: VectorFileFormat; maxVocab?: number }, onProgress: (done: number, total: number) => void): Word2VecSummary {
  let vectors: WordVectors
  try {
    vectors = readVectorFile(params.file, params.format, params.maxVocab, onProgress)
  } catch (error) {
    if (error instanceof VectorFileError) throw new VectorFileError(`${params.file}: ${error.message}`)
    throw error
  }
  const origin = `imported from ${basename(params.file)}${params.maxVocab !== undefined && vectors.size === params.maxVocab ? ` (first ${params.maxVocab.toLocaleString('en-US')} words)` : ''}`
  const config = Word2VecConfig.parse({ corpus: null, dim: vectors.dim, epochs: 1, analogies: null, similarity: null, origin })
  db.transaction(() => saveVectors(db, createWord2Vec(db, params.name, config, null, 'done').id, 0, vectors))()
  return summaryOf(db, findWord2Vec(db, params.name)!)
}
