// Dialogue response metrics: distinct-n (Li et al. 2016), inter- (over all responses) and intra- (mean within each
// response, Gu et al. 2019); unigram F1 against the reference as ParlAI computes it; mean response length.

/** Lower-cased words with punctuation split off (the same words for every metric here). */
export function dialogueWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/([^\p{L}\p{N}\s'])/gu, ' $1 ')
    .split(/\s+/)
    .filter((w) => w.length > 0)
}

function ngrams(words: readonly string[], n: number): string[] {
  const grams: string[] = []
  for (let i = 0; i + n <= words.length; i++) grams.push(words.slice(i, i + n).join('\u0001'))
  return grams
}

export interface Distinct {
  /** Distinct n-grams over all responses / all n-grams. */
  inter: number
  /** Mean over responses (with at least one n-gram) of distinct / all n-grams within the response. */
  intra: number
}

export function distinctN(responses: readonly string[], n: number): Distinct {
  const all = responses.map((r) => ngrams(dialogueWords(r), n))
  const total = all.reduce((sum, grams) => sum + grams.length, 0)
  const inter = total === 0 ? 0 : new Set(all.flat()).size / total
  const withGrams = all.filter((grams) => grams.length > 0)
  const intra = withGrams.length === 0 ? 0 : withGrams.reduce((sum, grams) => sum + new Set(grams).size / grams.length, 0) / withGrams.length
  return { inter, intra }
}

/** ParlAI's normalisation for F1: lower case, no punctuation, no articles. */
function f1Words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0 && w !== 'a' && w !== 'an' && w !== 'the')
}

/** Unigram F1 of one response against its reference (bag-of-words overlap). */
export function unigramF1(hypothesis: string, reference: string): number {
  const hyp = f1Words(hypothesis)
  const ref = f1Words(reference)
  if (hyp.length === 0 || ref.length === 0) return 0
  const counts = new Map<string, number>()
  for (const w of ref) counts.set(w, (counts.get(w) ?? 0) + 1)
  let common = 0
  for (const w of hyp) {
    const left = counts.get(w) ?? 0
    if (left > 0) {
      common++
      counts.set(w, left - 1)
    }
  }
  if (common === 0) return 0
  const precision = common / hyp.length
  const recall = common / ref.length
  return (2 * precision * recall) / (precision + recall)
}

export interface DialogueScores {
  distinct1: Distinct
  distinct2: Distinct
  /** Mean unigram F1 over pairs. */
  f1: number
  /** Mean words per response. */
  length: number
}

export function dialogueScores(hypotheses: readonly string[], references: readonly string[]): DialogueScores {
  if (hypotheses.length !== references.length) throw new Error(`${hypotheses.length} responses but ${references.length} references`)
  const n = Math.max(1, hypotheses.length)
  return {
    distinct1: distinctN(hypotheses, 1),
    distinct2: distinctN(hypotheses, 2),
    f1: hypotheses.reduce((sum, h, i) => sum + unigramF1(h, references[i]!), 0) / n,
    length: hypotheses.reduce((sum, h) => sum + dialogueWords(h).length, 0) / n,
  }
}

export interface DialogueScoreEntry {
  metric: 'f1' | 'distinct1' | 'distinct2' | 'intra_distinct1' | 'intra_distinct2' | 'length'
  score: number
  signature: string
}

/** The dialogue scores as named metrics, the way validation and `kotoba eval` store them (F1 ×100). */
export function dialogueScoreEntries(hypotheses: readonly string[], references: readonly string[]): DialogueScoreEntry[] {
  const scores = dialogueScores(hypotheses, references)
  return [
    { metric: 'f1', score: 100 * scores.f1, signature: 'unigram F1 (ParlAI normalisation), ×100' },
    { metric: 'distinct1', score: scores.distinct1.inter, signature: 'inter-response distinct-1' },
    { metric: 'distinct2', score: scores.distinct2.inter, signature: 'inter-response distinct-2' },
    { metric: 'intra_distinct1', score: scores.distinct1.intra, signature: 'intra-response distinct-1' },
    { metric: 'intra_distinct2', score: scores.distinct2.intra, signature: 'intra-response distinct-2' },
    { metric: 'length', score: scores.length, signature: 'words per reply' },
  ]
}
