// A word2vec corpus in memory: word ids of in-vocabulary words, −1 after each sentence (out-of-vocabulary words are
// dropped before windows are taken, as word2vec.c and gensim do).

/** Appends ids to a growing buffer. */
export class CorpusBuilder {
  private ids = new Int32Array(1 << 16)
  private length = 0
  /** In-vocabulary words written. */
  words = 0
  /** Words of the sentences read, in the vocabulary or not. */
  rawWords = 0

  constructor(private readonly index: ReadonlyMap<string, number>) {}

  add(sentence: readonly string[]): void {
    this.rawWords += sentence.length
    const before = this.length
    for (const word of sentence) {
      const id = this.index.get(word)
      if (id !== undefined) this.push(id)
    }
    if (this.length > before) {
      this.words += this.length - before
      this.push(-1)
    }
  }

  private push(id: number): void {
    if (this.length === this.ids.length) {
      const grown = new Int32Array(this.ids.length * 2)
      grown.set(this.ids)
      this.ids = grown
    }
    this.ids[this.length++] = id
  }

  finish(): Int32Array {
    return this.ids.subarray(0, this.length)
  }
}
