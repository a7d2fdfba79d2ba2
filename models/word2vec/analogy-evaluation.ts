// Analogy accuracy per section of a questions-words.txt file (Mikolov et al. 2013, "Efficient Estimation…", §4.1):
// a : b :: c : ? answered by 3CosAdd or 3CosMul over the whole vocabulary, in batched matrix products. Questions with
// an unknown word are skipped and counted, never silently dropped; no restriction to the most frequent words unless
// asked.
import * as tf from '@tensorflow/tfjs'
import type { AnalogySection } from './evaluation.ts'
import { analogyScores, type AnalogyMethod } from './queries.ts'
import type { WordVectors } from './word-vectors.ts'

export interface SectionScore {
  section: string
  correct: number
  /** Questions whose four words are all known (and within restrictVocab). */
  evaluated: number
  /** Questions left out for an unknown word. */
  skipped: number
  /** correct / evaluated (0 when none evaluated). */
  accuracy: number
}

export interface AnalogyEvaluation {
  method: AnalogyMethod
  restrictVocab: number | null
  sections: SectionScore[]
  total: SectionScore
}

export interface AnalogyOptions {
  method?: AnalogyMethod
  /** Only the first (most frequent) N words as question words and answers. */
  restrictVocab?: number | null
  /** Compare words case-insensitively (the first, most frequent, spelling of each word wins). */
  caseInsensitive?: boolean
  /** Questions scored per matrix product. */
  batchSize?: number
}

function score(section: string, correct: number, evaluated: number, skipped: number): SectionScore {
  return { section, correct, evaluated, skipped, accuracy: evaluated > 0 ? correct / evaluated : 0 }
}

/** Answers every question by the best-scoring word other than a, b and c; batched matrix products on the tfjs backend. */
export async function evaluateAnalogies(vectors: WordVectors, sections: readonly AnalogySection[], options: AnalogyOptions = {}): Promise<AnalogyEvaluation> {
  const method = options.method ?? 'add'
  const restrict = Math.min(vectors.size, options.restrictVocab ?? vectors.size)
  const caseInsensitive = options.caseInsensitive ?? true
  const key = (word: string) => (caseInsensitive ? word.toLowerCase() : word)
  const lookup = new Map<string, number>()
  for (let i = 0; i < restrict; i++) if (!lookup.has(key(vectors.words[i]!))) lookup.set(key(vectors.words[i]!), i)
  const dim = vectors.dim
  const unit = tf.tensor2d(vectors.unit().subarray(0, restrict * dim), [restrict, dim]) // [vocab, dim]
  const batchSize = options.batchSize ?? 256
  const results: SectionScore[] = []
  try {
    for (const section of sections) {
      const known: number[][] = []
      for (const q of section.questions) {
        const ids = q.words.map((w) => lookup.get(key(w)))
        if (ids.every((id) => id !== undefined)) known.push(ids as number[])
      }
      let correct = 0
      for (let start = 0; start < known.length; start += batchSize) {
        const batch = known.slice(start, start + batchSize)
        const rows = batch.length
        // [3 · rows, vocab]: cosines of every word with the a, b and c of each question.
        const cosineRows = tf.tidy(() => {
          const queries = tf.gather(unit, tf.tensor1d([...batch.map((q) => q[0]!), ...batch.map((q) => q[1]!), ...batch.map((q) => q[2]!)], 'int32')) // [3 · rows, dim]
          return tf.matMul(queries, unit, false, true) // [3 · rows, vocab]
        })
        const all = (await cosineRows.data()) as Float32Array
        cosineRows.dispose()
        batch.forEach(([a, b, c, d], r) => {
          const row = (part: number) => all.subarray((part * rows + r) * restrict, (part * rows + r + 1) * restrict)
          const scores = analogyScores(row(0), row(1), row(2), method)
          let best = -1
          let bestScore = -Infinity
          for (let i = 0; i < restrict; i++) {
            if (i === a || i === b || i === c) continue
            if (scores[i]! > bestScore) {
              bestScore = scores[i]!
              best = i
            }
          }
          if (best === d) correct++
        })
      }
      results.push(score(section.name, correct, known.length, section.questions.length - known.length))
    }
  } finally {
    unit.dispose()
  }
  const sum = (pick: (s: SectionScore) => number) => results.reduce((total, s) => total + pick(s), 0)
  return { method, restrictVocab: options.restrictVocab ?? null, sections: results, total: score('total', sum((s) => s.correct), sum((s) => s.evaluated), sum((s) => s.skipped)) }
}
