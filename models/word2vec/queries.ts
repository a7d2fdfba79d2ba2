// Queries over word vectors by cosine similarity: nearest neighbours, analogies by 3CosAdd (Mikolov et al. 2013,
// "Linguistic Regularities…") and 3CosMul (Levy & Goldberg 2014, eq. 4), the odd one out, the similarity of two words.
import type { WordVectors } from './word-vectors.ts'

export interface Scored {
  word: string
  similarity: number
}

export type AnalogyMethod = 'add' | 'mul'

/** Cosine of every row with a unit-length query. */
function cosines(vectors: WordVectors, unitQuery: Float32Array): Float32Array {
  const unit = vectors.unit()
  const dim = vectors.dim
  const scores = new Float32Array(vectors.size)
  for (let i = 0; i < vectors.size; i++) {
    let dot = 0
    const row = i * dim
    for (let c = 0; c < dim; c++) dot += unit[row + c]! * unitQuery[c]!
    scores[i] = dot
  }
  return scores
}

function unitOf(vector: Float32Array): Float32Array {
  let norm = 0
  for (const v of vector) norm += v * v
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0
  return vector.map((v) => v * scale)
}

/** The k best-scoring words, leaving out `exclude`. */
export function topK(words: readonly string[], scores: Float32Array, k: number, exclude: ReadonlySet<number> = new Set()): Scored[] {
  const best: { index: number; score: number }[] = []
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!
    if (exclude.has(i) || Number.isNaN(score)) continue
    if (best.length < k) {
      best.push({ index: i, score })
      best.sort((a, b) => b.score - a.score)
    } else if (score > best[k - 1]!.score) {
      best[k - 1] = { index: i, score }
      best.sort((a, b) => b.score - a.score)
    }
  }
  return best.map(({ index, score }) => ({ word: words[index]!, similarity: score }))
}

export class UnknownWordError extends Error {
  constructor(readonly words: string[]) {
    super(`not in the vocabulary: ${words.join(', ')}`)
    this.name = 'UnknownWordError'
  }
}

function requireWords(vectors: WordVectors, words: readonly string[]): number[] {
  const missing = words.filter((w) => !vectors.index.has(w))
  if (missing.length > 0) throw new UnknownWordError(missing)
  return words.map((w) => vectors.index.get(w)!)
}

export function neighbours(vectors: WordVectors, word: string, k: number): Scored[] {
  const [index] = requireWords(vectors, [word])
  const query = vectors.unit().subarray(index! * vectors.dim, (index! + 1) * vectors.dim)
  return topK(vectors.words, cosines(vectors, query), k, new Set([index!]))
}

export function similarity(vectors: WordVectors, first: string, second: string): number {
  const [a, b] = requireWords(vectors, [first, second])
  const unit = vectors.unit()
  let dot = 0
  for (let c = 0; c < vectors.dim; c++) dot += unit[a! * vectors.dim + c]! * unit[b! * vectors.dim + c]!
  return dot
}

/** a is to b as c is to …? 3CosAdd: cos(x, b) − cos(x, a) + cos(x, c); 3CosMul: cos'(x, b)·cos'(x, c) / (cos'(x, a) + ε)
 *  with cos' = (cos + 1) / 2. The three question words are never answers. */
export function analogy(vectors: WordVectors, a: string, b: string, c: string, k: number, method: AnalogyMethod = 'add'): Scored[] {
  const [ia, ib, ic] = requireWords(vectors, [a, b, c])
  const row = (i: number) => vectors.unit().subarray(i * vectors.dim, (i + 1) * vectors.dim)
  const scores = analogyScores(cosines(vectors, row(ia!)), cosines(vectors, row(ib!)), cosines(vectors, row(ic!)), method)
  return topK(vectors.words, scores, k, new Set([ia!, ib!, ic!]))
}

/** Combines the cosines with a, b and c into analogy scores (in place into a new array). */
export function analogyScores(withA: Float32Array, withB: Float32Array, withC: Float32Array, method: AnalogyMethod): Float32Array {
  const scores = new Float32Array(withA.length)
  const epsilon = 1e-3
  for (let i = 0; i < scores.length; i++) {
    scores[i] = method === 'add' ? withB[i]! - withA[i]! + withC[i]! : (((withB[i]! + 1) / 2) * ((withC[i]! + 1) / 2)) / ((withA[i]! + 1) / 2 + epsilon)
  }
  return scores
}

/** The word furthest (by cosine) from the mean of the words' unit vectors (gensim's doesnt_match). */
export function oddOneOut(vectors: WordVectors, words: readonly string[]): { word: string; similarities: Scored[] } {
  if (words.length < 3) throw new Error('the odd one out needs at least three words')
  const indices = requireWords(vectors, words)
  const unit = vectors.unit()
  const mean = new Float32Array(vectors.dim)
  for (const i of indices) for (let c = 0; c < vectors.dim; c++) mean[c] = mean[c]! + unit[i * vectors.dim + c]! / indices.length
  const centre = unitOf(mean)
  const similarities = indices.map((i, n) => {
    let dot = 0
    for (let c = 0; c < vectors.dim; c++) dot += unit[i * vectors.dim + c]! * centre[c]!
    return { word: words[n]!, similarity: dot }
  })
  const odd = similarities.reduce((low, s) => (s.similarity < low.similarity ? s : low))
  return { word: odd.word, similarities }
}
