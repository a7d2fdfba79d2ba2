// A set of word vectors with its lookup, and unit-length copies for cosine queries.

export class WordVectors {
  readonly index: ReadonlyMap<string, number>
  private unitRows: Float32Array | null = null

  constructor(
    readonly words: readonly string[],
    readonly dim: number,
    /** [words, dim] row-major. */
    readonly vectors: Float32Array,
    /** Corpus counts, when known (word2vec runs, or a file in frequency order). */
    readonly counts: readonly number[] | null = null,
    /** Categorical metadata per word by column (e.g. part of speech), from a projector metadata file. */
    readonly labels: Readonly<Record<string, readonly string[]>> = {},
  ) {
    if (vectors.length !== words.length * dim) throw new Error(`${words.length} words × ${dim} dimensions need ${words.length * dim} values, not ${vectors.length}`)
    for (const [column, values] of Object.entries(labels)) {
      if (values.length !== words.length) throw new Error(`metadata column '${column}' has ${values.length} values for ${words.length} words`)
    }
    const index = new Map<string, number>()
    words.forEach((word, i) => {
      if (!index.has(word)) index.set(word, i)
    })
    this.index = index
  }

  get size(): number {
    return this.words.length
  }

  vector(word: string): Float32Array | null {
    const i = this.index.get(word)
    return i === undefined ? null : this.vectors.subarray(i * this.dim, (i + 1) * this.dim)
  }

  /** [words, dim] rows scaled to unit length (zero rows stay zero). */
  unit(): Float32Array {
    if (this.unitRows) return this.unitRows
    const unit = new Float32Array(this.vectors.length)
    for (let i = 0; i < this.words.length; i++) {
      let norm = 0
      for (let c = 0; c < this.dim; c++) norm += this.vectors[i * this.dim + c]! ** 2
      const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0
      for (let c = 0; c < this.dim; c++) unit[i * this.dim + c] = this.vectors[i * this.dim + c]! * scale
    }
    this.unitRows = unit
    return unit
  }
}
