// Setting up a word2vec training: vocabulary tables and the corpus in shared memory, and epochs on one thread
// (the engine runs several worker threads over the same memory and chunks).
import { huffmanCodes } from './huffman.ts'
import { initialiseMemory, kernelLayout, KernelThread, kernelModule, layoutViews, sharedMemory, type KernelLayout, type KernelSettings, type ThreadReport } from './kernel.ts'
import { noiseTable } from './negative-table.ts'
import { chunkCursor, sentenceChunks, trainChunks, type RateSchedule } from './schedule.ts'
import { keepProbabilities, type Vocabulary } from './vocabulary.ts'
import { WordVectors } from './word-vectors.ts'

export interface Word2VecHyperparameters extends KernelSettings {
  /** Subsampling threshold (0: off). */
  sample: number
  alpha: number
  minAlpha: number
  epochs: number
  seed: number
}

export interface PreparedTraining {
  vocabulary: Vocabulary
  hyper: Word2VecHyperparameters
  layout: KernelLayout
  memory: WebAssembly.Memory
  corpus: Int32Array
  /** In-vocabulary words per epoch (the corpus without sentence ends). */
  words: number
  schedule: RateSchedule
  /** Positions trained so far over all epochs, shared by every thread. */
  progress: BigInt64Array
  /** Chunk boundaries of an epoch, and the next chunk to take (shared by every thread). */
  chunks: Int32Array
  cursor: Int32Array
}

export function prepareTraining(vocabulary: Vocabulary, corpus: Int32Array, hyper: Word2VecHyperparameters, threads: number): PreparedTraining {
  if (vocabulary.words.length === 0) throw new Error('the vocabulary is empty: lower the minimum count or use a larger corpus')
  if (hyper.negative === 0 && !hyper.hs) throw new Error('choose negative sampling (negative > 0), hierarchical softmax, or both')
  const huffman = hyper.hs ? huffmanCodes(vocabulary.counts) : null
  const layout = kernelLayout(hyper, { vocab: vocabulary.words.length, maxCode: huffman?.maxCode ?? 0, threads, corpusLength: corpus.length })
  const memory = sharedMemory(layout)
  initialiseMemory(memory, layout, { keep: keepProbabilities(vocabulary.counts, hyper.sample), noise: hyper.negative > 0 ? noiseTable(vocabulary.counts) : null, huffman }, hyper.seed)
  const views = layoutViews(memory, layout)
  views.corpus.set(corpus)
  let words = 0
  for (const id of corpus) if (id >= 0) words++
  return {
    vocabulary,
    hyper,
    layout,
    memory,
    corpus: views.corpus,
    words,
    schedule: { alpha: hyper.alpha, minAlpha: hyper.minAlpha, total: corpus.length * hyper.epochs },
    progress: new BigInt64Array(new SharedArrayBuffer(8)),
    chunks: sentenceChunks(views.corpus),
    cursor: chunkCursor(),
  }
}

export interface EpochReport extends ThreadReport {
  epoch: number
  /** Mean −log-likelihood per prediction (skip-gram: per (word, context) pair; CBOW: per word). */
  meanLoss: number
  seconds: number
  wordsPerSecond: number
}

export function epochReport(epoch: number, parts: readonly ThreadReport[], words: number, seconds: number): EpochReport {
  const loss = parts.reduce((sum, p) => sum + p.loss, 0)
  const predictions = parts.reduce((sum, p) => sum + p.predictions, 0)
  const keptWords = parts.reduce((sum, p) => sum + p.keptWords, 0)
  return { epoch, loss, predictions, keptWords, meanLoss: predictions > 0 ? loss / predictions : NaN, seconds, wordsPerSecond: words / Math.max(seconds, 1e-9) }
}

/** Trains epochs [from, hyper.epochs) on this thread. Exactly reproducible for a seed. */
export async function trainOnThisThread(prepared: PreparedTraining, from: number, onEpoch?: (report: EpochReport) => void): Promise<EpochReport[]> {
  const thread = await KernelThread.start(await kernelModule(), prepared.memory, prepared.layout, prepared.hyper, 0, prepared.hyper.seed)
  const reports: EpochReport[] = []
  Atomics.store(prepared.progress, 0, BigInt(from * prepared.corpus.length))
  for (let epoch = from; epoch < prepared.hyper.epochs; epoch++) {
    const started = performance.now()
    Atomics.store(prepared.cursor, 0, 0)
    trainChunks(thread, prepared.chunks, prepared.cursor, prepared.progress, prepared.schedule)
    const report = epochReport(epoch + 1, [thread.report()], prepared.words, (performance.now() - started) / 1000)
    reports.push(report)
    onEpoch?.(report)
  }
  return reports
}

/** A copy of the input vectors, the embeddings. */
export function trainedVectors(prepared: PreparedTraining): WordVectors {
  return new WordVectors(prepared.vocabulary.words, prepared.hyper.dim, layoutViews(prepared.memory, prepared.layout).syn0.slice(), prepared.vocabulary.counts)
}

/** The input vectors in place in the shared memory, without a copy: valid only while no thread trains (between
 *  epochs), e.g. to store and evaluate an epoch. */
export function vectorsBetweenEpochs(prepared: PreparedTraining): WordVectors {
  return new WordVectors(prepared.vocabulary.words, prepared.hyper.dim, layoutViews(prepared.memory, prepared.layout).syn0, prepared.vocabulary.counts)
}
