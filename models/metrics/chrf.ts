// Corpus chrF (Popović 2015) as sacreBLEU 2.x computes it by default: character n-grams 1–6 with
// whitespace removed, β = 2, statistics summed over the corpus with the best-scoring reference per
// sentence, precision and recall averaged over the orders that occur (effective order).
import { sacrebleuVersion, sumStatistics } from './bleu.ts'

export const chrfOrder = 6
export const chrfBeta = 2

export interface ChrfScore {
  score: number
  signature: string
}

function charNgrams(text: string, n: number): Map<string, number> {
  const chars = Array.from(text.split(/\s+/u).join('')) // code points, as Python indexes strings
  const counts = new Map<string, number>()
  for (let i = 0; i + n <= chars.length; i++) {
    const gram = chars.slice(i, i + n).join('')
    counts.set(gram, (counts.get(gram) ?? 0) + 1)
  }
  return counts
}

/** Per order: [hypothesis n-grams, reference n-grams, matches]. */
function sentenceStatistics(hypothesis: string, reference: string): number[] {
  const statistics: number[] = []
  for (let n = 1; n <= chrfOrder; n++) {
    const hyp = charNgrams(hypothesis, n)
    const ref = charNgrams(reference, n)
    let hypTotal = 0
    let matches = 0
    for (const [gram, count] of hyp) {
      hypTotal += count
      matches += Math.min(count, ref.get(gram) ?? 0)
    }
    let refTotal = 0
    for (const count of ref.values()) refTotal += count
    statistics.push(hypTotal, refTotal, matches)
  }
  return statistics
}

/** chrF from statistics summed over sentences (chrfStatistics' layout). */
export function chrfFromStatistics(statistics: readonly number[]): number {
  const epsilon = 1e-16
  const factor = chrfBeta ** 2
  let precision = 0
  let recall = 0
  let effectiveOrder = 0
  for (let n = 0; n < chrfOrder; n++) {
    const [hypTotal, refTotal, matches] = statistics.slice(3 * n, 3 * n + 3) as [number, number, number]
    precision += hypTotal > 0 ? matches / hypTotal : epsilon
    recall += refTotal > 0 ? matches / refTotal : epsilon
    if (hypTotal > 0 && refTotal > 0) effectiveOrder++
  }
  if (effectiveOrder === 0) return 0
  precision /= effectiveOrder
  recall /= effectiveOrder
  if (precision + recall === 0) return 0
  return (100 * (1 + factor) * precision * recall) / (factor * precision + recall)
}

/** One sentence's statistics against its best-scoring reference: per order [hyp n-grams, ref n-grams, matches]. */
export function chrfStatistics(hypothesis: string, references: readonly string[]): number[] {
  let best: number[] | null = null
  let bestScore = -1
  for (const reference of references) {
    const statistics = sentenceStatistics(hypothesis, reference)
    const score = chrfFromStatistics(statistics)
    if (score > bestScore) {
      best = statistics
      bestScore = score
    }
  }
  return best ?? new Array<number>(3 * chrfOrder).fill(0)
}

export function corpusChrf(hypotheses: string[], references: string[][]): ChrfScore {
  const rows = hypotheses.map((hypothesis, i) => chrfStatistics(hypothesis, references.map((set) => set[i]!)))
  return { score: chrfFromStatistics(sumStatistics(rows, 3 * chrfOrder)), signature: `nrefs:${references.length}|case:mixed|eff:yes|nc:${chrfOrder}|nw:0|space:no|version:${sacrebleuVersion}` }
}

/** One sentence's chrF (sacreBLEU's sentence_chrf): the corpus statistics of a corpus of one. */
export function sentenceChrf(hypothesis: string, reference: string): number {
  return chrfFromStatistics(sentenceStatistics(hypothesis, reference))
}
