// A word2vec corpus in memory: word ids of in-vocabulary words, −1 after each sentence (out-of-vocabulary words are
// dropped before windows are taken, as word2vec.c and gensim do).
import { buildVocabulary, type Vocabulary } from './vocabulary.ts'

/** A growing Int32Array. */
class IdBuffer {
  ids = new Int32Array(1 << 16)
  length = 0

  push(id: number): void {
    if (this.length === this.ids.length) {
      const grown = new Int32Array(this.ids.length * 2)
      grown.set(this.ids)
      this.ids = grown
    }
    this.ids[this.length++] = id
  }
}

/** Encodes sentences with a known vocabulary. */
export class CorpusBuilder {
  private readonly buffer = new IdBuffer()
  /** In-vocabulary words written. */
  words = 0
  /** Words of the sentences read, in the vocabulary or not. */
  rawWords = 0

  constructor(private readonly index: ReadonlyMap<string, number>) {}

  add(sentence: readonly string[]): void {
    this.rawWords += sentence.length
    const before = this.buffer.length
    for (const word of sentence) {
      const id = this.index.get(word)
      if (id !== undefined) this.buffer.push(id)
    }
    if (this.buffer.length > before) {
      this.words += this.buffer.length - before
      this.buffer.push(-1)
    }
  }

  finish(): Int32Array {
    return this.buffer.ids.subarray(0, this.buffer.length)
  }
}

/** Builds the vocabulary and encodes the corpus in one pass over the sentences (the text is read and split once):
 *  words get first-seen ids while counting, which are mapped to vocabulary ids, in place, once the counts are in.
 *  Same result as counting in one pass and encoding with a CorpusBuilder in a second. */
export function encodeCountingVocabulary(sentences: Iterable<readonly string[]>, minCount: number, maxVocab: number | null = null): { vocabulary: Vocabulary; ids: Int32Array } {
  const firstSeen = new Map<string, number>()
  const counts: number[] = []
  const buffer = new IdBuffer()
  for (const sentence of sentences) {
    if (sentence.length === 0) continue
    for (const word of sentence) {
      let id = firstSeen.get(word)
      if (id === undefined) {
        id = counts.length
        firstSeen.set(word, id)
        counts.push(0)
      }
      counts[id]!++
      buffer.push(id)
    }
    buffer.push(-1)
  }
  // A Map in first-seen order, so equal counts keep that order in the vocabulary, as with a counting pass.
  const vocabulary = buildVocabulary(new Map([...firstSeen.keys()].map((word, id) => [word, counts[id]!])), minCount, maxVocab)
  const finalId = new Int32Array(counts.length).fill(-1)
  vocabulary.words.forEach((word, id) => (finalId[firstSeen.get(word)!] = id))
  const { ids } = buffer
  let written = 0
  let sentenceStart = 0
  for (let read = 0; read < buffer.length; read++) {
    const id = ids[read]!
    if (id === -1) {
      if (written > sentenceStart) ids[written++] = -1 // a sentence with no word left is dropped
      sentenceStart = written
    } else if (finalId[id] !== -1) ids[written++] = finalId[id]!
  }
  return { vocabulary, ids: ids.subarray(0, written) }
}
