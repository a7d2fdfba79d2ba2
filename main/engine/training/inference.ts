// Decoding with a stored run: load a checkpoint, translate lines with any search, score a split with
// sacreBLEU-exact BLEU, chrF and TER. Used by the translate and eval jobs and by validation during training.
import * as tf from '@tensorflow/tfjs'
import type { EvalResult, SearchOptions, TranslationHypothesis } from '../../api/contract.ts'
import { Random } from '../../../models/core/random.ts'
import { beamSearch } from '../../../models/decode/beam-search.ts'
import { greedyDecode } from '../../../models/decode/greedy.ts'
import type { Hypothesis } from '../../../models/decode/hypothesis.ts'
import type { StepDecoder } from '../../../models/decode/step-decoder.ts'
import { sampleDecode } from '../../../models/decode/sampling.ts'
import { corpusBleu } from '../../../models/metrics/bleu.ts'
import { corpusChrf } from '../../../models/metrics/chrf.ts'
import { corpusTer } from '../../../models/metrics/ter.ts'
import type { Example } from '../../../models/train/batching.ts'
import { disposeTranslationBatch, makeTranslationBatch } from '../../../models/translation/batch.ts'
import type { TranslationModel } from '../../../models/translation/model.ts'
import type { Database } from '../store/database.ts'
import { isDialogueCorpus, loadRunTokenizer, splitPairs, type RunTokenizer } from './data.ts'
import { dialogueScoreEntries } from '../../../models/metrics/dialogue.ts'
import { buildModel, restoreWeights } from './model-state.ts'
import { findRun, loadCheckpoint, recentCheckpointWeights, type StoredRun } from './repository.ts'
import { decodeTensors, encodeTensors } from '../../../models/train/checkpoint-codec.ts'

export interface LoadedRun {
  run: StoredRun
  src: RunTokenizer
  tgt: RunTokenizer
  model: TranslationModel
  checkpointStep: number
}

/**
 * A run's model at a checkpoint step (default: its best checkpoint, else its latest), or the average of
 * its last `average` checkpoints (checkpoint averaging, Vaswani et al. 2017 §6.1).
 */
export async function loadRun(db: Database, name: string, checkpoint?: number, average?: number): Promise<LoadedRun> {
  const run = findRun(db, name)
  if (!run) throw new Error(`no run named '${name}'`)
  if (run.config.model === 'hred' || run.config.model === 'vhred') throw new Error(`run '${name}' is a ${run.config.model} dialogue model: chat with it (kotoba chat --run ${name}) instead of translating`)
  let weights: Uint8Array
  let checkpointStep: number
  if (average !== undefined) {
    const recent = recentCheckpointWeights(db, run.id, average)
    if (recent.length < average) throw new Error(`run '${name}' has ${recent.length} checkpoint(s); averaging needs ${average}`)
    weights = averageWeights(recent.map((r) => r.weights))
    checkpointStep = recent[0]!.step
  } else {
    const stored = loadCheckpoint(db, run.id, checkpoint === undefined ? 'best' : { step: checkpoint })
    if (!stored) throw new Error(checkpoint === undefined ? `run '${name}' has no checkpoint yet` : `run '${name}' has no checkpoint at step ${checkpoint}`)
    weights = stored.weights
    checkpointStep = stored.step
  }
  const src = await loadRunTokenizer(db, run.config.tokenizer)
  const tgt = await loadRunTokenizer(db, run.config.tgtTokenizer)
  const model = buildModel(run.config, { src: src.vocabSize, tgt: tgt.vocabSize })
  restoreWeights(model, weights)
  return { run, src, tgt, model, checkpointStep }
}

/** The element-wise mean of several checkpoints' weights (same names and shapes). */
function averageWeights(blobs: Uint8Array[]): Uint8Array {
  const sets = blobs.map(decodeTensors)
  const mean = sets[0]!.map((array) => ({ ...array, values: new Float32Array(array.values.length) }))
  for (const set of sets) {
    set.forEach((array, i) => {
      const target = mean[i]!
      if (array.name !== target.name || array.values.length !== target.values.length) throw new Error(`checkpoints differ in parameter '${array.name}'`)
      for (let k = 0; k < array.values.length; k++) target.values[k]! += array.values[k]! / sets.length
    })
  }
  return encodeTensors(mean)
}

function sourceTensors(ids: number[]): [tf.Tensor2D, tf.Tensor2D] {
  return [tf.tensor2d([ids], [1, ids.length], 'int32'), tf.ones([1, ids.length]) as tf.Tensor2D]
}

/** Output length limit: the request, else twice the source plus ten; within the model's positions (<s> takes one). */
export const outputLimit = (model: TranslationModel, srcLength: number, requested?: number) => Math.min(requested ?? 2 * srcLength + 10, model.maxPositions - 1)

/** Decodes one source sentence with the chosen search. */
export async function searchOne(model: TranslationModel, tgt: RunTokenizer, srcIds: number[], options: SearchOptions): Promise<Hypothesis[]> {
  const [src, mask] = sourceTensors(srcIds.length > 0 ? srcIds : [tgt.eos])
  try {
    return await searchWith(model.stepDecoder(), src, mask, options, { bos: tgt.bos, eos: tgt.eos, maxLength: outputLimit(model, srcIds.length, options.maxLength) })
  } finally {
    tf.dispose([src, mask])
  }
}

/** Greedy, beam or sampling search over any step decoder for one input row (src [1, S]). */
export async function searchWith<S>(decoder: StepDecoder<S>, src: tf.Tensor2D, mask: tf.Tensor2D, options: SearchOptions, limits: { bos: number; eos: number; maxLength: number }): Promise<Hypothesis[]> {
  const special = { ...limits, noRepeatNgram: options.noRepeatNgram }
  switch (options.search) {
    case 'greedy':
      return await greedyDecode(decoder, src, mask, special)
    case 'beam':
      return await beamSearch(decoder, src, mask, { ...special, beamSize: options.beamSize, nBest: options.nBest, lengthPenalty: options.alpha })
    case 'sample':
      return await sampleDecode(decoder, src, mask, options.nBest, { ...special, temperature: options.temperature, topK: options.topK, topP: options.topP }, new Random(options.seed))
  }
}

export function describeHypothesis(tgt: RunTokenizer, hyp: Hypothesis, withAttention: boolean): TranslationHypothesis {
  return {
    text: tgt.decode(hyp.tokens),
    pieces: [...tgt.piecesOf(hyp.tokens), ...(hyp.finished ? ['</s>'] : [])],
    score: hyp.score,
    logProb: hyp.logProb,
    tokenLogProbs: hyp.tokenLogProbs,
    attention: withAttention && hyp.attention.length > 0 ? hyp.attention : null,
  }
}

/** Sentences a validation decodes (or a dialogue validation scores) at once, unless split to fit in memory. */
export const validationBatch = 32

/** Greedy decoding of many sentences in length-sorted batches (validation). Returns hypotheses in input order. */
export async function greedyMany(model: TranslationModel, tgt: RunTokenizer, sources: number[][], batchSize = validationBatch): Promise<Hypothesis[]> {
  const order = sources.map((_, i) => i).sort((a, b) => sources[a]!.length - sources[b]!.length)
  const results = new Array<Hypothesis>(sources.length)
  const decoder = model.stepDecoder()
  for (let start = 0; start < order.length; start += batchSize) {
    const indices = order.slice(start, start + batchSize)
    const rows = indices.map((i) => (sources[i]!.length > 0 ? sources[i]! : [tgt.eos]))
    const batch = makeTranslationBatch(rows.map((src) => ({ src, tgt: [] })), tgt)
    const longest = Math.max(...rows.map((r) => r.length))
    try {
      const decoded = await greedyDecode(decoder, batch.src, batch.srcMask, { bos: tgt.bos, eos: tgt.eos, maxLength: outputLimit(model, longest) })
      indices.forEach((i, k) => (results[i] = decoded[k]!))
    } finally {
      disposeTranslationBatch(batch)
    }
  }
  return results
}

/** Teacher-forced loss per target token over examples (no dropout). */
export async function meanLoss(model: TranslationModel, examples: readonly Example[], special: { pad: number; bos: number; eos: number }, tokenBudget: number): Promise<number> {
  const sorted = [...examples].sort((a, b) => a.src.length - b.src.length)
  let total = 0
  let tokens = 0
  let batch: Example[] = []
  const flush = async () => {
    if (batch.length === 0) return
    const tensors = makeTranslationBatch(batch, special)
    try {
      const loss = tf.tidy(() => model.loss(tensors, false, 0))
      total += (await loss.data())[0]! * tensors.targetTokens
      tokens += tensors.targetTokens
      loss.dispose()
    } finally {
      disposeTranslationBatch(tensors)
    }
    batch = []
  }
  for (const example of sorted) {
    const longest = Math.max(example.src.length, example.tgt.length + 1, ...batch.map((b) => Math.max(b.src.length, b.tgt.length + 1)))
    if (batch.length > 0 && longest * (batch.length + 1) > tokenBudget) await flush()
    batch.push(example)
  }
  await flush()
  return tokens > 0 ? total / tokens : NaN
}

export interface Scores {
  bleu: ReturnType<typeof corpusBleu>
  chrf: ReturnType<typeof corpusChrf>
  ter: ReturnType<typeof corpusTer>
}

export function scoreTexts(hypotheses: string[], references: string[]): Scores {
  return { bleu: corpusBleu(hypotheses, [references]), chrf: corpusChrf(hypotheses, [references]), ter: corpusTer(hypotheses, [references]) }
}

/** Scores a split: decodes every source with the chosen search and compares with the references. */
/**
 * The best translation of each source: greedy in batches of up to `greedyChunk` sources, otherwise one search per
 * sentence; progress after each batch or every 5 sentences. `stopIfCancelled` throws to stop between them.
 */
export async function translateSources(
  loaded: LoadedRun,
  sources: number[][],
  options: SearchOptions,
  onProgress: (done: number, total: number) => void,
  stopIfCancelled: () => void,
  greedyChunk = Infinity,
): Promise<string[]> {
  const translations: string[] = []
  if (options.search === 'greedy') {
    for (let start = 0; start < sources.length; start += greedyChunk) {
      stopIfCancelled()
      const decoded = await greedyMany(loaded.model, loaded.tgt, sources.slice(start, start + greedyChunk))
      translations.push(...decoded.map((h) => loaded.tgt.decode(h.tokens)))
      onProgress(translations.length, sources.length)
    }
    return translations
  }
  for (const [i, src] of sources.entries()) {
    stopIfCancelled()
    const [best] = await searchOne(loaded.model, loaded.tgt, src, { ...options, nBest: 1 })
    translations.push(loaded.tgt.decode(best!.tokens))
    if (i % 5 === 4 || i === sources.length - 1) onProgress(i + 1, sources.length)
  }
  return translations
}

/** What an evaluation decoded and scored, for comparing two runs sentence by sentence. */
export interface EvaluatedTexts {
  hypotheses: string[]
  references: string[]
  /** Scored with the dialogue metrics too. */
  dialogue: boolean
}

export async function evaluateSplit(
  db: Database,
  loaded: LoadedRun,
  split: 'dev' | 'test',
  options: SearchOptions,
  limit: number | undefined,
  onProgress: (done: number, total: number) => void,
  isCancelled: () => boolean,
): Promise<EvalResult & { texts: EvaluatedTexts }> {
  const started = performance.now()
  const pairs = splitPairs(db, loaded.run.config.corpus, split).slice(0, limit)
  if (pairs.length === 0) throw new Error(`corpus '${loaded.run.config.corpus}' has no ${split} split`)
  const sources = pairs.map((p) => loaded.src.encode(p.src).slice(0, loaded.model.maxPositions)) // cut to what the model can read
  const hypotheses = await translateSources(loaded, sources, options, onProgress, () => {
    if (isCancelled()) throw new Error('cancelled')
  })
  const references = pairs.map((p) => p.tgt)
  const scores = scoreTexts(hypotheses, references)
  const examples = pairs.map((p, index) => ({ index, src: sources[index]!, tgt: loaded.tgt.encode(p.tgt) })).filter((e) => e.src.length > 0 && e.tgt.length > 0 && e.tgt.length < loaded.model.maxPositions)
  const loss = await meanLoss(loaded.model, examples, loaded.tgt, 4096)
  return {
    run: loaded.run.name,
    split,
    checkpointStep: loaded.checkpointStep,
    sentences: pairs.length,
    scores: [
      { metric: 'bleu', score: scores.bleu.score, signature: scores.bleu.signature },
      { metric: 'chrf', score: scores.chrf.score, signature: scores.chrf.signature },
      { metric: 'ter', score: scores.ter.score, signature: scores.ter.signature },
      ...(isDialogueCorpus(db, loaded.run.config.corpus) ? dialogueScoreEntries(hypotheses, references) : []),
    ],
    loss,
    perplexity: Math.exp(loss),
    seconds: (performance.now() - started) / 1000,
    texts: { hypotheses, references, dialogue: isDialogueCorpus(db, loaded.run.config.corpus) },
  }
}
