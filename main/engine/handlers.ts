// One handler per API method; params arrive validated.
import { existsSync, statSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { arch, platform } from 'node:os'
import { ApiError, type MethodName, type Result, type RunSummary, type ValidParams } from '../api/contract.ts'
import { withMemory } from './compute/backends.ts'
import { defaultExportFormat, exportCorpus } from './corpus/export.ts'
import { corpusRows, deleteCorpus, findCorpus, listCorpora } from './corpus/repository.ts'
import { searchCorpus } from './corpus/search.ts'
import { corpusStats } from './corpus/stats.ts'
import { splitCorpus } from './corpus/split.ts'
import type { Engine } from './engine.ts'
import { schemaVersion } from './store/database.ts'
import { appVersion } from './version.ts'
import { readModelProto } from '../../models/tokenizer/model-proto.ts'
import { forgetProcessor, processorFor } from './tokenizers/processors.ts'
import { exportTokenizer, findTokenizer, importTokenizer, listTokenizers, needsNfkc, tokenizerModel } from './tokenizers/repository.ts'

type Handlers = {
  [M in MethodName]: (engine: Engine, params: ValidParams<M>) => Promise<Result<M>> | Result<M>
}

/** An absolute path to an existing file, or a not_found / bad_request error naming it. */
function requireFile(file: string): string {
  const path = resolve(file)
  if (!existsSync(path)) throw new ApiError({ code: 'not_found', message: `no such file: ${path}` })
  if (!statSync(path).isFile()) throw new ApiError({ code: 'bad_request', message: `not a file: ${path}` })
  return path
}

function requireTokenizer(engine: Engine, name: string) {
  const tokenizer = findTokenizer(engine.db, name)
  if (!tokenizer) throw new ApiError({ code: 'not_found', message: `no tokenizer named '${name}'` })
  return tokenizer
}

function requireCorpus(engine: Engine, name: string) {
  const corpus = findCorpus(engine.db, name)
  if (!corpus) throw new ApiError({ code: 'not_found', message: `no corpus named '${name}'` })
  return corpus
}

export const handlers: Handlers = {
  'app.info': async (engine) => ({
    version: appVersion,
    dbPath: engine.options.dbPath,
    schemaVersion: schemaVersion(engine.db),
    node: process.version,
    platform: `${platform()}-${arch()}`,
    compute: withMemory(await engine.computeReport()),
  }),

  'devices.get': async (engine) => withMemory(await engine.computeReport()),

  'corpus.list': (engine) => listCorpora(engine.db),

  'corpus.show': (engine, { name }) => requireCorpus(engine, name),

  'corpus.rows': (engine, { name, offset, limit }) => {
    const corpus = requireCorpus(engine, name)
    return { total: corpus.rows, rows: corpusRows(engine.db, corpus.id, offset, limit) }
  },

  'corpus.import': (engine, params) => {
    if (findCorpus(engine.db, params.name)) {
      throw new ApiError({ code: 'conflict', message: `a corpus named '${params.name}' already exists` })
    }
    const files = params.files.map(requireFile)
    const job = engine.jobs.start('corpus.import', { ...params, files }, `Import ${files.map((f) => basename(f)).join(' + ')} as ${params.name}`)
    return { jobId: job.jobId }
  },

  'corpus.delete': (engine, { name }) => {
    const deleted = deleteCorpus(engine.db, name)
    if (deleted) engine.emit({ event: 'corpus.changed', data: { name } })
    return { deleted }
  },

  'corpus.stats': (engine, { name }) => corpusStats(engine.db, requireCorpus(engine, name)),

  'corpus.search': (engine, { name, query, offset, limit }) => searchCorpus(engine.db, requireCorpus(engine, name).id, query, offset, limit),

  'corpus.clean': (engine, { name, ...options }) => {
    requireCorpus(engine, name)
    const job = engine.jobs.start('corpus.clean', { name, ...options }, `Clean ${name}`)
    return { jobId: job.jobId }
  },

  'corpus.split': (engine, { name, dev, test, seed, by }) => {
    const corpus = requireCorpus(engine, name)
    try {
      const result = splitCorpus(engine.db, corpus.id, { dev, test, seed, by })
      engine.emit({ event: 'corpus.changed', data: { name } })
      return result
    } catch (error) {
      throw new ApiError({ code: 'bad_request', message: (error as Error).message })
    }
  },

  'corpus.export': (engine, { name, out, format, split }) => {
    const corpus = requireCorpus(engine, name)
    const chosen = format ?? defaultExportFormat[corpus.kind]
    const path = resolve(out)
    try {
      return { path, rows: exportCorpus(engine.db, corpus, path, chosen, split), format: chosen }
    } catch (error) {
      throw new ApiError({ code: 'bad_request', message: (error as Error).message })
    }
  },

  'tokenizer.list': (engine) => listTokenizers(engine.db),
  'tokenizer.show': (engine, { name }) => requireTokenizer(engine, name),

  'tokenizer.train': (engine, params) => {
    requireCorpus(engine, params.corpus)
    if (findTokenizer(engine.db, params.name)) throw new ApiError({ code: 'conflict', message: `a tokenizer named '${params.name}' already exists` })
    if (params.type === 'unigram') throw new ApiError({ code: 'unavailable', message: 'unigram training is not available yet: use type bpe' })
    const job = engine.jobs.start('tokenizer.train', params, `Train ${params.type} tokenizer ${params.name} (${params.vocabSize}) on ${params.corpus}`)
    return { jobId: job.jobId }
  },

  'tokenizer.import': async (engine, { name, file }) => {
    if (findTokenizer(engine.db, name)) throw new ApiError({ code: 'conflict', message: `a tokenizer named '${name}' already exists` })
    const path = requireFile(file)
    try {
      return await importTokenizer(engine.db, name, path)
    } catch (error) {
      throw new ApiError({ code: 'bad_request', message: `${basename(path)}: ${(error as Error).message}` })
    }
  },

  'tokenizer.export': async (engine, { name, out }) => {
    const path = resolve(out)
    return { path, bytes: await exportTokenizer(engine.db, requireTokenizer(engine, name).id, path) }
  },

  'tokenizer.delete': (engine, { name }) => {
    const tokenizer = findTokenizer(engine.db, name)
    if (!tokenizer) return { deleted: false }
    forgetProcessor(engine.db, tokenizer.id)
    engine.db.prepare('DELETE FROM tokenizers WHERE id = ?').run(tokenizer.id)
    return { deleted: true }
  },

  'tokenizer.vocab': (engine, { name, offset, limit }) => {
    const { pieces } = readModelProto(tokenizerModel(engine.db, requireTokenizer(engine, name).id))
    return { total: pieces.length, pieces: pieces.slice(offset, offset + limit).map((p, i) => ({ id: offset + i, ...p })) }
  },

  'tokenizer.encode': async (engine, { name, lines }) => {
    const tokenizer = requireTokenizer(engine, name)
    const processor = await processorFor(engine.db, tokenizer.id)
    const texts = needsNfkc(engine.db, tokenizer.id) ? lines.map((line) => line.normalize('NFKC')) : lines
    return { pieces: texts.map((line) => processor.encodePieces(line)), ids: texts.map((line) => processor.encodeIds(line)) }
  },

  'tokenizer.decode': async (engine, { name, ids }) => {
    const tokenizer = requireTokenizer(engine, name)
    const outOfRange = ids.flat().find((id) => id >= tokenizer.vocabSize)
    if (outOfRange !== undefined) throw new ApiError({ code: 'bad_request', message: `id ${outOfRange} is outside the vocabulary (size ${tokenizer.vocabSize})` })
    const processor = await processorFor(engine.db, tokenizer.id)
    return { lines: ids.map((row) => String(processor.decodeIds(Int32Array.from(row)))) }
  },

  'jobs.list': (engine) => engine.jobs.list(),
  'jobs.get': (engine, { jobId }) => engine.jobs.get(jobId),
  'jobs.cancel': (engine, { jobId }) => engine.jobs.cancel(jobId),

  'runs.list': (engine) =>
    (
      engine.db
        .prepare('SELECT id, name, model, status, step, created_at, updated_at FROM runs ORDER BY created_at DESC, id DESC')
        .all() as {
        id: number
        name: string
        model: string
        status: RunSummary['status']
        step: number
        created_at: string
        updated_at: string
      }[]
    ).map((r) => ({ id: r.id, name: r.name, model: r.model, status: r.status, step: r.step, createdAt: r.created_at, updatedAt: r.updated_at })),
}
