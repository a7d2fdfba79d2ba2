// The word2vec vocabulary: words kept by count (min-count, max-vocab), most frequent first, and the subsampling
// keep-probabilities of Mikolov et al. 2013 ("Distributed Representations…", §2.3) in word2vec.c's form.

export interface Vocabulary {
  /** Words, most frequent first (ties in first-seen order). */
  words: string[]
  /** Corpus count of each word. */
  counts: number[]
}

/** Words seen at least minCount times; with maxVocab, only the maxVocab most frequent of them. */
export function buildVocabulary(counts: ReadonlyMap<string, number>, minCount: number, maxVocab: number | null = null): Vocabulary {
  const kept = [...counts].filter(([, count]) => count >= minCount)
  kept.sort((a, b) => b[1] - a[1]) // stable: equal counts keep first-seen order
  const chosen = maxVocab === null ? kept : kept.slice(0, maxVocab)
  return { words: chosen.map(([word]) => word), counts: chosen.map(([, count]) => count) }
}

/** P(keep w) = (√(c_w / t) + 1) · t / c_w with t = sample · total words (word2vec.c, gensim); 1 with sample 0. */
export function keepProbabilities(counts: readonly number[], sample: number): Float32Array {
  const keep = new Float32Array(counts.length).fill(1)
  if (sample <= 0) return keep
  const threshold = sample * counts.reduce((a, b) => a + b, 0)
  counts.forEach((count, i) => {
    keep[i] = Math.min(1, (Math.sqrt(count / threshold) + 1) * (threshold / count))
  })
  return keep
}
