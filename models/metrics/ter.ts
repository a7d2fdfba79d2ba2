// Translation Edit Rate (Snover et al. 2006) as sacreBLEU 2.x computes it (tercom-compatible): the
// fewest word insertions, deletions, substitutions and block shifts turning the hypothesis into the
// reference, over the average reference length. Shifts are chosen greedily with Tercom's heuristics
// and limits; the edit distance is searched in a beam around the length-scaled diagonal.
import { sacrebleuVersion, sumStatistics } from './bleu.ts'

const maxShiftSize = 10
const maxShiftDistance = 50
const beamWidth = 25
const maxShiftCandidates = 1000

type Op = ' ' | 's' | 'i' | 'd' | 'x' // no-op, substitution, insertion, deletion, undefined

export interface TerScore {
  score: number
  edits: number
  refLength: number
  signature: string
}

/** Beam-limited Levenshtein distance from hypothesis words to reference words, with its edit trace. */
function editDistance(hyp: string[], ref: string[]): { distance: number; trace: Op[] } {
  const rows = hyp.length + 1
  const cols = ref.length + 1
  const cost = new Float64Array(rows * cols).fill(Infinity)
  const ops = new Array<Op>(rows * cols).fill('x')
  for (let j = 0; j < cols; j++) {
    cost[j] = j
    ops[j] = 'i'
  }
  const lengthRatio = hyp.length > 0 ? ref.length / hyp.length : 1
  const beam = beamWidth < lengthRatio / 2 ? Math.ceil(lengthRatio / 2 + beamWidth) : beamWidth
  for (let i = 1; i < rows; i++) {
    const diagonal = Math.floor(i * lengthRatio)
    const minJ = Math.max(0, diagonal - beam)
    const maxJ = i === hyp.length ? cols : Math.min(cols, diagonal + beam)
    for (let j = minJ; j < maxJ; j++) {
      const here = i * cols + j
      if (j === 0) {
        cost[here] = cost[(i - 1) * cols]! + 1
        ops[here] = 'd'
        continue
      }
      const same = hyp[i - 1] === ref[j - 1]
      // Tercom's preference: match/substitution, then deletion, then insertion (first strictly better wins).
      const candidates: [number, Op][] = [
        [cost[(i - 1) * cols + j - 1]! + (same ? 0 : 1), same ? ' ' : 's'],
        [cost[(i - 1) * cols + j]! + 1, 'd'],
        [cost[here - 1]! + 1, 'i'],
      ]
      for (const [value, op] of candidates) {
        if (cost[here]! > value) {
          cost[here] = value
          ops[here] = op
        }
      }
    }
  }
  const trace: Op[] = []
  let i = hyp.length
  let j = ref.length
  while (i > 0 || j > 0) {
    const op = ops[i * cols + j]!
    trace.push(op)
    if (op === ' ' || op === 's') {
      i--
      j--
    } else if (op === 'i') j--
    else if (op === 'd') i--
    else throw new Error('TER: edit trace left the beam')
  }
  trace.reverse()
  return { distance: cost[rows * cols - 1]!, trace }
}

/** Reads a reference→hypothesis trace into an alignment (ref position → hyp position) and error flags. */
function alignment(trace: Op[]): { align: Map<number, number>; refErrors: number[]; hypErrors: number[] } {
  let hypPos = -1
  let refPos = -1
  const align = new Map<number, number>()
  const refErrors: number[] = []
  const hypErrors: number[] = []
  for (const op of trace) {
    if (op === ' ' || op === 's') {
      hypPos++
      refPos++
      align.set(refPos, hypPos)
      const error = op === 's' ? 1 : 0
      hypErrors.push(error)
      refErrors.push(error)
    } else if (op === 'i') {
      hypPos++
      hypErrors.push(1)
    } else if (op === 'd') {
      refPos++
      align.set(refPos, hypPos)
      refErrors.push(1)
    }
  }
  return { align, refErrors, hypErrors }
}

function performShift(words: string[], start: number, length: number, target: number): string[] {
  const block = words.slice(start, start + length)
  if (target < start) return [...words.slice(0, target), ...block, ...words.slice(target, start), ...words.slice(start + length)]
  if (target > start + length) return [...words.slice(0, start), ...words.slice(start + length, target), ...block, ...words.slice(target)]
  return [...words.slice(0, start), ...words.slice(start + length, length + target), ...block, ...words.slice(length + target)]
}

function* matchingBlocks(hyp: string[], ref: string[]): Generator<[number, number, number]> {
  for (let startH = 0; startH < hyp.length; startH++) {
    for (let startR = 0; startR < ref.length; startR++) {
      if (Math.abs(startR - startH) > maxShiftDistance) continue
      let length = 0
      while (hyp[startH + length] === ref[startR + length] && length < maxShiftSize) {
        length++
        yield [startH, startR, length]
        if (hyp.length === startH + length || ref.length === startR + length) break
      }
    }
  }
}

/** Candidate ranking, as Tercom: larger gain, then longer block, then earlier start, then earlier target. */
function better(a: number[], b: number[]): boolean {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! > b[k]!
  return false
}

function bestShift(hyp: string[], ref: string[], checked: number): { gain: number; words: string[]; checked: number } {
  const before = editDistance(hyp, ref)
  // Flip insertions and deletions: the alignment reads as rewriting the reference into the hypothesis.
  const flipped = before.trace.map((op): Op => (op === 'i' ? 'd' : op === 'd' ? 'i' : op))
  const { align, refErrors, hypErrors } = alignment(flipped)
  const sum = (values: number[], from: number, length: number) => values.slice(from, from + length).reduce((a, b) => a + b, 0)
  let best: { rank: number[]; words: string[] } | null = null
  for (const [startH, startR, length] of matchingBlocks(hyp, ref)) {
    if (sum(hypErrors, startH, length) === 0 || sum(refErrors, startR, length) === 0) continue
    const alignedStart = align.get(startR)!
    if (startH <= alignedStart && alignedStart < startH + length) continue
    let previousTarget = -1
    for (let offset = -1; offset < length; offset++) {
      let target: number
      if (startR + offset === -1) target = 0
      else if (align.has(startR + offset)) target = align.get(startR + offset)! + 1
      else break
      if (target === previousTarget) continue
      previousTarget = target
      const shifted = performShift(hyp, startH, length, target)
      const rank = [before.distance - editDistance(shifted, ref).distance, length, -startH, -target]
      checked++
      if (!best || better(rank, best.rank)) best = { rank, words: shifted }
    }
    if (checked >= maxShiftCandidates) break
  }
  return best ? { gain: best.rank[0]!, words: best.words, checked } : { gain: 0, words: hyp, checked }
}

/** Edits (shifts + word edits) from hypothesis to reference words. */
export function translationEdits(hyp: string[], ref: string[]): number {
  if (ref.length === 0) return hyp.length
  let words = hyp
  let shifts = 0
  let checked = 0
  for (;;) {
    const shift = bestShift(words, ref, checked)
    checked = shift.checked
    if (checked >= maxShiftCandidates || shift.gain <= 0) break
    shifts++
    words = shift.words
  }
  return shifts + editDistance(words, ref).distance
}

/** sacreBLEU's default tercom tokenisation: lowercase, whitespace-separated words. */
function tercomWords(text: string): string[] {
  return text.toLowerCase().split(/\s+/u).filter((word) => word.length > 0)
}

/** One sentence's TER statistics: [edits to the closest reference, mean reference length]. */
export function terStatistics(hypothesis: string, references: readonly string[]): [number, number] {
  const hyp = tercomWords(hypothesis)
  let best = Infinity
  let lengths = 0
  for (const reference of references) {
    const ref = tercomWords(reference)
    lengths += ref.length
    best = Math.min(best, translationEdits(hyp, ref))
  }
  return [best, lengths / references.length]
}

/** TER (×100) from summed [edits, reference length]. */
export function terFromStatistics([edits, refLength]: readonly number[]): number {
  const rate = refLength! > 0 ? edits! / refLength! : edits! > 0 ? 1 : 0
  return 100 * rate
}

export function corpusTer(hypotheses: string[], references: string[][]): TerScore {
  const [edits, refLength] = sumStatistics(hypotheses.map((hypothesis, i) => terStatistics(hypothesis, references.map((set) => set[i]!))), 2) as [number, number]
  return { score: terFromStatistics([edits, refLength]), edits, refLength, signature: `nrefs:${references.length}|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:${sacrebleuVersion}` }
}
