// Unigram language-model vocabulary learning (Kudo 2018, §3.2) as SentencePiece trains it: a large seed of
// frequent substrings, EM over each word's segmentation lattice (forward–backward expected counts, a Bayesian
// M-step with digamma, pieces expected less than half a time dropped), then pruning the pieces whose removal
// costs the corpus likelihood least, until the vocabulary is 1.1× its target; the best-scoring pieces remain.
import type { ModelPiece } from './model-proto.ts'
import type { ModelSpec } from './model-writer.ts'
import { normalizationRule } from './normalization/rule.ts'
import { alphabetFor, canJoin, normalizeForPieces, specialPieces, wordBoundary, type VocabularyOptions } from './vocabulary.ts'

export interface UnigramOptions extends VocabularyOptions {
  /** Longest piece, in characters (spm: max_sentencepiece_length). */
  maxPieceLength?: number
  /** Seed pieces kept before EM (spm: seed_sentencepiece_size). */
  seedSize?: number
  /** Share of pieces kept at each pruning round (spm: shrinking_factor). */
  shrinkingFactor?: number
  /** EM iterations per round (spm: num_sub_iterations). */
  subIterations?: number
  onProgress?: (phase: string, vocabulary: number) => void
}

/** ψ(x), as SentencePiece computes it (recurrence up to 7, then the asymptotic series). */
export function digamma(value: number): number {
  let x = value
  let result = 0
  for (; x < 7; ++x) result -= 1 / x
  x -= 0.5
  const xx = 1 / x
  const xx2 = xx * xx
  const xx4 = xx2 * xx2
  return result + Math.log(x) + xx2 / 24 - (7 / 960) * xx4 + (31 / 8064) * xx4 * xx2 - (127 / 30720) * xx4 * xx4
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b
  if (b === -Infinity) return a
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b))
}

interface Word {
  count: number
  /** Offset and length (in values) of this word's edges in the shared edge array: (start, end, piece) triples. */
  offset: number
  length: number
  chars: number
}

/** Score of an out-of-alphabet character (it becomes <unk>): below every piece, as spm's unk penalty. */
const unknownPenalty = 10

/** A trie over character ids holding every seed piece; pieces keep their seed id for the whole training. */
class PieceTrie {
  private readonly next = new Map<number, number>()
  private readonly pieceAt: number[] = [-1]
  constructor(private readonly alphabetSize: number) {}

  add(chars: number[], id: number): void {
    let node = 0
    for (const c of chars) {
      const key = node * this.alphabetSize + c
      let child = this.next.get(key)
      if (child === undefined) {
        child = this.pieceAt.length
        this.pieceAt.push(-1)
        this.next.set(key, child)
      }
      node = child
    }
    this.pieceAt[node] = id
  }

  /** Appends (start, end, id) for every piece matching chars from `start`; an unknown edge where no character piece matches. */
  edgesFrom(chars: ArrayLike<number>, start: number, maxLength: number, out: number[]): void {
    let node = 0
    let single = false
    const limit = Math.min(chars.length, start + maxLength)
    for (let end = start + 1; end <= limit; end++) {
      const c = chars[end - 1]!
      if (c < 0) break
      const child = this.next.get(node * this.alphabetSize + c)
      if (child === undefined) break
      node = child
      const id = this.pieceAt[node]!
      if (id >= 0) {
        out.push(start, end, id)
        if (end === start + 1) single = true
      }
    }
    if (!single) out.push(start, start + 1, -1)
  }
}

/** Training state: seed pieces by id, which are still in the vocabulary, and their log-probabilities. */
interface Model {
  pieces: string[]
  active: Uint8Array
  scores: Float64Array
  unknownScore: number
}

/** E-step: expected piece counts under the current model (forward–backward over each word's lattice). */
function expectedCounts(words: Word[], edges: Int32Array, model: Model): Float64Array {
  const counts = new Float64Array(model.pieces.length)
  const alpha = new Float64Array(256)
  const beta = new Float64Array(256)
  const { active, scores, unknownScore } = model
  for (const word of words) {
    const n = word.chars
    const a = n + 1 <= alpha.length ? alpha : new Float64Array(n + 1)
    const b = n + 1 <= beta.length ? beta : new Float64Array(n + 1)
    a.fill(-Infinity, 0, n + 1)
    b.fill(-Infinity, 0, n + 1)
    a[0] = 0
    b[n] = 0
    const from = word.offset
    const to = word.offset + word.length
    // Edges are ordered by start, so a forward sweep sees alpha[start] complete (and backward, beta[end]).
    for (let k = from; k < to; k += 3) {
      const id = edges[k + 2]!
      if (id >= 0 && !active[id]) continue
      const end = edges[k + 1]!
      a[end] = logAddExp(a[end]!, a[edges[k]!]! + (id < 0 ? unknownScore : scores[id]!))
    }
    for (let k = to - 3; k >= from; k -= 3) {
      const id = edges[k + 2]!
      if (id >= 0 && !active[id]) continue
      const start = edges[k]!
      b[start] = logAddExp(b[start]!, b[edges[k + 1]!]! + (id < 0 ? unknownScore : scores[id]!))
    }
    const z = a[n]!
    for (let k = from; k < to; k += 3) {
      const id = edges[k + 2]!
      if (id < 0 || !active[id]) continue
      counts[id]! += word.count * Math.exp(a[edges[k]!]! + scores[id]! + b[edges[k + 1]!]! - z)
    }
  }
  return counts
}

/** The best segmentation over a word's edges (piece ids; -1 for unknown characters), skipping `exclude`. */
function viterbi(edges: ArrayLike<number>, from: number, to: number, n: number, model: Model, exclude = -2): number[] {
  const best = new Float64Array(n + 1).fill(-Infinity)
  const backStart = new Int32Array(n + 1)
  const backId = new Int32Array(n + 1)
  best[0] = 0
  for (let k = from; k < to; k += 3) {
    const id = edges[k + 2]!
    if (id === exclude || (id >= 0 && !model.active[id])) continue
    const start = edges[k]!
    const end = edges[k + 1]!
    const value = best[start]! + (id < 0 ? model.unknownScore : model.scores[id]!)
    if (value > best[end]!) {
      best[end] = value
      backStart[end] = start
      backId[end] = id
    }
  }
  if (best[n] === -Infinity) return []
  const path: number[] = []
  for (let pos = n; pos > 0; pos = backStart[pos]!) path.push(backId[pos]!)
  return path.reverse()
}

export function trainUnigram(sentences: Iterable<string>, options: UnigramOptions): ModelSpec {
  const maxLength = options.maxPieceLength ?? 16
  const seedSize = options.seedSize ?? 1_000_000
  const shrinking = options.shrinkingFactor ?? 0.75
  const subIterations = options.subIterations ?? 2
  const wordCounts = new Map<string, number>()
  const normalization = normalizationRule(options.normalization ?? 'nmt_nfkc')
  for (const sentence of sentences) for (const word of normalizeForPieces(sentence, normalization.normalizer, options.userSymbols)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1)
  if (wordCounts.size === 0) throw new Error('no text to learn pieces from')
  const { alphabet, inAlphabet } = alphabetFor(wordCounts, options.characterCoverage ?? 0.9995)
  const specials = specialPieces(options)
  const target = options.vocabSize - specials.length
  if (target < alphabet.length) {
    throw new Error(`a vocabulary of ${options.vocabSize} cannot hold the ${alphabet.length} characters and ${specials.length} special and byte pieces; raise the size or lower the character coverage`)
  }
  const charId = new Map(alphabet.map(([ch], i) => [ch, i]))
  const wordList = [...wordCounts.entries()].map(([word, count]) => ({ text: [...word], count }))

  // Seed: every character of the alphabet, and the substrings inside words that occur at least twice,
  // ranked by frequency × length (spm ranks its suffix-array substrings the same way).
  options.onProgress?.('seed', 0)
  const substringCounts = new Map<string, number>()
  for (const { text, count } of wordList) {
    for (let start = 0; start < text.length; start++) {
      if (!inAlphabet.has(text[start]!)) continue
      let piece = text[start]!
      for (let end = start + 2; end <= Math.min(text.length, start + maxLength); end++) {
        const next = text[end - 1]!
        if (!inAlphabet.has(next) || next === wordBoundary || !canJoin(text[end - 2]!, next)) break
        piece += next
        substringCounts.set(piece, (substringCounts.get(piece) ?? 0) + count)
      }
    }
  }
  const seeds = [...substringCounts.entries()]
    .filter(([, count]) => count >= 2)
    .map(([piece, count]) => ({ piece, count, rank: count * [...piece].length }))
    .sort((a, b) => b.rank - a.rank || (a.piece < b.piece ? -1 : 1))
    .slice(0, Math.max(0, seedSize - alphabet.length))
  substringCounts.clear()
  const initial = [...alphabet.map(([piece, count]) => ({ piece, count })), ...seeds]
  const total = initial.reduce((sum, p) => sum + p.count, 0)
  const trie = new PieceTrie(alphabet.length)
  initial.forEach((p, id) => trie.add([...p.piece].map((ch) => charId.get(ch)!), id))
  const model: Model = {
    pieces: initial.map((p) => p.piece),
    active: new Uint8Array(initial.length).fill(1),
    scores: Float64Array.from(initial.map((p) => Math.log(p.count) - Math.log(total))),
    unknownScore: 0,
  }
  const isCharacter = (id: number) => id < alphabet.length

  // Every word's lattice edges, enumerated once: pruning only switches pieces off.
  const flat: number[] = []
  const words: Word[] = wordList.map(({ text, count }) => {
    const chars = text.map((ch) => charId.get(ch) ?? -1)
    const offset = flat.length
    for (let start = 0; start < chars.length; start++) trie.edgesFrom(chars, start, maxLength, flat)
    return { count, offset, length: flat.length - offset, chars: chars.length }
  })
  const edges = Int32Array.from(flat)
  flat.length = 0
  const desired = Math.floor(target * 1.1)
  const activeCount = () => model.active.reduce((sum, a) => sum + a, 0)
  const refreshUnknownScore = () => {
    let min = Infinity
    model.scores.forEach((v, i) => model.active[i] && (min = Math.min(min, v)))
    model.unknownScore = min - unknownPenalty
  }
  refreshUnknownScore()

  for (;;) {
    for (let iteration = 0; iteration < subIterations; iteration++) {
      const counts = expectedCounts(words, edges, model)
      // M-step (Bayesian, as spm): θ_i ∝ exp(ψ(c_i) − ψ(Σc)); pieces expected < 0.5 times leave (characters stay).
      let sum = 0
      for (let id = 0; id < counts.length; id++) {
        if (!model.active[id]) continue
        if (counts[id]! < 0.5 && !isCharacter(id)) model.active[id] = 0
        else {
          counts[id] = Math.max(counts[id]!, 1e-3)
          sum += counts[id]!
        }
      }
      const logSum = digamma(sum)
      for (let id = 0; id < counts.length; id++) if (model.active[id]) model.scores[id] = digamma(counts[id]!) - logSum
      refreshUnknownScore()
    }
    const size = activeCount()
    options.onProgress?.('em', size)
    if (size <= desired) break
    prune(words, edges, model, trie, charId, alphabet.length, maxLength, Math.max(desired, Math.floor(shrinking * size)))
  }

  // Final vocabulary: every alphabet character, then the best-scoring pieces up to the target size.
  const byScore = model.pieces
    .map((piece, id) => ({ piece, id, score: model.scores[id]! }))
    .filter((p) => model.active[p.id])
    .sort((a, b) => b.score - a.score || (a.piece < b.piece ? -1 : 1))
  const chosen = byScore.filter((p) => isCharacter(p.id))
  for (const p of byScore) {
    if (chosen.length >= target) break
    if (!isCharacter(p.id)) chosen.push(p)
  }
  chosen.sort((a, b) => b.score - a.score || (a.piece < b.piece ? -1 : 1))
  const pieces: ModelPiece[] = [...specials, ...chosen.map((p): ModelPiece => ({ piece: p.piece, score: p.score, type: 'normal' }))]
  return {
    modelType: 'unigram',
    pieces,
    characterCoverage: options.characterCoverage ?? 0.9995,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    byteFallback: options.byteFallback ?? false,
    normalization: { name: normalization.name, precompiledCharsMap: normalization.precompiledCharsMap },
  }
}

/**
 * Switches off all but the `size` pieces whose removal would cost the corpus likelihood most (spm's
 * PruneSentencePieces): a piece's loss is its Viterbi frequency share × (log p(piece) − log p(its best
 * alternative segmentation)).
 */
function prune(words: Word[], edges: Int32Array, model: Model, trie: PieceTrie, charId: Map<string, number>, characters: number, maxLength: number, size: number): void {
  const n = model.pieces.length
  // Viterbi frequencies, and the corpus share (by word frequency) whose best segmentation uses each piece.
  const frequency = new Float64Array(n)
  const share = new Float64Array(n)
  let viterbiSum = 0
  for (const word of words) {
    const path = viterbi(edges, word.offset, word.offset + word.length, word.chars, model)
    const seen = new Set<number>()
    for (const id of path) {
      if (id < 0) continue
      frequency[id]! += word.count
      viterbiSum += word.count
      if (!seen.has(id)) {
        seen.add(id)
        share[id]! += word.count
      }
    }
  }
  const candidates: { id: number; loss: number }[] = []
  let kept = 0
  const own: number[] = []
  for (let id = 0; id < n; id++) {
    if (!model.active[id]) continue
    if (id < characters) {
      kept++ // characters are always kept
      continue
    }
    if (frequency[id] === 0) {
      model.active[id] = 0 // never on a best path: removing it changes nothing
      continue
    }
    const chars = [...model.pieces[id]!].map((ch) => charId.get(ch)!)
    own.length = 0
    for (let start = 0; start < chars.length; start++) trie.edgesFrom(chars, start, maxLength, own)
    const alternative = viterbi(own, 0, own.length, chars.length, model, id)
    if (alternative.length === 0 || alternative.some((a) => a < 0)) {
      kept++
      continue
    }
    const logProbPiece = Math.log(frequency[id]!) - Math.log(viterbiSum)
    // Without the piece, its frequency moves to each piece of the alternative.
    const logSumAlternative = Math.log(viterbiSum + frequency[id]! * (alternative.length - 1))
    let logProbAlternative = 0
    for (const a of alternative) logProbAlternative += Math.log(frequency[a]! + frequency[id]!) - logSumAlternative
    candidates.push({ id, loss: (share[id]! / viterbiSum) * (logProbPiece - logProbAlternative) })
  }
  candidates.sort((a, b) => b.loss - a.loss)
  for (const { id } of candidates) {
    if (kept < size) kept++
    else model.active[id] = 0
  }
}
