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

/** The word n-grams of a response, each joined into one string. */
export function wordNgrams(words: readonly string[], n: number): string[] {
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
  const all = responses.map((r) => wordNgrams(dialogueWords(r), n))
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

/** The dull replies S of Li et al. 2016 (the RL rewards' and the dull-reply rate's) (their list, which a model trained on movie subtitles falls back on). */
export const dullReplies: readonly string[] = [
  "I don't know what you are talking about.",
  "I don't know.",
  "You don't know.",
  'You know what I mean.',
  'I know what you mean.',
  "You don't know anything.",
]

/** Whether a reply is one of the dull ones (same words, punctuation and case aside), or starts with one. */
export function isDull(reply: string): boolean {
  const words = dialogueWords(reply).filter((w) => /[\p{L}\p{N}]/u.test(w))
  if (words.length === 0) return true
  return dullWordLists.some((dull) => dull.length <= words.length && dull.every((w, i) => words[i] === w))
}

const dullWordLists = dullReplies.map((reply) => dialogueWords(reply).filter((w) => /[\p{L}\p{N}]/u.test(w)))

/** Share of replies that are dull (isDull). */
export function dullRate(replies: readonly string[]): number {
  return replies.length === 0 ? 0 : replies.filter(isDull).length / replies.length
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
  metric: 'f1' | 'distinct1' | 'distinct2' | 'intra_distinct1' | 'intra_distinct2' | 'length' | 'dull_rate'
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
    { metric: 'dull_rate', score: dullRate(hypotheses), signature: 'share of replies that are (or start with) a dull reply of Li et al. 2016, or are empty' },
  ]
}
