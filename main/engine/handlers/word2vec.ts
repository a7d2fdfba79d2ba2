// The w2v.* methods: training runs as jobs, queries over stored vectors (cached per run and epoch), evaluation,
// word2vec/projector files.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { isDiskFull } from '../store/conditions.ts'
import { basename, dirname, join, resolve } from 'node:path'
import { ApiError, Word2VecConfig, type Result } from '../../api/contract.ts'
import { message } from '../../api/messages.ts'
import { fromProjectorTsv, toProjectorTsv, toWord2VecBinary, toWord2VecText, VectorFileError } from '../../../models/word2vec/formats.ts'
import { analogy, neighbours, oddOneOut, similarity, UnknownWordError } from '../../../models/word2vec/queries.ts'
import { WordVectors } from '../../../models/word2vec/word-vectors.ts'
import { decodeTensors } from '../../../models/train/checkpoint-codec.ts'
import { loadRunTokenizer } from '../training/data.ts'
import type { Engine } from '../engine.ts'
import { findRun, loadCheckpoint, runNameTaken, trainedElsewhere } from '../training/repository.ts'
import { createWord2Vec, epochLog, findWord2Vec, listWord2Vec, loadVectors, saveVectors, storedEpochs, summaryOf, type StoredWord2Vec } from '../word2vec/repository.ts'
import { controlRunElsewhere, requireCorpus, requireFile, requireOutputFile, runJobToEnd, type HandlersFor } from './common.ts'

type Word2VecMethod = Extract<keyof typeof import('../../api/word2vec-contract.ts').word2vecMethods, string>

const isDirectory = (file: string): boolean => existsSync(file) && statSync(file).isDirectory()

/** The projector's two files: a folder holding vectors.tsv and metadata.tsv, or a vectors file with metadata.tsv (or
 *  its name with 'vectors' turned into 'metadata') beside it. */
function projectorFiles(file: string): { vectors: string; metadata: string } {
  const path = resolve(file)
  const vectors = isDirectory(path) ? join(path, 'vectors.tsv') : requireFile(path)
  const candidates = [join(dirname(vectors), basename(vectors).replace(/vectors/i, 'metadata')), join(dirname(vectors), 'metadata.tsv')]
  const metadata = candidates.find((candidate) => candidate !== vectors && existsSync(candidate))
  if (!existsSync(vectors)) throw new ApiError({ code: 'not_found', message: `no vectors.tsv in ${path}` })
  if (!metadata) throw new ApiError({ code: 'bad_request', message: `${vectors}: the words come from a metadata.tsv beside it, and there is none` })
  return { vectors, metadata }
}

function requireWord2Vec(engine: Engine, name: string): StoredWord2Vec {
  const run = findWord2Vec(engine.db, name)
  if (!run) throw new ApiError({ code: 'not_found', message: `no word2vec embeddings named '${name}'` })
  return run
}

/** The last few vector sets read, so a run of queries does not reread and renormalise them. */
const cache = new Map<string, { epoch: number; vectors: WordVectors }>()

function vectorsOf(engine: Engine, name: string, epoch: number | undefined): { epoch: number; vectors: WordVectors } {
  const run = requireWord2Vec(engine, name)
  const key = `${engine.options.dbPath}|${run.id}|${epoch ?? 'last'}|${run.updatedAt}`
  const hit = cache.get(key)
  if (hit) return hit
  const loaded = loadVectors(engine.db, run.id, epoch)
  if (!loaded) throw new ApiError({ code: 'not_found', message: epoch === undefined ? `'${name}' has no vectors yet (its first epoch has not finished)` : `'${name}' has no vectors for epoch ${epoch} (stored: ${storedEpochs(engine.db, run.id).join(', ') || 'none'})` })
  cache.set(key, loaded)
  while (cache.size > 4) cache.delete(cache.keys().next().value!)
  return loaded
}

/** Unknown words are the user's input: a bad request that names them. */
function query<T>(compute: () => T): T {
  try {
    return compute()
  } catch (error) {
    if (error instanceof UnknownWordError) throw new ApiError({ code: 'bad_request', message: error.message })
    throw error
  }
}

function detail(engine: Engine, run: StoredWord2Vec): Result<'w2v.show'> {
  return { ...summaryOf(engine.db, run), config: run.config, epochLog: epochLog(engine.db, run.id), storedEpochs: storedEpochs(engine.db, run.id) }
}

export const word2vecHandlers: HandlersFor<Word2VecMethod> = {
  'w2v.list': (engine) => listWord2Vec(engine.db).map((run) => summaryOf(engine.db, run)),
  'w2v.show': (engine, { name }) => detail(engine, requireWord2Vec(engine, name)),

  'w2v.train': (engine, { name, start, ...params }) => {
    if (runNameTaken(engine.db, name)) throw new ApiError({ code: 'conflict', message: `a run named '${name}' already exists (resume it with w2v resume, or pick another name)` })
    const corpus = requireCorpus(engine, params.corpus)
    if (params.negative === 0 && !params.hs) throw new ApiError({ code: 'bad_request', message: 'negative 0 without hierarchical softmax leaves nothing to train: use --negative K, --hs, or both' })
    for (const file of [params.analogies, params.similarity]) if (file) requireFile(file)
    const config = Word2VecConfig.parse({ ...params, analogies: params.analogies && resolve(params.analogies), similarity: params.similarity && resolve(params.similarity) })
    const run = createWord2Vec(engine.db, name, config, corpus.id)
    return { jobId: start ? engine.startWord2Vec(name) : null, run: summaryOf(engine.db, run) }
  },

  'w2v.resume': (engine, { name }) => {
    const run = requireWord2Vec(engine, name)
    if (run.config.corpus === null) throw new ApiError({ code: 'bad_request', message: `'${name}' was imported from a file; there is nothing to train` })
    if (engine.runJob(name) || trainedElsewhere(engine.db, run.id)) throw new ApiError({ code: 'conflict', message: `'${name}' is already training` })
    if (run.status === 'done') throw new ApiError({ code: 'conflict', message: `'${name}' finished its ${run.config.epochs} epochs` })
    return { jobId: engine.startWord2Vec(name) }
  },

  'w2v.pause': async (engine, { name }) => {
    const run = requireWord2Vec(engine, name)
    const jobId = engine.runJob(name)
    if (!jobId && trainedElsewhere(engine.db, run.id)) {
      // Another process (e.g. `kotoba w2v train` in a terminal) trains it: it stops at the next poll.
      await controlRunElsewhere(engine, run.id, 'pause', () => requireWord2Vec(engine, name).status === 'running')
      return summaryOf(engine.db, requireWord2Vec(engine, name))
    }
    if (!jobId) throw new ApiError({ code: 'conflict', message: `'${name}' is not training (status: ${run.status})` })
    engine.jobs.requestStop(jobId, 'pause')
    await engine.jobs.wait(jobId)
    return summaryOf(engine.db, requireWord2Vec(engine, name))
  },

  'w2v.delete': (engine, { name }) => {
    const run = findWord2Vec(engine.db, name)
    if (!run) return { deleted: false }
    if (engine.runJob(name) || trainedElsewhere(engine.db, run.id)) throw new ApiError({ code: 'conflict', message: `'${name}' is training; pause it first` })
    engine.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id)
    return { deleted: true }
  },

  'w2v.neighbors': (engine, { name, epoch, word, k }) => {
    const stored = vectorsOf(engine, name, epoch)
    return { word, epoch: stored.epoch, neighbours: query(() => neighbours(stored.vectors, word, k)) }
  },

  'w2v.analogy': (engine, { name, epoch, a, b, c, k, method }) => {
    const stored = vectorsOf(engine, name, epoch)
    return { epoch: stored.epoch, method, answers: query(() => analogy(stored.vectors, a, b, c, k, method)) }
  },

  'w2v.similarity': (engine, { name, epoch, first, second }) => {
    const stored = vectorsOf(engine, name, epoch)
    return { epoch: stored.epoch, similarity: query(() => similarity(stored.vectors, first, second)) }
  },

  'w2v.oddOneOut': (engine, { name, epoch, words }) => {
    const stored = vectorsOf(engine, name, epoch)
    return { epoch: stored.epoch, ...query(() => oddOneOut(stored.vectors, words)) }
  },

  'w2v.eval': async (engine, params) => {
    requireWord2Vec(engine, params.name)
    for (const file of [params.analogies, params.similarity]) if (file) requireFile(file)
    return (await runJobToEnd(engine, 'w2v.eval', params, message('jobWord2vecEval', { name: params.name }))) as Result<'w2v.eval'>
  },

  'w2v.export': (engine, { name, epoch, format, out, force }) => {
    const { vectors } = vectorsOf(engine, name, epoch)
    // A projector export is a folder of two files: the folder may be new, the files inside are checked.
    const path = format === 'projector' ? resolve(out) : requireOutputFile(out, force)
    try {
      if (format === 'projector') {
        if (existsSync(path)) requireOutputFile(join(path, 'vectors.tsv'), force)
        else mkdirSync(requireOutputFile(path, false))
        requireOutputFile(join(path, 'metadata.tsv'), force)
        const files = toProjectorTsv(vectors)
        writeFileSync(join(path, 'vectors.tsv'), files.vectors)
        writeFileSync(join(path, 'metadata.tsv'), files.metadata)
        return { files: [join(path, 'vectors.tsv'), join(path, 'metadata.tsv')], words: vectors.size, dim: vectors.dim }
      }
      writeFileSync(path, format === 'word2vec' ? toWord2VecText(vectors) : toWord2VecBinary(vectors))
      return { files: [path], words: vectors.size, dim: vectors.dim }
    } catch (error) {
      if (error instanceof ApiError || isDiskFull(error)) throw error
      if (error instanceof VectorFileError) throw new ApiError({ code: 'bad_request', message: error.message })
      throw new ApiError({ code: 'bad_request', message: `cannot write ${path}: ${(error as Error).message}` })
    }
  },

  'w2v.import': async (engine, { name, file, format, maxVocab }) => {
    if (runNameTaken(engine.db, name)) throw new ApiError({ code: 'conflict', message: `a run named '${name}' already exists` })
    const projector = format === 'projector' || (format === undefined && (isDirectory(file) || file.toLowerCase().endsWith('.tsv')))
    if (!projector) {
      // Streamed in a job (progress, cancel), so a multi-gigabyte file neither blocks the engine nor meets Node's 2 GiB read limit.
      const path = requireFile(file)
      const params = { name, file: path, ...(format && { format }), ...(maxVocab !== undefined && { maxVocab }) }
      return (await runJobToEnd(engine, 'w2v.import', params, message('jobImport', { files: basename(path), name }))) as Result<'w2v.import'>
    }
    if (maxVocab !== undefined) throw new ApiError({ code: 'bad_request', message: 'maxVocab (--max-vocab) applies to word2vec and GloVe files, not projector TSVs' })
    const files = projectorFiles(file)
    let vectors: WordVectors
    try {
      vectors = fromProjectorTsv(readFileSync(files.vectors, 'utf8'), readFileSync(files.metadata, 'utf8'))
    } catch (error) {
      // Projector errors name vectors.tsv or metadata.tsv themselves: the folder says where.
      if (error instanceof VectorFileError) throw new ApiError({ code: 'bad_request', message: `${dirname(files.vectors)}: ${error.message}` })
      throw error
    }
    const config = Word2VecConfig.parse({ corpus: null, dim: vectors.dim, epochs: 1, analogies: null, similarity: null, origin: `imported from ${basename(files.vectors)}` })
    engine.db.transaction(() => saveVectors(engine.db, createWord2Vec(engine.db, name, config, null, 'done').id, 0, vectors))()
    return summaryOf(engine.db, requireWord2Vec(engine, name))
  },

  'w2v.fromRun': async (engine, { name, run: runName, side, checkpoint }) => {
    if (runNameTaken(engine.db, name)) throw new ApiError({ code: 'conflict', message: `a run named '${name}' already exists` })
    const run = findRun(engine.db, runName)
    if (!run) throw new ApiError({ code: 'not_found', message: `no translation or dialogue run named '${runName}'` })
    const stored = loadCheckpoint(engine.db, run.id, checkpoint === undefined ? 'best' : { step: checkpoint })
    if (!stored) throw new ApiError({ code: 'not_found', message: checkpoint === undefined ? `run '${runName}' has no checkpoint yet` : `run '${runName}' has no checkpoint at step ${checkpoint}` })
    const arrays = decodeTensors(stored.weights)
    // Dialogue models share one table; a Transformer with shareEmbeddings 'all' keeps only the target's.
    const wanted = side === 'source' ? ['src_embedding/table', 'tgt_embedding/table', 'embedding/table'] : ['tgt_embedding/table', 'embedding/table']
    const table = wanted.map((n) => arrays.find((a) => a.name === n)).find((a) => a !== undefined)
    if (!table || table.shape.length !== 2) throw new ApiError({ code: 'bad_request', message: `run '${runName}' has no ${side} embedding table` })
    const tokenizer = await loadRunTokenizer(engine.db, side === 'source' || run.config.model === 'hred' || run.config.model === 'vhred' ? run.config.tokenizer : run.config.tgtTokenizer)
    if (tokenizer.pieces.length !== table.shape[0]) throw new ApiError({ code: 'bad_request', message: `the ${side} tokenizer has ${tokenizer.pieces.length} pieces but the table ${table.shape[0]} rows` })
    const vectors = new WordVectors(tokenizer.pieces, table.shape[1]!, table.values)
    const config = Word2VecConfig.parse({ corpus: null, dim: vectors.dim, epochs: 1, analogies: null, similarity: null, origin: `${side} embeddings of ${runName} (step ${stored.step})` })
    engine.db.transaction(() => saveVectors(engine.db, createWord2Vec(engine.db, name, config, null, 'done').id, 0, vectors))()
    return summaryOf(engine.db, requireWord2Vec(engine, name))
  },

  'w2v.vectors': (engine, { name, epoch, limit }) => {
    const stored = vectorsOf(engine, name, epoch)
    const count = Math.min(limit, stored.vectors.size)
    const rows = stored.vectors.vectors.subarray(0, count * stored.vectors.dim)
    return {
      epoch: stored.epoch,
      words: stored.vectors.words.slice(0, count),
      counts: stored.vectors.counts ? stored.vectors.counts.slice(0, count) : null,
      labels: Object.fromEntries(Object.entries(stored.vectors.labels).map(([column, values]) => [column, values.slice(0, count)])),
      dim: stored.vectors.dim,
      vectors: Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength).toString('base64'),
    }
  },
}
