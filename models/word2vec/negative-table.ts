// The noise distribution for negative sampling, P_n(w) ∝ count(w)^0.75 (Mikolov et al. 2013, §2.2), as a table of
// word ids drawn by uniform index (word2vec.c's InitUnigramTable).

export function unigramTable(counts: readonly number[], size: number, power = 0.75): Int32Array {
  const table = new Int32Array(size)
  if (counts.length === 0) return table
  const weights = counts.map((c) => c ** power)
  const total = weights.reduce((a, b) => a + b, 0)
  let word = 0
  let cumulative = weights[0]! / total
  for (let slot = 0; slot < size; slot++) {
    table[slot] = word
    if ((slot + 1) / size > cumulative && word < counts.length - 1) {
      word++
      cumulative += weights[word]! / total
    }
  }
  return table
}

/** Large enough that rare words get slots, small enough to stay cheap: 100 slots per word, 1M to 10M. */
export function unigramTableSize(vocabSize: number): number {
  return Math.min(10_000_000, Math.max(1_000_000, vocabSize * 100))
}
