// Trains a word2vec run inside its job: the vocabulary and corpus streamed from SQLite into shared memory, one
// Hogwild thread per core over it (the job's own thread is the first, so no core waits on a coordinator and no
// extra isolate is paid for), and after each epoch the loss, words/s, the vectors (stored per epoch),
// the output weights (for resuming) and, when asked, analogy accuracy and Spearman's ρ.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { EngineEvent, Word2VecConfig } from '../../api/contract.ts'
import { decodeTensors, encodeTensors } from '../../../models/train/checkpoint-codec.ts'
import { CorpusBuilder, encodeCountingVocabulary } from '../../../models/word2vec/corpus.ts'
import { evaluateSimilarity } from '../../../models/word2vec/evaluation.ts'
import { KernelThread, kernelModule, layoutViews } from '../../../models/word2vec/kernel.ts'
import { trainChunks } from '../../../models/word2vec/schedule.ts'
import { epochReport, prepareTraining, vectorsBetweenEpochs, type PreparedTraining, type Word2VecHyperparameters } from '../../../models/word2vec/training.ts'
import type { Vocabulary } from '../../../models/word2vec/vocabulary.ts'
import { textWords } from '../../../models/word2vec/words.ts'
import { findCorpus, streamCorpusTexts } from '../corpus/repository.ts'
import { workerEntry } from '../runtime.ts'
import type { Database } from '../store/database.ts'
import { recordMetrics, requestRunControl, runControl, setRunProcess, truncateAfter } from '../training/repository.ts'
import { evalSets } from './eval-sets.ts'
import type { ThreadData, ThreadReply, ThreadRequest } from './thread.ts'
import { findWord2Vec, loadOutputWeights, loadVectors, saveOutputWeights, saveVectors, updateWord2Vec, type StoredWord2Vec } from './repository.ts'

export interface Word2VecContext {
  db: Database
  /** A pause or stop request (a job cancel counts as pause). */
  request: () => 'pause' | 'stop' | null
  progress: (done: number, total: number) => void
  emit: (event: EngineEvent) => void
  /** Starts TensorFlow.js, which only the per-epoch evaluation needs. */
  startCompute: () => Promise<void>
}

export function hyperparameters(config: Word2VecConfig): Word2VecHyperparameters {
  return {
    architecture: config.architecture,
    hs: config.hs,
    negative: config.negative,
    dim: config.dim,
    window: config.window,
    sample: config.sample,
    alpha: config.alpha ?? (config.architecture === 'cbow' ? 0.05 : 0.025),
    minAlpha: config.minAlpha,
    epochs: config.epochs,
    seed: config.seed,
  }
}

/** The vocabulary (unless known) and the corpus's word ids, reading and splitting the text once. */
function readCorpus(db: Database, corpusId: number, config: Word2VecConfig, known: Vocabulary | null): { vocabulary: Vocabulary; ids: Int32Array } {
  const sentences = function* () {
    for (const text of streamCorpusTexts(db, corpusId, config.side)) yield textWords(text, config.lowercase)
  }
  if (known) {
    const builder = new CorpusBuilder(new Map(known.words.map((w, i) => [w, i])))
    for (const sentence of sentences()) builder.add(sentence)
    return { vocabulary: known, ids: builder.finish() }
  }
  const encoded = encodeCountingVocabulary(sentences(), config.minCount, config.maxVocab)
  if (encoded.vocabulary.words.length === 0) throw new Error(`no word occurs ${config.minCount} times in corpus '${config.corpus}': lower --min-count`)
  return encoded
}

/** The corpus read into the training's shared memory (the word ids' own array is garbage once copied there). */
function prepareFromCorpus(db: Database, corpusId: number, config: Word2VecConfig, known: Vocabulary | null, hyper: Word2VecHyperparameters, threads: number): PreparedTraining {
  const { vocabulary, ids } = readCorpus(db, corpusId, config, known)
  return prepareTraining(vocabulary, ids, hyper, threads)
}

/** Puts back the vectors and output weights of the last finished epoch. */
function restore(prepared: PreparedTraining, input: Float32Array, output: Uint8Array): void {
  const views = layoutViews(prepared.memory, prepared.layout)
  views.syn0.set(input)
  for (const array of decodeTensors(output)) {
    if (array.name === 'syn1neg' && views.syn1neg) views.syn1neg.set(array.values)
    if (array.name === 'syn1' && views.syn1) views.syn1.set(array.values)
  }
}

/** Encodes the output weights straight from the shared memory (between epochs) into one buffer kept for the whole
 *  training, so epochs do not leave megabytes of garbage behind. */
function outputWeightsEncoder(prepared: PreparedTraining): () => Uint8Array {
  const views = layoutViews(prepared.memory, prepared.layout)
  const shape = [prepared.layout.vocab, prepared.layout.dim]
  const arrays = [...(views.syn1neg ? [{ name: 'syn1neg', shape, values: views.syn1neg }] : []), ...(views.syn1 ? [{ name: 'syn1', shape, values: views.syn1 }] : [])]
  let bytes: Uint8Array | undefined
  return () => (bytes = encodeTensors(arrays, bytes))
}

class ThreadPool {
  private constructor(private readonly workers: Worker[]) {}

  /** Worker threads with kernel indices firstIndex, firstIndex + 1, … */
  static async start(data: Omit<ThreadData, 'index'>, count: number, firstIndex: number): Promise<ThreadPool> {
    const entry = workerEntry('w2v-thread')
    const workers = Array.from({ length: count }, (_, i) => new Worker(entry.url, { workerData: { ...data, index: firstIndex + i }, execArgv: entry.execArgv }))
    const pool = new ThreadPool(workers)
    try {
      await Promise.all(workers.map((worker) => pool.next(worker)))
    } catch (error) {
      await pool.close()
      throw error
    }
    return pool
  }

  private next(worker: Worker): Promise<ThreadReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (reply: ThreadReply) => {
        cleanup()
        if (reply.type === 'error') reject(new Error(`word2vec thread: ${reply.message}`))
        else resolve(reply)
      }
      const onError = (error: Error) => {
        cleanup()
        reject(error)
      }
      const onExit = (code: number) => {
        cleanup()
        reject(new Error(`a word2vec thread exited with code ${code}`))
      }
      const cleanup = () => {
        worker.off('message', onMessage)
        worker.off('error', onError)
        worker.off('exit', onExit)
      }
      worker.on('message', onMessage)
      worker.on('error', onError)
      worker.on('exit', onExit)
    })
  }

  /** Each thread takes chunks of the epoch until none is left; resolves with their replies. */
  async run(epoch: number): Promise<Extract<ThreadReply, { type: 'done' }>[]> {
    const replies = this.workers.map((worker) => {
      const reply = this.next(worker)
      worker.postMessage({ epoch } satisfies ThreadRequest)
      return reply
    })
    return (await Promise.all(replies)) as Extract<ThreadReply, { type: 'done' }>[]
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}

export async function trainWord2VecRun(name: string, context: Word2VecContext): Promise<{ status: 'done' | 'paused' | 'stopped'; epoch: number }> {
  const { db } = context
  const run = findWord2Vec(db, name)
  if (!run) throw new Error(`no word2vec run named '${name}'`)
  const setStatus = (status: StoredWord2Vec['status'], epoch: number, error: string | null = null) => {
    updateWord2Vec(db, run.id, { status, epoch, error })
    context.emit({ event: 'w2v.changed', data: { name, status, epoch } })
  }
  let pool: ThreadPool | null = null
  try {
    const config = run.config
    const corpus = config.corpus ? findCorpus(db, config.corpus) : undefined
    if (!corpus) throw new Error(`the corpus of '${name}' (${config.corpus ?? 'none'}) no longer exists`)
    const stored = run.epoch > 0 ? loadVectors(db, run.id, run.epoch) : undefined
    const output = stored ? loadOutputWeights(db, run.id) : undefined
    const resumeFrom = stored && output?.epoch === stored.epoch ? stored.epoch : 0
    const known = resumeFrom > 0 && stored!.vectors.counts ? { words: [...stored!.vectors.words], counts: [...stored!.vectors.counts] } : null
    const threads = config.threads ?? availableParallelism()
    const hyper = hyperparameters(config)
    const prepared = prepareFromCorpus(db, corpus.id, config, known, hyper, threads)
    // Each epoch writes megabytes of vectors that this connection never reads back: SQLite's own 2 MiB page cache
    // (better-sqlite3 sets 16 MiB) keeps them from sitting in memory for the rest of the training.
    db.pragma('cache_size = -2000')
    if (resumeFrom > 0) restore(prepared, stored!.vectors.vectors, output!.weights)
    truncateAfter(db, run.id, resumeFrom) // metrics of an epoch that did not finish
    const evaluation = evalSets(config)
    // Analogy scoring runs on TensorFlow.js, loaded only for it (training itself is the WebAssembly kernel).
    const analogyEvaluation = evaluation.analogies ? (await context.startCompute(), await import('../../../models/word2vec/analogy-evaluation.ts')) : null
    // This process trains it: another one (`kotoba w2v pause`, the app) asks it to pause through the database.
    setRunProcess(db, run.id, process.pid)
    requestRunControl(db, run.id, null)
    setStatus('running', resumeFrom)
    if (resumeFrom >= hyper.epochs) {
      setStatus('done', resumeFrom)
      return { status: 'done', epoch: resumeFrom }
    }
    const stop = new Int32Array(new SharedArrayBuffer(4))
    const module = await kernelModule()
    const ownThread = await KernelThread.start(module, prepared.memory, prepared.layout, hyper, 0, hyper.seed)
    pool = await ThreadPool.start({ module, memory: prepared.memory, layout: prepared.layout, settings: hyper, seed: hyper.seed, schedule: prepared.schedule, progress: prepared.progress, chunks: prepared.chunks, cursor: prepared.cursor, stop }, threads - 1, 1)
    const outputWeights = outputWeightsEncoder(prepared)
    const totalWords = prepared.words * hyper.epochs
    let request: 'pause' | 'stop' | null = null
    // From this engine's run controls, or from another process through the run's row.
    const requested = () => context.request() ?? runControl(db, run.id)
    for (let epoch = resumeFrom; epoch < hyper.epochs; epoch++) {
      Atomics.store(prepared.progress, 0, BigInt(epoch * prepared.corpus.length))
      Atomics.store(prepared.cursor, 0, 0)
      const started = performance.now()
      // Progress and pause/stop requests while the threads work: from a timer while this thread waits, and between
      // chunks while it trains its own range (its event loop is busy then).
      const poll = () => {
        const done = Number(Atomics.load(prepared.progress, 0)) / prepared.corpus.length
        context.progress(Math.round(done * prepared.words), totalWords)
        request ??= requested()
        if (request) Atomics.store(stop, 0, 1)
      }
      let polled = performance.now()
      ownThread.seedEpoch(hyper.seed, 0, epoch)
      const others = pool.run(epoch)
      const ownFinished = trainChunks(ownThread, prepared.chunks, prepared.cursor, prepared.progress, prepared.schedule, () => {
        if (performance.now() - polled >= 200) {
          polled = performance.now()
          poll()
        }
        return Atomics.load(stop, 0) !== 0
      })
      const watch = setInterval(poll, 200)
      const replies = [{ report: ownThread.report(), finished: ownFinished }, ...(await others.finally(() => clearInterval(watch)))]
      request ??= requested() // one that came in since the last poll stops at this epoch's end
      if (replies.some((r) => !r.finished)) break
      const report = epochReport(epoch + 1, replies.map((r) => r.report), prepared.words, (performance.now() - started) / 1000)
      const vectors = vectorsBetweenEpochs(prepared) // the threads wait for the next epoch: no copy needed
      const points = [
        { metric: 'train/loss', step: report.epoch, value: report.meanLoss },
        { metric: 'train/words_per_s', step: report.epoch, value: report.wordsPerSecond },
        { metric: 'train/kept_words', step: report.epoch, value: report.keptWords },
      ]
      // Scores only where the vocabulary covers some of the questions (and three pairs for a rank correlation).
      if (evaluation.analogies && analogyEvaluation) {
        const { total } = await analogyEvaluation.evaluateAnalogies(vectors, evaluation.analogies)
        points.push({ metric: 'eval/analogy_evaluated', step: report.epoch, value: total.evaluated })
        if (total.evaluated > 0) points.push({ metric: 'eval/analogy', step: report.epoch, value: 100 * total.accuracy })
      }
      if (evaluation.similarity) {
        const similarity = evaluateSimilarity(vectors, evaluation.similarity)
        if (similarity.evaluated >= 3) points.push({ metric: 'eval/spearman', step: report.epoch, value: similarity.spearman })
      }
      db.transaction(() => {
        saveVectors(db, run.id, report.epoch, vectors)
        saveOutputWeights(db, run.id, report.epoch, outputWeights())
        recordMetrics(db, run.id, points.filter((p) => Number.isFinite(p.value)))
        updateWord2Vec(db, run.id, { epoch: report.epoch })
      })()
      context.emit({ event: 'run.metrics', data: { name, points } })
      context.emit({ event: 'w2v.changed', data: { name, status: 'running', epoch: report.epoch } })
      context.progress(report.epoch * prepared.words, totalWords)
      if (request) break
    }
    const epoch = findWord2Vec(db, name)!.epoch
    const status = request === 'stop' ? 'stopped' : request === 'pause' ? 'paused' : 'done'
    setStatus(status, epoch)
    return { status, epoch }
  } catch (error) {
    setStatus('failed', findWord2Vec(db, name)?.epoch ?? 0, (error as Error).message)
    throw error
  } finally {
    setRunProcess(db, run.id, null)
    requestRunControl(db, run.id, null)
    await pool?.close()
  }
}
