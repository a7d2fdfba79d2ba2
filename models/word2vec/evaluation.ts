// Intrinsic evaluation files of word vectors: analogy questions in questions-words.txt format (Mikolov et al. 2013,
// "Efficient Estimation…", §4.1; scored in analogy-evaluation.ts) and Spearman's ρ between cosine similarity and
// the ratings of a word-pair file (Finkelstein et al. 2002's WordSim-353 format). Pairs with an unknown word are
// skipped and counted, never silently dropped.
import type { WordVectors } from './word-vectors.ts'

export interface AnalogyQuestion {
  /** a is to b as c is to d. */
  words: [string, string, string, string]
  line: number
}

export interface AnalogySection {
  name: string
  questions: AnalogyQuestion[]
}

export class EvalFileError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`)
    this.name = 'EvalFileError'
  }
}

/** `: section` lines open sections; every other non-blank line holds four words. */
export function parseAnalogies(text: string): AnalogySection[] {
  const sections: AnalogySection[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === '') return
    if (line.startsWith(':')) {
      sections.push({ name: line.slice(1).trim() || `section ${sections.length + 1}`, questions: [] })
      return
    }
    const words = line.split(/\s+/)
    if (words.length !== 4) throw new EvalFileError(i + 1, `expected four words (a b c d), found ${words.length}: '${line}'`)
    if (sections.length === 0) sections.push({ name: 'questions', questions: [] })
    sections.at(-1)!.questions.push({ words: words as [string, string, string, string], line: i + 1 })
  })
  if (sections.every((s) => s.questions.length === 0)) throw new EvalFileError(1, 'no analogy questions found')
  return sections
}

export interface RatedPair {
  first: string
  second: string
  rating: number
  line: number
}

/** Lines of `word1 word2 rating` (tabs or spaces); '#' starts a comment; a header line without a number is skipped. */
export function parseSimilarityPairs(text: string): RatedPair[] {
  const pairs: RatedPair[] = []
  let firstLine = true
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim()
    if (line === '') return
    const header = firstLine
    firstLine = false
    const fields = line.split(/[\t ]+/)
    const rating = Number(fields[2])
    if (fields.length !== 3 || !Number.isFinite(rating)) {
      if (header) return // a header such as "Word 1	Word 2	Human (mean)"
      throw new EvalFileError(i + 1, `expected 'word1 word2 rating', found '${line}'`)
    }
    pairs.push({ first: fields[0]!, second: fields[1]!, rating, line: i + 1 })
  })
  if (pairs.length === 0) throw new EvalFileError(1, 'no word pairs found')
  return pairs
}

/** Ranks from 1, ties sharing their mean rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => a.v - b.v)
  const result = new Array<number>(values.length)
  for (let start = 0; start < order.length; ) {
    let end = start
    while (end + 1 < order.length && order[end + 1]!.v === order[start]!.v) end++
    const mean = (start + end) / 2 + 1
    for (let k = start; k <= end; k++) result[order[k]!.i] = mean
    start = end + 1
  }
  return result
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length
  const mx = x.reduce((a, b) => a + b, 0) / n
  const my = y.reduce((a, b) => a + b, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my)
    sxx += (x[i]! - mx) ** 2
    syy += (y[i]! - my) ** 2
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN
}

/** Spearman's ρ: Pearson's r of the ranks (ties averaged). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(ranks(x), ranks(y))
}

export interface SimilarityEvaluation {
  spearman: number
  pearson: number
  /** Pairs with both words known. */
  evaluated: number
  skipped: number
}

export function evaluateSimilarity(vectors: WordVectors, pairs: readonly RatedPair[], caseInsensitive = true): SimilarityEvaluation {
  const key = (word: string) => (caseInsensitive ? word.toLowerCase() : word)
  const lookup = new Map<string, number>()
  vectors.words.forEach((w, i) => {
    if (!lookup.has(key(w))) lookup.set(key(w), i)
  })
  const unit = vectors.unit()
  const dim = vectors.dim
  const model: number[] = []
  const human: number[] = []
  for (const pair of pairs) {
    const a = lookup.get(key(pair.first))
    const b = lookup.get(key(pair.second))
    if (a === undefined || b === undefined) continue
    let dot = 0
    for (let c = 0; c < dim; c++) dot += unit[a * dim + c]! * unit[b * dim + c]!
    model.push(dot)
    human.push(pair.rating)
  }
  return { spearman: model.length > 1 ? spearman(model, human) : NaN, pearson: model.length > 1 ? pearson(model, human) : NaN, evaluated: model.length, skipped: pairs.length - model.length }
}
