// Byte-pair encoding vocabulary learning (Sennrich et al. 2016, Algorithm 1) in SentencePiece's conventions:
// text is normalised (nmt_nfkc by default), whitespace becomes the meta symbol ▁ prefixed to each word, and each learned merge
// is a piece scored by its rank, so spm's BPE encoder (highest-scoring adjacent pair first) replays the merges.
import type { ModelPiece } from './model-proto.ts'
import type { ModelSpec } from './model-writer.ts'
import { normalizationRule } from './normalization/rule.ts'
import { alphabetFor, canJoin, normalizeForPieces, specialPieces, type VocabularyOptions } from './vocabulary.ts'

export interface BpeOptions extends VocabularyOptions {}

/** A max-heap of (count, pair) with lazy deletion: stale entries are skipped when popped. */
class PairHeap {
  private readonly items: [number, string][] = []

  private before(a: [number, string], b: [number, string]): boolean {
    return a[0] > b[0] || (a[0] === b[0] && a[1] < b[1]) // more frequent first; ties in a fixed order
  }

  push(item: [number, string]): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): [number, string] | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last) {
      items[0] = last
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let best = i
        if (left < items.length && this.before(items[left]!, items[best]!)) best = left
        if (right < items.length && this.before(items[right]!, items[best]!)) best = right
        if (best === i) break
        ;[items[i], items[best]] = [items[best]!, items[i]!]
        i = best
      }
    }
    return top
  }
}

const separator = '\u0000'

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
  const joinable = (a: string, b: string): boolean => canJoin(lastCodePoint(a), String.fromCodePoint(b.codePointAt(0)!))
  // Words as symbol sequences, with pair statistics.
  const words = [...wordCounts.entries()].map(([word, count]) => ({ symbols: [...word], count }))
  const pairCounts = new Map<string, number>()
  const pairWords = new Map<string, Set<number>>()
  const heap = new PairHeap()
  const addPairs = (index: number, sign: 1 | -1): void => {
    const { symbols, count } = words[index]!
    for (let i = 0; i + 1 < symbols.length; i++) {
      const a = symbols[i]!
      const b = symbols[i + 1]!
      if (!mergeable(a) || !mergeable(b) || !joinable(a, b)) continue
      const key = a + separator + b
      const next = (pairCounts.get(key) ?? 0) + sign * count
      pairCounts.set(key, next)
      if (sign > 0) {
        let set = pairWords.get(key)
        if (!set) pairWords.set(key, (set = new Set()))
        set.add(index)
        heap.push([next, key])
      }
    }
  }
  words.forEach((_, index) => addPairs(index, 1))

  const merges: ModelPiece[] = []
  const known = new Set(specials.map((p) => p.piece).concat(alphabet.map(([ch]) => ch)))
  while (merges.length < mergesWanted) {
    const top = heap.pop()
    if (!top) break
    const [count, key] = top
    if (count <= 0 || pairCounts.get(key) !== count) continue // stale entry
    const [a, b] = key.split(separator) as [string, string]
    const merged = a + b
    for (const index of pairWords.get(key) ?? []) {
      const word = words[index]!
      addPairs(index, -1)
      const next: string[] = []
      for (let i = 0; i < word.symbols.length; i++) {
        if (word.symbols[i] === a && word.symbols[i + 1] === b) {
          next.push(merged)
          i++
        } else next.push(word.symbols[i]!)
      }
      word.symbols = next
      addPairs(index, 1)
    }
    pairCounts.delete(key)
    pairWords.delete(key)
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
