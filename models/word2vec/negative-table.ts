// The noise distribution for negative sampling, P_n(w) ∝ count(w)^0.75 (Mikolov et al. 2013, §2.2), as an alias
// table (Walker 1977, in Vose's 1991 construction): a uniform slot and a uniform 32-bit threshold draw a word exactly,
// in O(1), from two numbers per word. word2vec.c's lookup table approximates the same distribution with millions of
// entries, which do not stay in a cache; this one is 8 bytes a word.

export interface NoiseTable {
  /** Per slot: the slot's own word is drawn when a uniform u32 is below this (2³² − 1: always). */
  thresholds: Uint32Array
  /** Per slot: the word drawn otherwise. */
  aliases: Int32Array
}

const scale = 2 ** 32

export function noiseTable(counts: readonly number[], power = 0.75): NoiseTable {
  const n = counts.length
  const thresholds = new Uint32Array(n)
  const aliases = new Int32Array(n)
  const weights = counts.map((c) => c ** power)
  const total = weights.reduce((a, b) => a + b, 0)
  const share = weights.map((w) => (w / total) * n) // mean 1: a slot holds exactly one word's worth
  const small: number[] = []
  const large: number[] = []
  share.forEach((s, i) => (s < 1 ? small : large).push(i))
  while (small.length > 0 && large.length > 0) {
    const lo = small.pop()!
    const hi = large.at(-1)!
    thresholds[lo] = Math.min(scale - 1, Math.round(share[lo]! * scale))
    aliases[lo] = hi
    share[hi] = share[hi]! + share[lo]! - 1 // hi gives the rest of lo's slot
    if (share[hi]! < 1) small.push(large.pop()!)
  }
  // What is left holds a whole slot (up to rounding).
  for (const i of [...small, ...large]) {
    thresholds[i] = scale - 1
    aliases[i] = i
  }
  return { thresholds, aliases }
}

/** The probability of each word under a table: its own slot's share plus what other slots alias to it. */
export function noiseProbabilities(table: NoiseTable): Float64Array {
  const n = table.thresholds.length
  const p = new Float64Array(n)
  for (let slot = 0; slot < n; slot++) {
    const own = table.aliases[slot] === slot ? 1 : table.thresholds[slot]! / scale
    p[slot]! += own / n
    p[table.aliases[slot]!]! += (1 - own) / n
  }
  return p
}
