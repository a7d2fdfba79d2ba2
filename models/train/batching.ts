// Batches of similar length under a token budget (as OpenNMT's batch_type "tokens" and fairseq's max_tokens):
// examples are shuffled, sorted by length inside large pools, cut into batches whose padded size
// (longest sentence × sentences) stays within the budget, and the batches shuffled again.
import { Random } from '../core/random.ts'

export interface Example {
  /** Position in the training set (stable across epochs). */
  index: number
  src: number[]
  tgt: number[]
}

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.integer(i + 1)
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

/** The batches of one epoch, as example indices; the same (examples, budget, seed, epoch) give the same batches. */
export function epochBatches(examples: readonly Example[], tokenBudget: number, seed: number, epoch: number, poolBatches = 50): number[][] {
  const random = new Random((seed * 1_000_003 + epoch) >>> 0)
  const order = shuffle(examples.map((_, i) => i), random)
  const size = (i: number) => Math.max(examples[i]!.src.length, examples[i]!.tgt.length + 1) // +1: BOS / EOS
  const meanSize = order.reduce((sum, i) => sum + size(i), 0) / Math.max(1, order.length)
  const poolSize = Math.max(1, Math.round((poolBatches * tokenBudget) / Math.max(1, meanSize)))
  const batches: number[][] = []
  for (let start = 0; start < order.length; start += poolSize) {
    const pool = order.slice(start, start + poolSize).sort((a, b) => size(a) - size(b))
    let batch: number[] = []
    let longest = 0
    for (const i of pool) {
      const nextLongest = Math.max(longest, size(i))
      if (batch.length > 0 && nextLongest * (batch.length + 1) > tokenBudget) {
        batches.push(batch)
        batch = []
        longest = 0
      }
      batch.push(i)
      longest = Math.max(longest, size(i))
    }
    if (batch.length > 0) batches.push(batch)
  }
  return shuffle(batches, random)
}

/** A batch cut into `parts` contiguous pieces of near-equal size (fewer when it has fewer examples). */
export function splitExamples<T>(batch: readonly T[], parts: number): T[][] {
  const count = Math.min(parts, batch.length)
  return Array.from({ length: count }, (_, part) => batch.slice(Math.floor((part * batch.length) / count), Math.floor(((part + 1) * batch.length) / count)))
}
