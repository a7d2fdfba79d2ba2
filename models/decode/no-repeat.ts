// No-repeat n-gram blocking (Paulus et al. 2018): a token that would complete an n-gram already in the prefix is banned.

/** Tokens banned after `prefix` so that no n-gram of size `n` occurs twice. */
export function bannedTokens(prefix: readonly number[], n: number): Set<number> {
  const banned = new Set<number>()
  if (n <= 0 || prefix.length < n - 1) return banned
  if (n === 1) return new Set(prefix)
  const tail = prefix.slice(prefix.length - (n - 1)).join(',')
  for (let i = 0; i + n <= prefix.length; i++) {
    if (prefix.slice(i, i + n - 1).join(',') === tail) banned.add(prefix[i + n - 1]!)
  }
  return banned
}
