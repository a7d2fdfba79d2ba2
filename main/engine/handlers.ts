// One handler per API method; params arrive validated.
import { basename, resolve } from 'node:path'
import { arch, platform } from 'node:os'
import { ApiError, LayerSparsity, methods, SearchOptions, type ChatDetail, type MethodName, type ReinforcementConfig, type Result, type RunConfig, type RunSummary, type ValidParams } from '../api/contract.ts'
import { message } from '../api/messages.ts'
import { modelFamilies, resolveRunConfig } from './training/presets.ts'
import { requireSplits } from './training/data.ts'
import { headStatisticsOf, meanOfHeads } from './training/attention-summary.ts'
import { appendTurn, createChat, deleteChat, listChats, replaceLastModelTurn, showChat } from './training/chat-store.ts'
import { dialogueScores } from '../../models/metrics/dialogue.ts'
import {
  attentionAtStep,
  attentionGrid,
  attentionOverview,
  createRun,
  findRun,
  listCheckpoints,
  listRuns,
  loadCheckpoint,
  markBestCheckpoint,
  metricSeries,
  runNameTaken,
  trainedElsewhere,
  testEvaluations,
  sampleSteps,
  samplesAt,
  saveCheckpoint,
  updateRun,
  type CheckpointBlobs,
  type StoredCheckpoint,
  type StoredRun,
} from './training/repository.ts'
import { defaultExportFormat, exportCorpus } from './corpus/export.ts'
import { writeMetricsCsv, writeTensorboardFolder } from './export/run-metrics.ts'
import { exportRecipe } from './export/recipe.ts'
import { corpusRows, corpusSample, deleteCorpus, findCorpus, listCorpora } from './corpus/repository.ts'
import { searchCorpus } from './corpus/search.ts'
import { corpusStats } from './corpus/stats.ts'
import { splitCorpus } from './corpus/split.ts'
import type { Engine } from './engine.ts'
import { controlRunElsewhere, requireCorpus, requireFile, requireOutputFile, runJobToEnd } from './handlers/common.ts'
import { word2vecHandlers } from './handlers/word2vec.ts'
import { schemaVersion } from './store/database.ts'
import { appVersion } from './version.ts'
import { readModelProto } from '../../models/tokenizer/model-proto.ts'
import { forgetProcessor, processorFor } from './tokenizers/processors.ts'
import { tokenizerStats } from './tokenizers/stats.ts'
import { compressionEntries, latencySentence } from './training/compression-report.ts'
import { decodeTensors, encodeTensors } from '../../models/train/checkpoint-codec.ts'
import { quantizeWeights } from '../../models/quantization/quantize-weights.ts'
import { exportTokenizer, findTokenizer, importTokenizer, listTokenizers, needsNfkc, tokenizerModel } from './tokenizers/repository.ts'

type Handlers = {
  [M in MethodName]: (engine: Engine, params: ValidParams<M>) => Promise<Result<M>> | Result<M>
}


function requireTokenizer(engine: Engine, name: string) {
  const tokenizer = findTokenizer(engine.db, name)
  if (!tokenizer) throw new ApiError({ code: 'not_found', message: `no tokenizer named '${name}'` })
  return tokenizer
}

function requireRun(engine: Engine, name: string): StoredRun {
  const run = findRun(engine.db, name)
  if (!run) throw new ApiError({ code: 'not_found', message: `no run named '${name}'` })
  return run
}

/** A run that trains: every run but an int8 quantisation, whose checkpoint is for inference. */
function requireTrainableRun(engine: Engine, name: string, verb: string): StoredRun {
  const run = requireRun(engine, name)
  const quantized = run.config.quantization
  if (quantized) throw new ApiError({ code: 'bad_request', message: `run '${name}' is an int8 quantisation of '${quantized.from.run}' for inference; ${verb} '${quantized.from.run}' instead` })
  return run
}

function toSummary({ config: _config, error: _error, ...summary }: StoredRun): RunSummary {
  return summary
}

function requireDialogueRun(engine: Engine, name: string): StoredRun {
  const run = requireRun(engine, name)
  if (run.config.model !== 'hred' && run.config.model !== 'vhred') throw new ApiError({ code: 'bad_request', message: `run '${name}' is a ${run.config.model} model; chat needs an hred or vhred run` })
  return run
}

/** A run's reinforcement settings with the defaults of its kind, or a refusal of what does not fit it. */
function reinforcementFor(run: StoredRun, asked: NonNullable<ValidParams<'runs.finetune'>['reinforcement']>): ReinforcementConfig {
  const dialogue = run.config.model === 'hred' || run.config.model === 'vhred'
  const refuse = (message: string) => {
    throw new ApiError({ code: 'bad_request', message })
  }
  if (dialogue) {
    if (asked.algorithm === 'scst' || (asked.reward && asked.reward !== 'dialogue')) {
      refuse(`run '${run.name}' is a ${run.config.model} dialogue model: it learns by REINFORCE from the dialogue rewards (--rl reinforce --reward dialogue); sentence chrF/BLEU against references are for translation runs`)
    }
    return { algorithm: 'reinforce', reward: 'dialogue', weight: asked.weight ?? 0.5, temperature: asked.temperature }
  }
  if (asked.algorithm === 'reinforce' || asked.reward === 'dialogue') {
    refuse(`run '${run.name}' is a translation model: it learns by self-critical training from sentence chrF or BLEU (--rl scst --reward chrf|bleu); the dialogue rewards are for hred/vhred runs`)
  }
  return { algorithm: 'scst', reward: asked.reward === 'bleu' ? 'bleu' : 'chrf', weight: asked.weight ?? 0.9, temperature: asked.temperature }
}

/** The parent's checkpoint a new run starts from, or a clear refusal. */
function parentCheckpoint(engine: Engine, parent: StoredRun, which: 'best' | 'latest' | number, verb: string): StoredCheckpoint {
  const checkpoint = loadCheckpoint(engine.db, parent.id, typeof which === 'number' ? { step: which } : which)
  if (checkpoint) return checkpoint
  const what = typeof which === 'number' ? `checkpoint at step ${which}` : 'checkpoint'
  throw new ApiError({ code: 'bad_request', message: `run '${parent.name}' has no ${what} to ${verb}; train it first` })
}

/**
 * A new run over the parent's corpus and tokenizers whose one checkpoint, at `step`, is `blobs`; the parent is never
 * written to. `done` runs (an int8 copy) get that checkpoint marked best; `paused` ones resume from it.
 */
function insertDerivedRun(engine: Engine, parent: StoredRun, name: string, config: RunConfig, step: number, blobs: CheckpointBlobs, status: 'paused' | 'done'): RunSummary {
  if (runNameTaken(engine.db, name)) throw new ApiError({ code: 'conflict', message: `a run named '${name}' already exists` })
  const ids = engine.db.prepare('SELECT corpus_id, tokenizer_id FROM runs WHERE id = ?').get(parent.id) as { corpus_id: number; tokenizer_id: number }
  engine.db.transaction(() => {
    const run = createRun(engine.db, name, config, ids.corpus_id, ids.tokenizer_id)
    const checkpointId = saveCheckpoint(engine.db, run.id, step, blobs)
    if (status === 'done') markBestCheckpoint(engine.db, run.id, checkpointId)
    updateRun(engine.db, run.id, { status, step })
  })()
  engine.emit({ event: 'run.changed', data: { name, status, step } })
  return toSummary(requireRun(engine, name))
}

/**
 * A new run that starts from a parent's checkpoint (pruning, fine-tuning): the checkpoint is copied in as its first,
 * so training resumes from it exactly (optimizer moments too), and keep-best starts afresh, since the new run's own
 * scores are what count. Starts the new run.
 */
function forkRun(engine: Engine, parent: StoredRun, checkpoint: StoredCheckpoint, name: string, config: RunConfig): { run: RunSummary; jobId: string } {
  const trainer = checkpoint.meta['trainer'] as Record<string, unknown>
  const blobs = { weights: checkpoint.weights, optimizer: checkpoint.optimizer, meta: { trainer: { ...trainer, best: null, badValidations: 0 } } }
  const run = insertDerivedRun(engine, parent, name, config, checkpoint.step, blobs, 'paused')
  return { run, jobId: engine.startRun(name) }
}

function runDetail(engine: Engine, run: StoredRun): Result<'runs.show'> {
  const parameters = metricSeries(engine.db, run.id, ['model/parameters'], -1).series['model/parameters']?.[0]?.value ?? null
  const latest = run.config.pruning ? loadCheckpoint(engine.db, run.id, 'latest') : undefined
  const sparsity = LayerSparsity.array().safeParse(latest?.meta['sparsity'])
  return {
    ...toSummary(run),
    config: run.config,
    error: run.error,
    parameters,
    checkpoints: listCheckpoints(engine.db, run.id),
    jobId: engine.runJob(run.name),
    sparsity: sparsity.success ? sparsity.data : null,
  }
}

/** A word-level distillation teacher: a translation run over the same tokenizers, at a checkpoint it has. */
function teacherFor(engine: Engine, config: RunConfig, request: { teacher: string; weight: number; checkpoint?: number | undefined }): NonNullable<RunConfig['distillation']> {
  const teacher = requireRun(engine, request.teacher)
  const refuse = (message: string): never => {
    throw new ApiError({ code: 'bad_request', message })
  }
  if (config.model !== 'seq2seq' && config.model !== 'transformer') refuse('word-level distillation trains translation models (seq2seq or transformer)')
  if (teacher.config.model !== 'seq2seq' && teacher.config.model !== 'transformer') refuse(`teacher '${teacher.name}' is a ${teacher.config.model} dialogue model`)
  if (teacher.config.tokenizer !== config.tokenizer || teacher.config.tgtTokenizer !== config.tgtTokenizer) {
    refuse(`teacher '${teacher.name}' uses tokenizers ${teacher.config.tokenizer}/${teacher.config.tgtTokenizer}; the student must use the same (the distributions are over its vocabulary)`)
  }
  const checkpoint = loadCheckpoint(engine.db, teacher.id, request.checkpoint === undefined ? 'best' : { step: request.checkpoint })
  if (!checkpoint) refuse(`teacher '${teacher.name}' has no ${request.checkpoint === undefined ? 'checkpoint' : `checkpoint at step ${request.checkpoint}`}; train it first`)
  return { teacher: teacher.name, checkpointStep: checkpoint!.step, weight: request.weight }
}

/** Asks a training run to checkpoint and pause or stop, and waits until it has. */
async function stopRunJob(engine: Engine, name: string, kind: 'pause' | 'stop'): Promise<StoredRun> {
  const run = requireRun(engine, name)
  const jobId = engine.runJob(name)
  if (!jobId && trainedElsewhere(engine.db, run.id)) {
    await controlRunElsewhere(engine, run.id, kind, () => requireRun(engine, name).status === 'running')
    return requireRun(engine, name)
  }
  if (!jobId) {
    if (kind === 'stop' && run.status === 'paused') {
      updateRun(engine.db, run.id, { status: 'stopped' })
      return requireRun(engine, name)
    }
    throw new ApiError({ code: 'conflict', message: `run '${name}' is not training (status: ${run.status})` })
  }
  engine.jobs.requestStop(jobId, kind)
  await engine.jobs.wait(jobId)
  return requireRun(engine, name)
}

/** Runs a job and answers with what it returned (its progress still shows in the jobs tray meanwhile). */
function requireChat(engine: Engine, id: number): ChatDetail {
  try {
    return showChat(engine.db, id)
  } catch (error) {
    throw new ApiError({ code: 'not_found', message: (error as Error).message })
  }
}

/** What a stored model turn remembers: the decoding settings, the reply's score and the model's insight. */
function replyMeta(reply: Result<'chat.reply'>, search: Record<string, unknown>): Record<string, unknown> {
  return { search, score: reply.replies[0]?.score ?? null, checkpointStep: reply.checkpointStep, insight: reply.insight }
}



/** Lines a translate request may have to be answered by the warm inference worker (more: a translate job). */
const warmLineLimit = 64

/** A chat reply from the warm inference worker (the model stays loaded for the next turn). */
async function chatReplyOf(engine: Engine, params: ValidParams<'chat.reply'>): Promise<Result<'chat.reply'>> {
  return (await engine.inference.call('chat', params)) as Result<'chat.reply'>
}

export const handlers: Handlers = {
  'app.info': async (engine) => ({
    version: appVersion,
    dbPath: engine.options.dbPath,
    schemaVersion: schemaVersion(engine.db),
    node: process.version,
    platform: `${platform()}-${arch()}`,
    compute: await engine.computeReport(),
  }),

  'devices.get': (engine) => engine.computeReport(),

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
    const job = engine.jobs.start('corpus.import', { ...params, files }, message('jobImport', { files: files.map((f) => basename(f)).join(' + '), name: params.name }))
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
    const job = engine.jobs.start('corpus.clean', { name, ...options }, message('jobClean', { name }))
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

  'corpus.export': (engine, { name, out, format, split, force }) => {
    const corpus = requireCorpus(engine, name)
    const chosen = format ?? defaultExportFormat[corpus.kind]
    const path = requireOutputFile(out, force)
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
    const job = engine.jobs.start('tokenizer.train', params, message('jobTokenizer', { type: params.type, name: params.name, vocabSize: params.vocabSize, corpus: params.corpus }))
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

  'tokenizer.export': async (engine, { name, out, force }) => {
    const path = requireOutputFile(out, force)
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

  'tokenizer.stats': async (engine, { name, corpus, side, limit }) => {
    const tokenizer = requireTokenizer(engine, name)
    const trainedOn = engine.db.prepare('SELECT c.name FROM tokenizers t JOIN corpora c ON c.id = t.corpus_id WHERE t.id = ?').get(tokenizer.id) as { name: string } | undefined
    const corpusName = corpus ?? trainedOn?.name
    if (!corpusName) throw new ApiError({ code: 'bad_request', message: `tokenizer '${name}' was imported, not trained here: name a corpus to measure it on` })
    const chosen = requireCorpus(engine, corpusName)
    const texts = corpusSample(engine.db, chosen.id, side ?? tokenizer.side, limit)
    return tokenizerStats(engine.db, tokenizer.id, texts, chosen.name)
  },

  'jobs.list': (engine) => engine.jobs.list(),
  'jobs.get': (engine, { jobId }) => engine.jobs.get(jobId),
  'jobs.cancel': (engine, { jobId }) => engine.jobs.cancel(jobId),

  'runs.list': (engine) => listRuns(engine.db).map(toSummary),

  'runs.presets': () => modelFamilies(),

  'runs.evaluations': (engine, { name }) => testEvaluations(engine.db, requireRun(engine, name).id),

  'runs.create': (engine, params) => {
    if (runNameTaken(engine.db, params.name)) throw new ApiError({ code: 'conflict', message: `a run named '${params.name}' already exists` })
    const corpus = requireCorpus(engine, params.corpus)
    const dialogue = params.model === 'hred' || params.model === 'vhred'
    // A seq2seq or Transformer run on a dialogue corpus is the single-turn baseline: (previous turn → next turn).
    const accepted = dialogue ? ['dialogue'] : ['parallel', 'dialogue']
    if (!accepted.includes(corpus.kind)) {
      throw new ApiError({ code: 'bad_request', message: `corpus '${corpus.name}' is ${corpus.kind}; ${dialogue ? `${params.model} runs need a dialogue corpus (JSONL)` : 'translation runs need a parallel corpus (or a dialogue corpus, for a previous-turn → next-turn baseline)'}` })
    }
    if (corpus.kind === 'dialogue' && params.tgtTokenizer && params.tgtTokenizer !== params.tokenizer) throw new ApiError({ code: 'bad_request', message: 'runs on a dialogue corpus use one tokenizer for both sides' })
    const tokenizer = requireTokenizer(engine, params.tokenizer)
    if (params.tgtTokenizer) requireTokenizer(engine, params.tgtTokenizer)
    // A run that cannot start is never created: the splits it trains and validates on must exist.
    try {
      requireSplits(engine.db, { corpus: corpus.name })
    } catch (error) {
      throw new ApiError({ code: 'bad_request', message: (error as Error).message })
    }
    let config: RunConfig
    try {
      config = resolveRunConfig(params, corpus.kind)
    } catch (error) {
      throw new ApiError({ code: 'bad_request', message: (error as Error).message })
    }
    if (params.distillation) config = { ...config, distillation: teacherFor(engine, config, params.distillation) }
    const run = createRun(engine.db, params.name, config, corpus.id, tokenizer.id)
    engine.emit({ event: 'run.changed', data: { name: run.name, status: run.status, step: run.step } })
    return runDetail(engine, run)
  },

  'runs.show': (engine, { name }) => runDetail(engine, requireRun(engine, name)),

  'runs.start': (engine, { name }) => {
    const run = requireTrainableRun(engine, name, 'train')
    if (engine.runJob(name) || trainedElsewhere(engine.db, run.id)) throw new ApiError({ code: 'conflict', message: `run '${name}' is already training` })
    if (run.step >= run.config.training.maxSteps && run.status === 'done') {
      throw new ApiError({ code: 'conflict', message: `run '${name}' reached its ${run.config.training.maxSteps} steps; extend it to train further` })
    }
    return { jobId: engine.startRun(name) }
  },

  'runs.prune': (engine, params) => {
    const parent = requireTrainableRun(engine, params.name, 'prune')
    const checkpoint = parentCheckpoint(engine, parent, params.checkpoint, 'prune')
    const name = params.into ?? `${parent.name}-pruned${Math.round(100 * params.sparsity)}`
    const start = checkpoint.step
    // Gradual: Zhu & Gupta's ramp over two thirds of the fine-tuning, masks updated ten times; the rest recovers.
    const ramp = params.schedule === 'one-shot' ? 0 : Math.max(1, Math.round((2 * params.steps) / 3))
    return forkRun(engine, parent, checkpoint, name, {
      ...parent.config,
      training: { ...parent.config.training, maxSteps: start + params.steps },
      pruning: {
        sparsity: params.sparsity,
        scope: params.scope,
        startStep: start,
        endStep: start + ramp,
        every: Math.max(1, Math.round(ramp / 10)),
        from: { run: parent.name, step: start },
      },
    })
  },

  'runs.quantize': (engine, params) => {
    const parent = requireTrainableRun(engine, params.name, 'quantise')
    const checkpoint = parentCheckpoint(engine, parent, params.checkpoint, 'quantise')
    const name = params.into ?? `${parent.name}-int8`
    if (runNameTaken(engine.db, name)) throw new ApiError({ code: 'conflict', message: `a run named '${name}' already exists` })
    const { arrays, layers } = quantizeWeights(decodeTensors(checkpoint.weights), { embeddings: params.embeddings, output: params.output })
    const weights = encodeTensors(arrays)
    const config: RunConfig = {
      ...parent.config,
      training: { ...parent.config.training, maxSteps: checkpoint.step },
      quantization: { scheme: 'int8', from: { run: parent.name, step: checkpoint.step }, embeddings: params.embeddings, output: params.output },
    }
    const run = insertDerivedRun(engine, parent, name, config, checkpoint.step, { weights, optimizer: null, meta: { quantized: layers } }, 'done')
    return { run, layers, bytes: weights.byteLength, floatBytes: checkpoint.weights.byteLength }
  },

  'runs.finetune': (engine, params) => {
    const parent = requireTrainableRun(engine, params.name, 'fine-tune')
    const reinforcement = params.reinforcement ? reinforcementFor(parent, params.reinforcement) : null
    const checkpoint = parentCheckpoint(engine, parent, params.checkpoint, 'continue from')
    const name = params.into ?? `${parent.name}-${reinforcement ? reinforcement.algorithm : 'ft'}`
    return forkRun(engine, parent, checkpoint, name, {
      ...parent.config,
      training: { ...parent.config.training, maxSteps: checkpoint.step + params.steps, ...(params.lr === undefined ? {} : { lr: params.lr }) },
      finetunedFrom: { run: parent.name, step: checkpoint.step },
      reinforcement,
      // The reinforced phase learns from rewards; a teacher's distribution would pull it back to imitation.
      distillation: reinforcement ? null : parent.config.distillation,
    })
  },

  'compress.report': async (engine, { name, latency }) => {
    const run = requireRun(engine, name)
    if (run.config.model === 'hred' || run.config.model === 'vhred') throw new ApiError({ code: 'bad_request', message: `run '${name}' is a dialogue model; the compression report compares translation models` })
    const entries = compressionEntries(engine.db, run)
    const sentence = latency ? latencySentence(engine.db, run) : ''
    const rows = []
    for (const entry of entries) {
      let latencyMs: number | null = null
      if (latency) {
        // One warm-up (loads the model), then the median of five, as a user waits for a translation.
        const params = { ...SearchOptions.parse({ search: 'beam', beamSize: 5 }), run: entry.run, checkpoint: entry.checkpointStep, lines: [sentence], attention: false, inspect: false }
        await engine.inference.call('translate', params)
        const times: number[] = []
        for (let i = 0; i < 5; i++) {
          const started = performance.now()
          await engine.inference.call('translate', params)
          times.push(performance.now() - started)
        }
        latencyMs = times.sort((a, b) => a - b)[2]!
      }
      rows.push({ ...entry, latencyMs })
    }
    return { run: run.name, rows }
  },

  'runs.distil': (engine, params) => {
    const teacher = requireRun(engine, params.name)
    if (teacher.config.model === 'hred' || teacher.config.model === 'vhred') throw new ApiError({ code: 'bad_request', message: `run '${teacher.name}' is a dialogue model; distillation translates a parallel corpus` })
    const into = params.into ?? `${teacher.config.corpus}-by-${teacher.name}`
    if (findCorpus(engine.db, into)) throw new ApiError({ code: 'conflict', message: `a corpus named '${into}' already exists` })
    const job = engine.jobs.start('run.distil', { ...params, into }, message('jobDistil', { run: teacher.name, corpus: into }))
    return { jobId: job.jobId, corpus: into }
  },

  'runs.pause': async (engine, { name }) => runDetail(engine, await stopRunJob(engine, name, 'pause')),
  'runs.stop': async (engine, { name }) => runDetail(engine, await stopRunJob(engine, name, 'stop')),

  'runs.extend': (engine, { name, steps, start }) => {
    const run = requireTrainableRun(engine, name, 'extend')
    const maxSteps = Math.max(run.config.training.maxSteps, run.step) + steps
    updateRun(engine.db, run.id, { config: { ...run.config, training: { ...run.config.training, maxSteps } } })
    const running = engine.runJob(name)
    if (run.status === 'done' && run.step < maxSteps) updateRun(engine.db, run.id, { status: 'paused' })
    return { jobId: running ?? (start && !trainedElsewhere(engine.db, run.id) ? engine.startRun(name) : null), maxSteps }
  },

  'runs.delete': (engine, { name }) => {
    const run = findRun(engine.db, name)
    if (!run) return { deleted: false }
    if (engine.runJob(name) || trainedElsewhere(engine.db, run.id)) throw new ApiError({ code: 'conflict', message: `run '${name}' is training; stop it first` })
    engine.db.prepare('DELETE FROM runs WHERE id = ?').run(run.id)
    return { deleted: true }
  },

  'runs.metrics': (engine, { name, metrics, afterStep }) => metricSeries(engine.db, requireRun(engine, name).id, metrics, afterStep),

  // The export builds its graphs with TensorFlow.js, which the engine loads only when it computes.
  'runs.exportModel': async (engine, { name, checkpoint, format, maxSourceLength, out, force }) => (await import('./export/model-export.ts')).exportModel(engine.db, requireRun(engine, name), { checkpoint, format, maxSourceLength, out, force }),

  'runs.exportRecipe': (engine, { name, to, out, force }) => exportRecipe(engine.db, requireRun(engine, name), to, out, force),

  'runs.exportMetrics': (engine, { name, format, out, force }) => {
    const { series } = metricSeries(engine.db, requireRun(engine, name).id, undefined, -1)
    let path: string
    if (format === 'csv') {
      path = requireOutputFile(out, force)
      writeMetricsCsv(path, series)
    } else {
      path = writeTensorboardFolder(out, series, force)
    }
    return { path, format, metrics: Object.keys(series).length, points: Object.values(series).reduce((sum, points) => sum + points.length, 0) }
  },

  'runs.samples': (engine, { name, step }) => {
    const run = requireRun(engine, name)
    const steps = sampleSteps(engine.db, run.id)
    const chosen = step ?? steps.at(-1) ?? null
    return { steps, step: chosen, samples: chosen === null ? [] : samplesAt(engine.db, run.id, chosen) }
  },

  'runs.attention': (engine, { name, probe, step, kind, layer, head, output }) => {
    const run = requireRun(engine, name)
    const overview = attentionOverview(engine.db, run.id)
    const chosen = step ?? overview.steps.at(-1)
    const shape = overview.layout.find((l) => l.kind === kind)
    if (chosen === undefined || !shape) return { ...overview, map: null }
    const topLayer = layer ?? shape.layers - 1
    const heads = attentionGrid(engine.db, run.id, probe, chosen, kind, output).filter((m) => m.layer === topLayer)
    const map = head === undefined ? (heads.length === 1 ? heads[0]! : meanOfHeads(heads)) : (heads.find((m) => m.head === head) ?? null)
    return { ...overview, map }
  },

  'runs.attentionGrid': (engine, { name, probe, step, kind }) => {
    const run = requireRun(engine, name)
    const overview = attentionOverview(engine.db, run.id)
    const chosen = step ?? overview.steps.at(-1) ?? null
    return { ...overview, step: chosen, maps: chosen === null ? [] : attentionGrid(engine.db, run.id, probe, chosen, kind) }
  },

  'runs.headStats': (engine, { name, step }) => {
    const run = requireRun(engine, name)
    const { steps, probes } = attentionOverview(engine.db, run.id)
    const chosen = step ?? steps.at(-1) ?? null
    return { steps, step: chosen, probes, stats: chosen === null ? [] : headStatisticsOf(attentionAtStep(engine.db, run.id, chosen)) }
  },

  translate: async (engine, params) => {
    requireRun(engine, params.run)
    // A few lines are answered at once by the warm worker; a file's worth is a job with progress and cancel.
    if (params.lines.length <= warmLineLimit) return (await engine.inference.call('translate', params)) as Result<'translate'>
    return (await runJobToEnd(engine, 'run.translate', params, message('jobTranslate', { lines: params.lines.length, run: params.run }))) as Result<'translate'>
  },

  'chat.reply': async (engine, params) => {
    requireRun(engine, params.run)
    return await chatReplyOf(engine, params)
  },

  'chat.list': (engine, { run }) => listChats(engine.db, run),

  'chat.create': (engine, { run, title, seed }) => {
    const stored = requireDialogueRun(engine, run)
    return showChat(engine.db, createChat(engine.db, stored.id, title ?? `Chat with ${run}`, seed))
  },

  'chat.show': (engine, { id }) => requireChat(engine, id),

  'chat.say': async (engine, { id, text, latentSeed, ...search }) => {
    const chat = requireChat(engine, id)
    if (!chat.run) throw new ApiError({ code: 'conflict', message: `conversation ${id} has lost its run (deleted)` })
    const turns = [...chat.history.map((t) => t.text), text]
    const reply = await chatReplyOf(engine, methods['chat.reply'].params.parse({ run: chat.run, turns, latentSeed, ...search }))
    engine.db.transaction(() => {
      appendTurn(engine.db, id, 'user', text, {})
      appendTurn(engine.db, id, 'model', reply.replies[0]?.text ?? '', replyMeta(reply, search))
    })()
    return showChat(engine.db, id)
  },

  'chat.resample': async (engine, { id, latentSeed, ...search }) => {
    const chat = requireChat(engine, id)
    if (!chat.run) throw new ApiError({ code: 'conflict', message: `conversation ${id} has lost its run (deleted)` })
    const last = chat.history.at(-1)
    if (!last || last.role !== 'model' || chat.history.length < 2) throw new ApiError({ code: 'conflict', message: 'the conversation does not end with a model reply to resample' })
    // A fresh seed unless one is given: a new z for VHRED, new samples when sampling.
    const seed = latentSeed ?? Math.floor(Math.random() * 2 ** 31)
    const turns = chat.history.slice(0, -1).map((t) => t.text)
    const reply = await chatReplyOf(engine, methods['chat.reply'].params.parse({ run: chat.run, turns, latentSeed: seed, ...search, seed }))
    replaceLastModelTurn(engine.db, id, reply.replies[0]?.text ?? '', replyMeta(reply, { ...search, seed }))
    return showChat(engine.db, id)
  },

  'chat.selfChat': async (engine, { run, partner, opening, turns, title, ...search }) => {
    const speakers = { A: requireDialogueRun(engine, run), B: requireDialogueRun(engine, partner ?? run) }
    const id = createChat(engine.db, speakers.A.id, title ?? (partner ? `Self-chat: ${run} × ${partner}` : `Self-chat: ${run}`), opening)
    const said = [...opening]
    for (let k = 0; k < turns; k++) {
      const speaker = k % 2 === 0 ? 'A' : 'B'
      const speakerRun = speakers[speaker].name
      // Each reply its own seed (sampling, VHRED's z), fixed by the request's: the same request replays the same chat.
      const turnSearch = { ...search, seed: search.seed + k }
      const reply = await chatReplyOf(engine, methods['chat.reply'].params.parse({ run: speakerRun, turns: said.slice(-100), ...turnSearch }))
      const text = reply.replies[0]?.text ?? ''
      appendTurn(engine.db, id, 'model', text, { ...replyMeta(reply, turnSearch), speaker, run: speakerRun, selfChat: true })
      said.push(text)
    }
    return showChat(engine.db, id)
  },

  'chat.delete': (engine, { id }) => ({ deleted: deleteChat(engine.db, id) }),

  'chat.distinct': (engine, { id }) => {
    const replies = requireChat(engine, id).history.filter((t) => t.role === 'model').map((t) => t.text)
    const scores = dialogueScores(replies, replies)
    return { replies: replies.length, distinct1: scores.distinct1, distinct2: scores.distinct2, length: scores.length }
  },

  'chat.export': (engine, { id }) => ({ jsonl: `${JSON.stringify(requireChat(engine, id).history.map((t) => t.text))}\n` }),

  eval: async (engine, params) => {
    requireRun(engine, params.run)
    return (await runJobToEnd(engine, 'run.eval', params, message('jobEval', { run: params.run, split: params.split }))) as Result<'eval'>
  },

  ...word2vecHandlers,
}
