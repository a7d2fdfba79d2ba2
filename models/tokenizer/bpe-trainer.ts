// Byte-pair encoding vocabulary learning (Sennrich et al. 2016, Algorithm 1) in SentencePiece's conventions:
// text is normalised (nmt_nfkc by default), whitespace becomes the meta symbol ▁ prefixed to each word, and each learned merge
// is a piece scored by its rank, so spm's BPE encoder (highest-scoring adjacent pair first) replays the merges.
import type { ModelPiece } from './model-proto.ts'
import type { ModelSpec } from './model-writer.ts'
import { normalizationRule } from './normalization/rule.ts'
import { alphabetFor, canJoin, normalizeForPieces, specialPieces, type VocabularyOptions } from './vocabulary.ts'

export interface BpeOptions extends VocabularyOptions {}

/** Symbols are interned as ids below this bound; a pair is the number a·PAIR_BASE + b. */
const PAIR_BASE = 2 ** 21

/** A max-heap of (count, pair) with lazy deletion: stale entries are skipped when popped. Ties go to the pair whose
 *  symbols come first as strings (a, then b), the order the string keys "a\0b" had. */
class PairHeap {
  private readonly counts: number[] = []
  private readonly pairs: number[] = []

  constructor(private readonly text: readonly string[]) {}

  private before(i: number, j: number): boolean {
    const [ci, cj] = [this.counts[i]!, this.counts[j]!]
    if (ci !== cj) return ci > cj
    const [pi, pj] = [this.pairs[i]!, this.pairs[j]!]
    const [ai, aj] = [this.text[Math.floor(pi / PAIR_BASE)]!, this.text[Math.floor(pj / PAIR_BASE)]!]
    if (ai !== aj) return ai < aj
    return this.text[pi % PAIR_BASE]! < this.text[pj % PAIR_BASE]!
  }

  private swap(i: number, j: number): void {
    ;[this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!]
    ;[this.pairs[i], this.pairs[j]] = [this.pairs[j]!, this.pairs[i]!]
  }

  push(count: number, pair: number): void {
    this.counts.push(count)
    this.pairs.push(pair)
    let i = this.counts.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(i, parent)) break
      this.swap(i, parent)
      i = parent
    }
  }

  /** The top [count, pair], or undefined when empty. */
  pop(): [number, number] | undefined {
    if (this.counts.length === 0) return undefined
    const top: [number, number] = [this.counts[0]!, this.pairs[0]!]
    const lastCount = this.counts.pop()!
    const lastPair = this.pairs.pop()!
    const size = this.counts.length
    if (size > 0) {
      this.counts[0] = lastCount
      this.pairs[0] = lastPair
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let best = i
        if (left < size && this.before(left, best)) best = left
        if (right < size && this.before(right, best)) best = right
        if (best === i) break
        this.swap(i, best)
        i = best
      }
    }
    return top
  }
}

function lastCodePoint(text: string): string {
  const low = text.charCodeAt(text.length - 1)
  const start = text.length > 1 && low >= 0xdc00 && low <= 0xdfff ? text.length - 2 : text.length - 1 // a surrogate pair
  return text.slice(start)
}

export function trainBpe(sentences: Iterable<string>, options: BpeOptions): ModelSpec {
  const coverage = options.characterCoverage ?? 0.9995
  const wordCounts = new Map<string, number>()
  const normalization = normalizationRule(options.normalization ?? 'nmt_nfkc')
  for (const sentence of sentences) for (const word of normalizeForPieces(sentence, normalization.normalizer, options.userSymbols)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1)
  if (wordCounts.size === 0) throw new Error('no text to learn pieces from')
  const { alphabet, inAlphabet } = alphabetFor(wordCounts, coverage)
  const specials = specialPieces(options)
  const mergesWanted = options.vocabSize - specials.length - alphabet.length
  if (mergesWanted < 0) {
    throw new Error(`a vocabulary of ${options.vocabSize} cannot hold the ${alphabet.length} characters and ${specials.length} special and byte pieces; raise the size or lower the character coverage`)
  }

  // Characters outside the alphabet stay single symbols (they encode as <unk>); everything else may merge,
  // but not across classes (letters, digits, punctuation), as spm's split_by_unicode_script keeps them apart.
  const mergeable = (symbol: string): boolean => {
    const single = symbol.length === 1 || (symbol.length === 2 && symbol.codePointAt(0)! > 0xffff)
    return !single || inAlphabet.has(symbol)
  }
  // Symbols interned as ids, with what the pair rules need of each: whether it may merge, its first and last character.
  const symbolIds = new Map<string, number>()
  const symbolText: string[] = []
  const symbolMergeable: boolean[] = []
  const symbolFirst: string[] = []
  const symbolLast: string[] = []
  const intern = (symbol: string): number => {
    let id = symbolIds.get(symbol)
    if (id === undefined) {
      id = symbolText.length
      if (id >= PAIR_BASE) throw new Error(`more than ${PAIR_BASE} distinct symbols`)
      symbolIds.set(symbol, id)
      symbolText.push(symbol)
      symbolMergeable.push(mergeable(symbol))
      symbolFirst.push(String.fromCodePoint(symbol.codePointAt(0)!))
      symbolLast.push(lastCodePoint(symbol))
    }
    return id
  }
  const joinable = new Map<number, boolean>()
  /** The pair (a, b) as a number, or -1 when the two may not merge. */
  const pairOf = (a: number, b: number): number => {
    if (!symbolMergeable[a] || !symbolMergeable[b]) return -1
    const pair = a * PAIR_BASE + b
    let ok = joinable.get(pair)
    if (ok === undefined) joinable.set(pair, (ok = canJoin(symbolLast[a]!, symbolFirst[b]!)))
    return ok ? pair : -1
  }
  // Words as symbol-id sequences, with pair statistics: counts, and which words hold each pair (a superset: words
  // are not removed when a merge takes the pair out of them).
  const words = [...wordCounts.entries()].map(([word, count]) => ({ symbols: [...word].map(intern), count }))
  const pairCounts = new Map<number, number>()
  const pairWords = new Map<number, Set<number>>()
  /** Adds (sign 1) or removes (−1) the word's pairs; `touched` records each pair's count before its first change. */
  const countPairs = (index: number, sign: 1 | -1, touched: Map<number, number> | null): void => {
    const { symbols, count } = words[index]!
    for (let i = 0; i + 1 < symbols.length; i++) {
      const pair = pairOf(symbols[i]!, symbols[i + 1]!)
      if (pair < 0) continue
      const before = pairCounts.get(pair) ?? 0
      if (touched && !touched.has(pair)) touched.set(pair, before)
      pairCounts.set(pair, before + sign * count)
      if (sign > 0) {
        let set = pairWords.get(pair)
        if (!set) pairWords.set(pair, (set = new Set()))
        set.add(index)
      }
    }
  }
  words.forEach((_, index) => countPairs(index, 1, null))
  const heap = new PairHeap(symbolText)
  for (const [pair, count] of pairCounts) heap.push(count, pair)

  const merges: ModelPiece[] = []
  const known = new Set(specials.map((p) => p.piece).concat(alphabet.map(([ch]) => ch)))
  while (merges.length < mergesWanted) {
    const top = heap.pop()
    if (!top) break
    const [count, pair] = top
    if (count <= 0 || pairCounts.get(pair) !== count) continue // stale entry
    const [a, b] = [Math.floor(pair / PAIR_BASE), pair % PAIR_BASE]
    const merged = symbolText[a]! + symbolText[b]!
    const mergedId = intern(merged)
    const touched = new Map<number, number>()
    for (const index of pairWords.get(pair) ?? []) {
      const word = words[index]!
      const symbols = word.symbols
      let found = false
      for (let i = 0; i + 1 < symbols.length && !found; i++) found = symbols[i] === a && symbols[i + 1] === b
      if (!found) continue // the pair left this word with an earlier merge
      countPairs(index, -1, touched)
      const next: number[] = []
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === a && symbols[i + 1] === b) {
          next.push(mergedId)
          i++
        } else next.push(symbols[i]!)
      }
      word.symbols = next
      countPairs(index, 1, touched)
    }
    pairCounts.delete(pair)
    pairWords.delete(pair)
    // Only pairs whose count changed need a fresh heap entry; the others' entries still hold.
    for (const [changed, before] of touched) {
      const now = pairCounts.get(changed)
      if (changed !== pair && now !== undefined && now !== before && now > 0) heap.push(now, changed)
    }
    if (known.has(merged)) continue
    known.add(merged)
    merges.push({ piece: merged, score: -merges.length, type: 'normal' })
  }
  const characters = alphabet.map(([piece], i): ModelPiece => ({ piece, score: -(merges.length + i), type: 'normal' }))
  return {
    modelType: 'bpe',
    pieces: [...specials, ...merges, ...characters],
    characterCoverage: coverage,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    byteFallback: options.byteFallback ?? false,
    normalization: { name: normalization.name, precompiledCharsMap: normalization.precompiledCharsMap },
  }
}
