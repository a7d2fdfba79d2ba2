// What every SentencePiece trainer shares: spm's text conventions (a normalisation rule, ▁ before each word), the alphabet
// chosen by character coverage, which characters may join into one piece, and the special pieces.
import type { ModelPiece } from './model-proto.ts'
import type { SpmNormalizer } from './normalization/charsmap.ts'
import type { NormalizationName } from './normalization/rule.ts'

export const wordBoundary = '\u2581' // ▁

export interface VocabularyOptions {
  vocabSize: number
  /** Share of character occurrences the alphabet must cover; rarer characters become <unk> (or bytes). */
  characterCoverage?: number
  /** Pieces always kept whole (e.g. tags like <sep>), matched before anything else when encoding. */
  userSymbols?: string[]
  /** Encode characters outside the alphabet as their UTF-8 bytes (<0x41>) instead of <unk>. */
  byteFallback?: boolean
  /** The rule applied to text before learning and encoding (spm's --normalization_rule_name); nmt_nfkc by default. */
  normalization?: NormalizationName
}

/** What spm does to text before it splits it: the normalisation rule, collapsed whitespace, ▁ before every word. */
export function normalizeForPieces(text: string, normalizer: SpmNormalizer, userSymbols: readonly string[] = []): string[] {
  let raw = text
  // User symbols are always their own piece (spm matches them before normalising), so they take no part in learning the others.
  for (const symbol of userSymbols) raw = raw.replaceAll(symbol, ' ')
  const words: string[] = []
  for (const word of normalizer.normalize(raw).split(wordBoundary)) if (word.length > 0) words.push(wordBoundary + word)
  return words
}

/** Letters (with their marks), digits, or anything else (punctuation, symbols). */
export function charClass(ch: string): 'letter' | 'digit' | 'other' {
  if (/[\p{L}\p{M}]/u.test(ch)) return 'letter'
  if (/\p{N}/u.test(ch)) return 'digit'
  return 'other'
}

/** Whether `next` may follow `previous` inside one piece: not across letters, digits and punctuation
 *  (spm's split_by_unicode_script and split_by_number), except right after the word boundary. */
export function canJoin(previous: string, next: string): boolean {
  return previous === wordBoundary || charClass(previous) === charClass(next)
}

/** The most frequent characters covering `coverage` of all occurrences (▁ always), most frequent first. */
export function alphabetFor(wordCounts: Map<string, number>, coverage: number): { alphabet: [string, number][]; inAlphabet: Set<string> } {
  const charCounts = new Map<string, number>()
  for (const [word, count] of wordCounts) for (const ch of word) charCounts.set(ch, (charCounts.get(ch) ?? 0) + count)
  const byFrequency = [...charCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  const totalChars = byFrequency.reduce((sum, [, n]) => sum + n, 0)
  const alphabet: [string, number][] = []
  let covered = 0
  for (const entry of byFrequency) {
    if (covered >= coverage * totalChars && entry[0] !== wordBoundary) continue
    alphabet.push(entry)
    covered += entry[1]
  }
  return { alphabet, inAlphabet: new Set(alphabet.map(([ch]) => ch)) }
}

/** <unk>, <s>, </s> (ids 0, 1, 2), then user symbols, then the 256 byte pieces when byte fallback is on. */
export function specialPieces(options: VocabularyOptions): ModelPiece[] {
  const pieces: ModelPiece[] = [
    { piece: '<unk>', score: 0, type: 'unknown' },
    { piece: '<s>', score: 0, type: 'control' },
    { piece: '</s>', score: 0, type: 'control' },
  ]
  for (const symbol of options.userSymbols ?? []) {
    if (pieces.some((p) => p.piece === symbol)) throw new Error(`user symbol '${symbol}' is given twice or clashes with a special piece`)
    if (/\s/.test(symbol) || symbol.length === 0) throw new Error(`user symbol '${symbol}' must be non-empty and contain no whitespace`)
    pieces.push({ piece: symbol, score: 0, type: 'user-defined' })
  }
  if (options.byteFallback) {
    for (let byte = 0; byte < 256; byte++) pieces.push({ piece: `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`, score: 0, type: 'byte' })
  }
  return pieces
}
