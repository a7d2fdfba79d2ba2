// Chatting with a dialogue run: a reply to the turns so far (greedy, beam or sampling; VHRED with a seeded prior
// sample) and what the model did for it (z, the reply's KL, the context state per turn).
import * as tf from '@tensorflow/tfjs'
import type { ChatReplyResult, ReplyInsight, SearchOptions } from '../../api/contract.ts'
import { disposeDialogueBatch, makeDialogueBatch } from '../../../models/dialogue/batch.ts'
import type { DialogueModel } from '../../../models/dialogue/hred.ts'
import { DialogueStepDecoder, contextTensors } from '../../../models/dialogue/step-decoder.ts'
import type { Database } from '../store/database.ts'
import { loadRunTokenizer, type RunTokenizer } from './data.ts'
import { buildDialogueModel } from './dialogue-task.ts'
import { searchWith } from './inference.ts'
import { restoreWeights } from './model-state.ts'
import { findRun, loadCheckpoint, type StoredRun } from './repository.ts'

export interface LoadedDialogue {
  run: StoredRun
  tokenizer: RunTokenizer
  model: DialogueModel
  checkpointStep: number
}

export async function loadDialogueRun(db: Database, name: string, checkpoint?: number): Promise<LoadedDialogue> {
  const run = findRun(db, name)
  if (!run) throw new Error(`no run named '${name}'`)
  if (run.config.model !== 'hred' && run.config.model !== 'vhred') throw new Error(`run '${name}' is a ${run.config.model} model; chat needs an hred or vhred run`)
  const stored = loadCheckpoint(db, run.id, checkpoint === undefined ? 'best' : { step: checkpoint })
  if (!stored) throw new Error(checkpoint === undefined ? `run '${name}' has no checkpoint yet: train it first` : `run '${name}' has no checkpoint at step ${checkpoint}`)
  const tokenizer = await loadRunTokenizer(db, run.config.tokenizer)
  const model = buildDialogueModel(run.config, tokenizer.vocabSize)
  restoreWeights(model, stored.weights)
  return { run, tokenizer, model, checkpointStep: stored.step }
}

const cosine = (a: number[], b: number[]) => {
  const dot = a.reduce((sum, v, i) => sum + v * b[i]!, 0)
  const norm = (v: number[]) => Math.sqrt(v.reduce((sum, x) => sum + x * x, 0))
  return dot / Math.max(1e-12, norm(a) * norm(b))
}

/** A reply to `turns` (oldest first; the last maxContext are used). VHRED draws z with `latentSeed` (default: the search seed). */
export async function replyTo(loaded: LoadedDialogue, turns: readonly string[], options: SearchOptions, latentSeed?: number): Promise<ChatReplyResult> {
  const { model, tokenizer, run } = loaded
  const settings = run.config.dialogue!
  const context = turns.slice(-settings.maxContext).map((turn) => tokenizer.encode(turn).slice(0, run.config.training.maxTokens))
  const seed = settings.latentSize > 0 ? (latentSeed ?? options.seed) : null
  const { src, srcMask, turnLength } = contextTensors([context], tokenizer.pad)
  const decoder = new DialogueStepDecoder(model, turnLength, seed)
  try {
    const hypotheses = await searchWith(decoder, src, srcMask, options, { bos: tokenizer.bos, eos: tokenizer.eos, maxLength: options.maxLength ?? 60 })
    const best = hypotheses[0]
    // What the model did: the context state after each turn, and (VHRED) z and the reply's KL(q ‖ p).
    const batch = makeDialogueBatch([{ turns: context, tgt: best?.tokens ?? [] }], tokenizer)
    const states = (await tf.tidy(() => model.contextStates(batch.utterances, batch.utteranceMask, batch.turnMask)).array())[0]! // [K][C]
    const contextInsight = states.map((state, k) => ({ norm: Math.sqrt(state.reduce((sum, v) => sum + v * v, 0)), similarity: k === 0 ? null : cosine(state, states[k - 1]!) }))
    let latent: ReplyInsight['latent'] = null
    if (seed !== null) {
      const out = model.forward(batch, false)
      const finalContext = out.context
      const z = decoder.latent(finalContext)!
      const values = (await z.array())[0]!
      latent = { seed, z: values.slice(0, 16), norm: Math.sqrt(values.reduce((sum, v) => sum + v * v, 0)), kl: (await out.kl!.data())[0]! }
      tf.dispose([z, out.logits, out.context, out.kl!, out.posteriorMean!])
    }
    disposeDialogueBatch(batch)
    return {
      run: run.name,
      checkpointStep: loaded.checkpointStep,
      replies: hypotheses.map((h) => ({ text: tokenizer.decode(h.tokens), score: h.score, pieces: tokenizer.piecesOf(h.tokens) })),
      insight: { latent, context: contextInsight },
    }
  } finally {
    tf.dispose([src, srcMask])
  }
}
