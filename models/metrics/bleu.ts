// Corpus BLEU (Papineni et al. 2002) computed exactly as sacreBLEU 2.x does by default: 13a tokens,
// n-grams 1–4 clipped by the maximum count over references, closest reference length for the brevity
// penalty, 'exp' smoothing for orders without matches, no effective order.
import { splitWords, tokenize13a } from './tokenize-13a.ts'

export const bleuMaxOrder = 4
export const sacrebleuVersion = '2.0.0'

export interface BleuScore {
  score: number
  /** Per order 1..4, in percent. */
  precisions: number[]
  brevityPenalty: number
  hypLength: number
  refLength: number
  signature: string
}

function ngramCounts(words: string[], maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      const gram = words.slice(i, i + n).join(' ')
      counts.set(gram, (counts.get(gram) ?? 0) + 1)
    }
  }
  return counts
}

/** Of several reference lengths, the closest to the hypothesis length; ties go to the shorter. */
function closestLength(hypLength: number, refLengths: number[]): number {
  let best = -1
  let bestDiff = -1
  for (const length of refLengths) {
    const diff = Math.abs(hypLength - length)
    if (bestDiff === -1 || diff < bestDiff || (diff === bestDiff && length < best)) {
      best = length
      bestDiff = diff
    }
  }
  return best
}

/** One sentence's BLEU statistics: [hypothesis length, closest reference length, matches 1..4, n-grams 1..4]. */
export function bleuStatistics(hypothesis: string, references: readonly string[], tokenizer: '13a' | 'none' = '13a'): number[] {
  const tokenize = tokenizer === '13a' ? tokenize13a : (text: string) => text
  const hypWords = splitWords(tokenize(hypothesis))
  const maxRefCounts = new Map<string, number>()
  const refLengths: number[] = []
  for (const reference of references) {
    const refWords = splitWords(tokenize(reference))
    refLengths.push(refWords.length)
    for (const [gram, count] of ngramCounts(refWords, bleuMaxOrder)) {
      if (count > (maxRefCounts.get(gram) ?? 0)) maxRefCounts.set(gram, count)
    }
  }
  const statistics = [hypWords.length, closestLength(hypWords.length, refLengths), ...new Array<number>(2 * bleuMaxOrder).fill(0)]
  for (const [gram, count] of ngramCounts(hypWords, bleuMaxOrder)) {
    const order = gram.split(' ').length
    statistics[1 + order]! += Math.min(count, maxRefCounts.get(gram) ?? 0)
    statistics[1 + bleuMaxOrder + order]! += count
  }
  return statistics
}

/** BLEU from statistics summed over sentences (bleuStatistics' layout). */
export function bleuFromStatistics(statistics: readonly number[], effectiveOrder = false): Omit<BleuScore, 'signature'> {
  const [hypLength, refLength] = statistics as [number, number]
  const correct = statistics.slice(2, 2 + bleuMaxOrder)
  const total = statistics.slice(2 + bleuMaxOrder, 2 + 2 * bleuMaxOrder)
  const brevityPenalty = hypLength >= refLength ? 1 : hypLength > 0 ? Math.exp(1 - refLength / hypLength) : 0
  const precisions = new Array<number>(bleuMaxOrder).fill(0)
  if (!correct.some((c) => c > 0)) return { score: 0, precisions, brevityPenalty, hypLength, refLength }
  let smoothing = 1
  let order = bleuMaxOrder
  for (let n = 0; n < bleuMaxOrder; n++) {
    if (total[n] === 0) break
    if (effectiveOrder) order = n + 1
    if (correct[n] === 0) {
      smoothing *= 2
      precisions[n] = 100 / (smoothing * total[n]!)
    } else {
      precisions[n] = (100 * correct[n]!) / total[n]!
    }
  }
  // sacreBLEU's my_log: log(0) counts as a huge negative number, so a missing order gives (almost) 0.
  const logSum = precisions.slice(0, order).reduce((sum, p) => sum + (p === 0 ? -9999999999 : Math.log(p)), 0)
  return { score: brevityPenalty * Math.exp(logSum / order), precisions, brevityPenalty, hypLength, refLength }
}

/** Element-wise sums of per-sentence statistics: of every row, or of the rows at `indices` (repeats allowed). */
export function sumStatistics(rows: readonly (readonly number[])[], width: number, indices?: readonly number[]): number[] {
  const totals = new Array<number>(width).fill(0)
  const add = (row: readonly number[]) => {
    for (let k = 0; k < width; k++) totals[k]! += row[k]!
  }
  if (indices) for (const i of indices) add(rows[i]!)
  else rows.forEach(add)
  return totals
}

/**
 * hypotheses[i] is scored against references[r][i] for every reference set r.
 * Tokenisation 'none' scores the texts split on whitespace as they are.
 */
export function corpusBleu(hypotheses: string[], references: string[][], options: { tokenize?: '13a' | 'none'; effectiveOrder?: boolean } = {}): BleuScore {
  const tokenizer = options.tokenize ?? '13a'
  for (const set of references) {
    if (set.length !== hypotheses.length) throw new Error(`a reference set has ${set.length} lines for ${hypotheses.length} hypotheses`)
  }
  const rows = hypotheses.map((hypothesis, i) => bleuStatistics(hypothesis, references.map((set) => set[i]!), tokenizer))
  const signature = `nrefs:${references.length}|case:mixed|eff:no|tok:${tokenizer}|smooth:exp|version:${sacrebleuVersion}`
  return { ...bleuFromStatistics(sumStatistics(rows, 2 + 2 * bleuMaxOrder), options.effectiveOrder), signature }
}

/** One sentence's BLEU as sacreBLEU's sentence_bleu gives it: 'exp' smoothing and the effective order, so a short
 *  hypothesis without 4-grams is scored on the orders it has. */
export function sentenceBleu(hypothesis: string, reference: string): number {
  return corpusBleu([hypothesis], [[reference]], { effectiveOrder: true }).score
}
