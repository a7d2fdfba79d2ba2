// How an epoch's work is shared and paced: ranges of whole sentences per thread, chunks of ~10k positions, and the
// linear learning-rate decay of word2vec.c over all epochs, read from a progress counter every thread adds to.
import type { KernelThread } from './kernel.ts'

export interface RateSchedule {
  alpha: number
  minAlpha: number
  /** Corpus positions over all epochs. */
  total: number
}

export function learningRate(schedule: RateSchedule, done: number): number {
  return Math.max(schedule.minAlpha, schedule.alpha - ((schedule.alpha - schedule.minAlpha) * done) / schedule.total)
}

/** The position just after the sentence that contains `position` (or the corpus end). */
function sentenceEnd(corpus: Int32Array, position: number): number {
  let p = position
  while (p < corpus.length && corpus[p] !== -1) p++
  return Math.min(corpus.length, p + 1)
}

/** [start, end) ranges of whole sentences, about equal in size, one per part. */
export function sentenceRanges(corpus: Int32Array, parts: number): [number, number][] {
  const ranges: [number, number][] = []
  let start = 0
  for (let part = 1; part <= parts; part++) {
    const end = part === parts ? corpus.length : Math.max(start, sentenceEnd(corpus, Math.floor((corpus.length * part) / parts)))
    ranges.push([start, end])
    start = end
  }
  return ranges
}

export const chunkPositions = 10_000

/** Trains a range chunk by chunk, each at the rate for the progress all threads have made so far. Returns false
 *  when `shouldStop` ended it early. */
export function trainRange(thread: KernelThread, corpus: Int32Array, [start, end]: [number, number], progress: BigInt64Array, schedule: RateSchedule, shouldStop: () => boolean = () => false): boolean {
  let position = start
  while (position < end) {
    if (shouldStop()) return false
    const chunkEnd = Math.min(end, sentenceEnd(corpus, position + chunkPositions - 1))
    const alpha = learningRate(schedule, Number(Atomics.load(progress, 0)))
    thread.train(position, chunkEnd, alpha)
    Atomics.add(progress, 0, BigInt(chunkEnd - position))
    position = chunkEnd
  }
  return true
}
