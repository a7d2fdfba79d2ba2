// What an attention head does, in four numbers (after Clark et al. 2019, "What Does BERT Look At?" §3):
// how spread out its weights are, and how much goes to the previous token, the same position and the sentence boundary.

export interface HeadStatistics {
  /** Mean over queries of −Σ w·ln w, in nats (0 = all weight on one key). */
  entropy: number
  /** Mean weight on the key just before the query's own position (queries after the first). */
  previous: number
  /** Mean weight on the key at the query's own position (queries that have one). */
  same: number
  /** Mean weight on the boundary keys (<s>, </s>, or the final token when neither is present). */
  boundary: number
}

/** The columns that count as the sentence boundary for these key tokens. */
export function boundaryColumns(keyTokens: readonly string[]): number[] {
  const special = keyTokens.flatMap((token, i) => (token === '<s>' || token === '</s>' ? [i] : []))
  return special.length > 0 ? special : keyTokens.length > 0 ? [keyTokens.length - 1] : []
}

/** weights [query][key], each row a distribution; query i's own position is key i. */
export function headStatistics(weights: readonly (readonly number[])[], boundary: readonly number[]): HeadStatistics {
  let entropy = 0
  let previous = 0
  let previousCount = 0
  let same = 0
  let sameCount = 0
  let boundaryWeight = 0
  weights.forEach((row, query) => {
    for (const w of row) if (w > 0) entropy -= w * Math.log(w)
    if (query >= 1 && query - 1 < row.length) {
      previous += row[query - 1]!
      previousCount++
    }
    if (query < row.length) {
      same += row[query]!
      sameCount++
    }
    for (const column of boundary) boundaryWeight += row[column] ?? 0
  })
  const queries = Math.max(1, weights.length)
  return { entropy: entropy / queries, previous: previous / Math.max(1, previousCount), same: same / Math.max(1, sameCount), boundary: boundaryWeight / queries }
}

/** The mean of several maps' statistics (e.g. one per probe sentence). */
export function meanStatistics(all: readonly HeadStatistics[]): HeadStatistics {
  const n = Math.max(1, all.length)
  const sum = (key: keyof HeadStatistics) => all.reduce((total, s) => total + s[key], 0) / n
  return { entropy: sum('entropy'), previous: sum('previous'), same: sum('same'), boundary: sum('boundary') }
}
