// HRED/VHRED runs for the training loop: (context turns → next turn) examples from a dialogue corpus, the annealed
// VHRED loss with its two parts logged, and validation with perplexity, KL, active units, BLEU, unigram F1 and
// distinct-n of greedy replies.
import * as tf from '@tensorflow/tfjs'
import type { EvalResult, RunConfig, SearchOptions } from '../../api/contract.ts'
import { greedyDecode } from '../../../models/decode/greedy.ts'
import { disposeDialogueBatch, dialogueExample, makeDialogueBatch, type DialogueBatch, type DialogueExample } from '../../../models/dialogue/batch.ts'
import { DialogueModel } from '../../../models/dialogue/hred.ts'
import { klWeight } from '../../../models/dialogue/kl-annealing.ts'
import { DialogueStepDecoder, contextTensors } from '../../../models/dialogue/step-decoder.ts'
import { dialogueScoreEntries } from '../../../models/metrics/dialogue.ts'
import { targetLogPrior } from '../../../models/train/output-prior.ts'
import type { Database } from '../store/database.ts'
import { loadRunTokenizer, splitDialogues, type RunTokenizer } from './data.ts'
import { scoreTexts, searchWith, validationBatch, type EvaluatedTexts } from './inference.ts'
import { samplesStored, saveSamples } from './repository.ts'
import type { TaskSetup, TrainingTask, Validation } from './trainer.ts'
import { DialogueReinforceTrainer, type DialogueReinforceBatch } from './dialogue-reinforce.ts'
import { restoreWeights } from './model-state.ts'
import { findRun, loadCheckpoint } from './repository.ts'

/** How a context is shown in samples and chats: its turns, oldest first. */
export const turnSeparator = ' ⏎ '

/** Every (context → response) position of every dialogue; responses longer than maxTokens are left out, long turns cut. */
export function dialogueExamples(dialogues: readonly string[][], tokenizer: RunTokenizer, maxContext: number, maxTokens: number): { examples: DialogueExample[]; texts: { context: string[]; response: string }[] } {
  const examples: DialogueExample[] = []
  const texts: { context: string[]; response: string }[] = []
  for (const dialogue of dialogues) {
    const encoded = dialogue.map((turn) => tokenizer.encode(turn).slice(0, maxTokens))
    for (let i = 1; i < dialogue.length; i++) {
      const response = tokenizer.encode(dialogue[i]!)
      if (response.length === 0 || response.length > maxTokens) continue
      examples.push(dialogueExample(examples.length, encoded.slice(0, i), response, maxContext))
      texts.push({ context: dialogue.slice(Math.max(0, i - maxContext), i), response: dialogue[i]! })
    }
  }
  return { examples, texts }
}

export function buildDialogueModel(config: RunConfig, vocab: number): DialogueModel {
  const d = config.dialogue
  if (!d) throw new Error(`run model ${config.model} has no dialogue configuration`)
  return new DialogueModel({ vocab, cell: d.cell, embeddingSize: d.embeddingSize, utteranceHidden: d.utteranceHidden, bidirectional: d.bidirectional, contextHidden: d.contextHidden, decoderHidden: d.decoderHidden, latentSize: d.latentSize, dropout: d.dropout, seed: config.training.seed, bagOfWords: d.latentSize > 0 && d.bowWeight > 0 })
}

/** Greedy replies to many contexts, in batches; VHRED samples z from the prior with `latentSeed`. */
export async function replyMany(
  model: DialogueModel,
  tokenizer: RunTokenizer,
  contexts: readonly number[][][],
  latentSeed: number | null,
  limits: { maxLength?: number; noRepeatNgram?: number } = {},
  batchSize = validationBatch,
): Promise<string[]> {
  const replies: string[] = []
  for (let start = 0; start < contexts.length; start += batchSize) {
    const chunk = contexts.slice(start, start + batchSize)
    const { src, srcMask, turnLength } = contextTensors(chunk, tokenizer.pad)
    try {
      const decoded = await greedyDecode(new DialogueStepDecoder(model, turnLength, latentSeed), src, srcMask, { bos: tokenizer.bos, eos: tokenizer.eos, maxLength: limits.maxLength ?? 60, noRepeatNgram: limits.noRepeatNgram })
      replies.push(...decoded.map((h) => tokenizer.decode(h.tokens)))
    } finally {
      tf.dispose([src, srcMask])
    }
  }
  return replies
}

/** Burda et al. 2016: a latent unit is active when its posterior mean varies across examples (variance > 0.01). */
export function activeUnits(posteriorMeans: readonly number[][]): number {
  if (posteriorMeans.length < 2) return 0
  const dims = posteriorMeans[0]!.length
  let active = 0
  for (let u = 0; u < dims; u++) {
    const values = posteriorMeans.map((m) => m[u]!)
    const mean = values.reduce((a, b) => a + b, 0) / values.length
    const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length
    if (variance > 0.01) active++
  }
  return active
}

/** Teacher-forced loss over examples: cross-entropy per token, KL per response (VHRED, z at the posterior mean),
 *  their sum per token (the ELBO bound, β = 1) and the posterior means (for active units). */
export async function dialogueLoss(
  model: DialogueModel,
  tokenizer: RunTokenizer,
  examples: readonly DialogueExample[],
  batchSize = validationBatch,
): Promise<{ reconstruction: number; kl: number; devLoss: number; means: number[][] }> {
  let reconstruction = 0
  let kl = 0
  let tokens = 0
  const means: number[][] = []
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = makeDialogueBatch(examples.slice(start, start + batchSize), tokenizer)
    const kept: tf.Tensor[] = []
    try {
      const out = model.forward(batch, false)
      kept.push(out.logits, out.context, ...(out.kl ? [out.kl] : []), ...(out.posteriorMean ? [out.posteriorMean] : []))
      const ce = tf.tidy(() => model.losses(batch, false, 1).reconstruction)
      kept.push(ce)
      reconstruction += (await ce.data())[0]! * batch.targetTokens
      tokens += batch.targetTokens
      if (out.kl) kl += ((await out.kl.data()) as Float32Array).reduce((a, b) => a + b, 0)
      if (out.posteriorMean) means.push(...((await out.posteriorMean.array()) as number[][]))
    } finally {
      tf.dispose(kept)
      disposeDialogueBatch(batch)
    }
  }
  const perToken = (value: number) => value / Math.max(1, tokens)
  return { reconstruction: perToken(reconstruction), kl: kl / Math.max(1, examples.length), devLoss: perToken(reconstruction + kl), means }
}

/** The supervised model a reinforced phase started from, frozen, to judge its rewards: the parent's checkpoint, else
 *  the copy of it this run began with. */
function loadJudge(db: Database, run: TaskSetup['run'], config: RunConfig, vocab: number): DialogueModel {
  const from = config.finetunedFrom
  if (!from) throw new Error(`run '${run.name}' has dialogue rewards but no run it continues from`)
  const parent = findRun(db, from.run)
  const stored = (parent ? loadCheckpoint(db, parent.id, { step: from.step }) : undefined) ?? loadCheckpoint(db, run.id, { step: from.step })
  if (!stored) throw new Error(`the checkpoint at step ${from.step} of '${from.run}', which judges the dialogue rewards, is gone`)
  const judge = buildDialogueModel(config, vocab)
  restoreWeights(judge, stored.weights)
  return judge
}

export async function dialogueTask({ db, run, config, fresh }: TaskSetup): Promise<TrainingTask<DialogueBatch> | TrainingTask<DialogueReinforceBatch>> {
  const training = config.training
  const settings = config.dialogue!
  const tokenizer = await loadRunTokenizer(db, config.tokenizer)
  const train = dialogueExamples(splitDialogues(db, config.corpus, 'train'), tokenizer, settings.maxContext, training.maxTokens)
  if (train.examples.length === 0) throw new Error(`no usable (context → response) pairs in the train split of '${config.corpus}'`)
  const dev = dialogueExamples(splitDialogues(db, config.corpus, 'dev'), tokenizer, settings.maxContext, Number.MAX_SAFE_INTEGER)
  const devExamples = dev.examples.slice(0, training.validSentences)
  const devTexts = dev.texts.slice(0, training.validSentences)
  const model = buildDialogueModel(config, tokenizer.vocabSize)
  if (fresh) tf.tidy(() => model.params.get('output/bias').assign(tf.tensor1d(targetLogPrior(train.examples, tokenizer.vocabSize, tokenizer.eos))))
  const latent = settings.latentSize
  /** The last update's loss parts, kept out of the update's tidy scope until read. */
  let pending: tf.Scalar[][] = []
  let pendingWeight = 1

  const validate = async (step: number, split: number): Promise<Validation> => {
    const batchSize = Math.max(1, Math.floor(validationBatch / split))
    const { reconstruction, kl, devLoss, means } = await dialogueLoss(model, tokenizer, devExamples, batchSize)
    const replies = await replyMany(model, tokenizer, devExamples.map((e) => e.turns), latent > 0 ? training.seed : null, {}, batchSize)
    const references = devTexts.map((t) => t.response)
    const scores = scoreTexts(replies, references)
    return {
      store: () => {
        const samples = devTexts.slice(0, samplesStored).map((t, index) => ({ index, source: t.context.join(turnSeparator), reference: t.response, hypothesis: replies[index]! }))
        saveSamples(db, run.id, step, samples)
      },
      points: [
        { metric: 'dev/loss', step, value: devLoss },
        { metric: 'dev/ppl', step, value: Math.exp(devLoss) },
        { metric: 'dev/recon', step, value: reconstruction },
        ...(latent > 0
          ? [
              { metric: 'dev/kl', step, value: kl },
              { metric: 'dev/active_units', step, value: activeUnits(means) },
            ]
          : []),
        { metric: 'dev/bleu', step, value: scores.bleu.score, signature: scores.bleu.signature },
        { metric: 'dev/chrf', step, value: scores.chrf.score, signature: scores.chrf.signature },
        { metric: 'dev/ter', step, value: scores.ter.score, signature: scores.ter.signature },
        ...dialogueScoreEntries(replies, references).map((e) => ({ metric: `dev/${e.metric}`, step, value: e.score })),
      ],
      values: { 'dev/loss': devLoss, 'dev/bleu': scores.bleu.score, 'dev/chrf': scores.chrf.score, 'dev/ter': scores.ter.score },
    }
  }

  const supervisedLoss = (batch: DialogueBatch, step: number): tf.Scalar => {
    pendingWeight = klWeight(settings.klAnnealing, step)
    const rows = batch.turnMask.shape[0]
    // Seeded by step, so a resumed run draws the same z noise as the run it continues.
    const epsilon = latent > 0 ? (tf.randomNormal([rows, latent], 0, 1, 'float32', training.seed * 1_000_003 + step) as tf.Tensor2D) : undefined
    const losses = model.losses(batch, true, pendingWeight, {
      epsilon,
      wordDrop: settings.wordDrop,
      unk: tokenizer.unk,
      smoothing: training.labelSmoothing,
      freeBits: settings.freeBits,
      bowWeight: settings.bowWeight,
    })
    epsilon?.dispose()
    pending.push([tf.keep(losses.reconstruction), tf.keep(losses.kl), tf.keep(losses.bagOfWords)])
    return losses.total
  }
  const supervisedExtras = async (): Promise<Record<string, number>> => {
    const parts = pending
    pending = []
    if (parts.length === 0) return {}
    let reconstruction = 0
    let kl = 0
    let bagOfWords = 0
    for (const [r, k, b] of parts) {
      reconstruction += (await r!.data())[0]!
      kl += (await k!.data())[0]!
      bagOfWords += (await b!.data())[0]!
    }
    tf.dispose(parts.flat())
    const mean = (total: number) => total / parts.length
    if (latent === 0) return { 'train/recon': mean(reconstruction) }
    return { 'train/recon': mean(reconstruction), 'train/kl': mean(kl), 'train/kl_weight': pendingWeight, ...(settings.bowWeight > 0 ? { 'train/bow': mean(bagOfWords) } : {}) }
  }
  const shared = {
    params: model.params,
    examples: train.examples,
    validate,
    parameterCount: () => model.parameterCount(),
  }
  if (config.reinforcement) {
    const judge = loadJudge(db, run, config, tokenizer.vocabSize)
    const reinforce = new DialogueReinforceTrainer(model, judge, tokenizer, settings, config.reinforcement, training.seed, supervisedLoss)
    const task: TrainingTask<DialogueReinforceBatch> = {
      ...shared,
      makeBatch: (examples, step, part) => reinforce.makeBatch(examples as DialogueExample[], step, part),
      disposeBatch: (batch) => reinforce.disposeBatch(batch),
      loss: (batch, step) => reinforce.loss(batch, step),
      updateExtras: async () => ({ ...(await supervisedExtras()), ...reinforce.takeExtras() }),
      dispose: () => {
        tf.dispose(pending.flat())
        judge.dispose()
        model.dispose()
      },
    }
    return task
  }
  const task: TrainingTask<DialogueBatch> = {
    ...shared,
    makeBatch: (examples) => makeDialogueBatch(examples as DialogueExample[], tokenizer),
    disposeBatch: disposeDialogueBatch,
    loss: supervisedLoss,
    updateExtras: supervisedExtras,
    dispose: () => {
      tf.dispose(pending.flat())
      model.dispose()
    },
  }
  return task
}

/** Scores a split of a dialogue run (kotoba eval): perplexity (ELBO bound), KL, BLEU/chrF/TER, unigram F1, distinct-n, length. */
export async function evaluateDialogues(
  db: Database,
  config: RunConfig,
  model: DialogueModel,
  tokenizer: RunTokenizer,
  split: 'dev' | 'test',
  options: SearchOptions,
  limit: number | undefined,
  onProgress: (done: number, total: number) => void,
): Promise<Omit<EvalResult, 'run' | 'checkpointStep' | 'seconds'> & { texts: EvaluatedTexts }> {
  const settings = config.dialogue!
  const { examples, texts } = dialogueExamples(splitDialogues(db, config.corpus, split), tokenizer, settings.maxContext, Number.MAX_SAFE_INTEGER)
  const chosen = examples.slice(0, limit)
  if (chosen.length === 0) throw new Error(`the ${split} split of '${config.corpus}' has no (context → response) pairs`)
  const seed = settings.latentSize > 0 ? options.seed : null
  let replies: string[]
  if (options.search === 'greedy') replies = await replyMany(model, tokenizer, chosen.map((e) => e.turns), seed, { maxLength: options.maxLength, noRepeatNgram: options.noRepeatNgram })
  else {
    replies = []
    for (const [i, example] of chosen.entries()) {
      const { src, srcMask, turnLength } = contextTensors([example.turns], tokenizer.pad)
      const [best] = await searchWith(new DialogueStepDecoder(model, turnLength, seed), src, srcMask, { ...options, nBest: 1 }, { bos: tokenizer.bos, eos: tokenizer.eos, maxLength: options.maxLength ?? 60 })
      tf.dispose([src, srcMask])
      replies.push(tokenizer.decode(best?.tokens ?? []))
      if (i % 10 === 9) onProgress(i + 1, chosen.length)
    }
  }
  const references = texts.slice(0, chosen.length).map((t) => t.response)
  const scores = scoreTexts(replies, references)
  const loss = await dialogueLoss(model, tokenizer, chosen)
  onProgress(chosen.length, chosen.length)
  return {
    split,
    sentences: chosen.length,
    scores: [
      { metric: 'bleu', score: scores.bleu.score, signature: scores.bleu.signature },
      { metric: 'chrf', score: scores.chrf.score, signature: scores.chrf.signature },
      { metric: 'ter', score: scores.ter.score, signature: scores.ter.signature },
      ...dialogueScoreEntries(replies, references),
      ...(settings.latentSize > 0 ? [{ metric: 'kl', score: loss.kl, signature: 'KL(q ‖ p) per reply, nats' }, { metric: 'active_units', score: activeUnits(loss.means), signature: 'posterior-mean variance > 0.01' }] : []),
    ],
    loss: loss.devLoss,
    perplexity: Math.exp(loss.devLoss),
    texts: { hypotheses: replies, references, dialogue: true },
  }
}
