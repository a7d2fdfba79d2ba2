// How an epoch's work is shared and paced: chunks of whole sentences (~10k positions) that threads take in turn, and the
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

export const chunkPositions = 10_000

/** The epoch's work: chunks of whole sentences of about `positions` corpus positions each, as boundaries (chunk i is
 *  [chunks[i], chunks[i + 1])), in shared memory so every thread reads the same list. */
export function sentenceChunks(corpus: Int32Array, positions = chunkPositions): Int32Array {
  const boundaries = [0]
  while (boundaries.at(-1)! < corpus.length) boundaries.push(sentenceEnd(corpus, boundaries.at(-1)! + positions - 1))
  const chunks = new Int32Array(new SharedArrayBuffer(4 * boundaries.length))
  chunks.set(boundaries)
  return chunks
}

/** The index of the next chunk to train, shared by the threads of an epoch (set to 0 before it starts). */
export function chunkCursor(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4))
}

/** Trains the chunks this thread takes from the shared cursor until none is left, each at the rate for the
 *  progress all threads have made so far. Threads share the epoch's work as they go, so a thread the machine slows
 *  down (another process on its core) is not waited for: the others take more chunks. Returns false when
 *  `shouldStop` ended it early. */
export function trainChunks(thread: KernelThread, chunks: Int32Array, cursor: Int32Array, progress: BigInt64Array, schedule: RateSchedule, shouldStop: () => boolean = () => false): boolean {
  for (;;) {
    if (shouldStop()) return false
    const chunk = Atomics.add(cursor, 0, 1)
    if (chunk >= chunks.length - 1) return true
    const start = chunks[chunk]!
    const end = chunks[chunk + 1]!
    const alpha = learningRate(schedule, Number(Atomics.load(progress, 0)))
    thread.train(start, end, alpha)
    Atomics.add(progress, 0, BigInt(end - start))
  }
}
