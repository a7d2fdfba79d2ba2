// Host side of the word2vec kernel (assembly/kernel.ts): one shared WebAssembly memory laid out for the parameters,
// the tables and the corpus, and one instance of the kernel per thread over it (Hogwild updates, as word2vec.c).
import { Random } from '../core/random.ts'
import type { HuffmanCodes } from './huffman.ts'
import type { NoiseTable } from './negative-table.ts'
import { word2vecKernelBase64 } from './kernel-wasm.ts'

export interface KernelSettings {
  architecture: 'skipgram' | 'cbow'
  /** Hierarchical softmax over a Huffman tree. */
  hs: boolean
  /** Negative samples per prediction (0: none). */
  negative: number
  dim: number
  window: number
}

/** Byte offsets of everything in the shared memory (0 where unused). */
export interface KernelLayout {
  vocab: number
  dim: number
  syn0: number
  syn1neg: number
  syn1: number
  table: number
  keep: number
  codes: number
  points: number
  codeLengths: number
  maxCode: number
  /** Each thread's sentence buffer, two vectors and one prediction's output rows (address, label, score). */
  scratch: number
  scratchBytes: number
  threads: number
  maxSentence: number
  corpus: number
  corpusLength: number
  bytes: number
}

const reservedBytes = 65536 // the kernel's own static data lives in the first page
const maxSentence = 10_000 // as gensim: longer sentences are cut into pieces of this many kept words

export function kernelLayout(settings: KernelSettings, sizes: { vocab: number; maxCode: number; threads: number; corpusLength: number }): KernelLayout {
  let offset = reservedBytes
  const take = (bytes: number): number => {
    const at = offset
    offset += Math.ceil(bytes / 64) * 64
    return at
  }
  const matrix = sizes.vocab * settings.dim * 4
  const syn0 = take(matrix)
  const syn1neg = settings.negative > 0 ? take(matrix) : 0
  const syn1 = settings.hs ? take(matrix) : 0
  const table = settings.negative > 0 ? take(sizes.vocab * 8) : 0 // alias table: (threshold, alias) per word
  const keep = take(sizes.vocab * 4)
  const codes = settings.hs ? take(sizes.vocab * sizes.maxCode) : 0
  const points = settings.hs ? take(sizes.vocab * sizes.maxCode * 4) : 0
  const codeLengths = settings.hs ? take(sizes.vocab * 4) : 0
  const maxRows = Math.max(settings.negative + 1, settings.hs ? sizes.maxCode : 0)
  const scratchBytes = Math.ceil(((maxSentence + 2 * settings.dim + 3 * maxRows) * 4) / 64) * 64
  const scratch = take(scratchBytes * sizes.threads)
  const corpus = take(sizes.corpusLength * 4)
  return {
    vocab: sizes.vocab,
    dim: settings.dim,
    syn0,
    syn1neg,
    syn1,
    table,
    keep,
    codes,
    points,
    codeLengths,
    maxCode: settings.hs ? sizes.maxCode : 0,
    scratch,
    scratchBytes,
    threads: sizes.threads,
    maxSentence,
    corpus,
    corpusLength: sizes.corpusLength,
    bytes: offset,
  }
}

const pageBytes = 65536
const maxPages = 65536 // wasm32: 4 GiB

/** A shared memory big enough for the layout (fresh pages are zero: output vectors start at 0, as word2vec.c). */
export function sharedMemory(layout: KernelLayout): WebAssembly.Memory {
  const pages = Math.ceil(layout.bytes / pageBytes)
  if (pages > maxPages) throw new Error(`word2vec needs ${(layout.bytes / 2 ** 30).toFixed(1)} GiB, over WebAssembly's 4 GiB: lower --dim, --max-vocab or the corpus size`)
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true })
}

/** Views of the layout's arrays in a memory. */
export function layoutViews(memory: WebAssembly.Memory, layout: KernelLayout) {
  const buffer = memory.buffer
  const matrix = layout.vocab * layout.dim
  return {
    syn0: new Float32Array(buffer, layout.syn0, matrix),
    syn1neg: layout.syn1neg ? new Float32Array(buffer, layout.syn1neg, matrix) : null,
    syn1: layout.syn1 ? new Float32Array(buffer, layout.syn1, matrix) : null,
    /** (threshold, alias) per word, interleaved. */
    table: new Uint32Array(buffer, layout.table, layout.table ? 2 * layout.vocab : 0),
    keep: new Float32Array(buffer, layout.keep, layout.vocab),
    codes: new Uint8Array(buffer, layout.codes, layout.vocab * layout.maxCode),
    points: new Int32Array(buffer, layout.points, layout.vocab * layout.maxCode),
    codeLengths: new Int32Array(buffer, layout.codeLengths, layout.maxCode ? layout.vocab : 0),
    corpus: new Int32Array(buffer, layout.corpus, layout.corpusLength),
  }
}

/** Copies the tables in and draws the input vectors uniformly in [−0.5, 0.5) / dim (word2vec.c's initialisation). */
export function initialiseMemory(memory: WebAssembly.Memory, layout: KernelLayout, tables: { keep: Float32Array; noise: NoiseTable | null; huffman: HuffmanCodes | null }, seed: number): void {
  const views = layoutViews(memory, layout)
  views.keep.set(tables.keep)
  if (tables.noise) {
    const { thresholds, aliases } = tables.noise
    for (let i = 0; i < thresholds.length; i++) {
      views.table[2 * i] = thresholds[i]!
      views.table[2 * i + 1] = aliases[i]!
    }
  }
  if (tables.huffman) {
    views.codes.set(tables.huffman.codes)
    views.points.set(tables.huffman.points)
    views.codeLengths.set(tables.huffman.lengths)
  }
  const random = new Random(seed)
  for (let i = 0; i < views.syn0.length; i++) views.syn0[i] = (random.next() - 0.5) / layout.dim
}

let compiled: Promise<WebAssembly.Module> | null = null

/** The compiled kernel, once per thread (a Module can be posted to workers). */
export function kernelModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(Uint8Array.from(atob(word2vecKernelBase64), (c) => c.charCodeAt(0)))
  return compiled
}

interface KernelExports {
  configure(...args: number[]): void
  seed(value: number): void
  resetLoss(): void
  loss(): number
  predictionCount(): number
  keptWordCount(): number
  trainRange(corpus: number, start: number, end: number, alpha: number): number
}

/** What one thread's kernel did since its last report. */
export interface ThreadReport {
  /** Sum of −log-likelihood terms (exact log σ, no clipping). */
  loss: number
  predictions: number
  /** Words left after subsampling. */
  keptWords: number
}

/** One thread's instance of the kernel over the shared memory. */
export class KernelThread {
  private constructor(
    private readonly kernel: KernelExports,
    private readonly layout: KernelLayout,
  ) {}

  static async start(module: WebAssembly.Module, memory: WebAssembly.Memory, layout: KernelLayout, settings: KernelSettings, thread: number, seed: number): Promise<KernelThread> {
    const instance = await WebAssembly.instantiate(module, { env: { memory } })
    const kernel = instance.exports as unknown as KernelExports
    kernel.configure(
      settings.dim, settings.window, settings.negative, settings.hs ? 1 : 0, settings.architecture === 'cbow' ? 1 : 0,
      layout.syn0, layout.syn1neg, layout.syn1, layout.table, layout.vocab, layout.keep,
      layout.codes, layout.points, layout.codeLengths, layout.maxCode,
      layout.scratch + thread * layout.scratchBytes, layout.maxSentence,
    )
    const started = new KernelThread(kernel, layout)
    started.seedEpoch(seed, thread, 0)
    return started
  }

  /** Seeds this thread's generator (subsampling, window sizes, negatives) for one epoch, from the run's seed: an
   *  epoch draws the same whether the run trained through or was resumed at that epoch. */
  seedEpoch(seed: number, thread: number, epoch: number): void {
    this.kernel.seed((Math.imul(seed, 2654435761) + Math.imul(thread, 40503) + Math.imul(epoch, 2246822519) + 1) >>> 0)
  }

  /** Trains on corpus positions [start, end) at one learning rate. */
  train(start: number, end: number, alpha: number): void {
    this.kernel.trainRange(this.layout.corpus, start, end, alpha)
  }

  /** The loss sums since the last report, then resets them. */
  report(): ThreadReport {
    const report = { loss: this.kernel.loss(), predictions: this.kernel.predictionCount(), keptWords: this.kernel.keptWordCount() }
    this.kernel.resetLoss()
    return report
  }
}
