// REINFORCE for HRED/VHRED after Li et al. 2016: each training context gets a sampled reply (the policy's action, at
// the run's temperature) and the greedy one (the baseline), both rewarded by ease of answering, information flow and
// semantic coherence as the frozen supervised model judges them; the advantages are centred on the batch, and the
// loss mixes the policy gradient with the supervised loss on the reference replies.
import * as tf from '@tensorflow/tfjs'
import type { DialogueModelConfig, ReinforcementConfig } from '../../api/contract.ts'
import { rollOut } from '../../../models/rl/rollouts.ts'
import { disposeDialogueBatch, makeDialogueBatch, type DialogueBatch, type DialogueExample } from '../../../models/dialogue/batch.ts'
import type { DialogueModel } from '../../../models/dialogue/hred.ts'
import { DialogueStepDecoder, contextTensors } from '../../../models/dialogue/step-decoder.ts'
import { dialogueReward, dullReplies, informationFlow, meanTokenLogProbs, rowCosines, type DialogueRewardParts } from '../../../models/rl/dialogue-rewards.ts'
import { policyGradientLoss } from '../../../models/rl/policy-gradient.ts'
import { centredAdvantages, mixedObjective, rolloutWeights, selfCriticalAdvantages } from '../../../models/rl/self-critical.ts'
import type { RunTokenizer } from './data.ts'

/** A micro-batch of dialogue REINFORCE: the references (supervised loss) and the sampled replies with their weights. */
export interface DialogueReinforceBatch {
  reference: DialogueBatch
  sampled: DialogueBatch
  /** [B·T] each sampled action's advantage over the batch's actions (0 on padding). */
  weights: tf.Tensor1D
  targetTokens: number
  sourceTokens: number
}

/** Longest sampled reply, in pieces (as chat replies). */
const replyLimit = 60

export class DialogueReinforceTrainer {
  private totals = { rollouts: 0, reward: 0, baseline: 0, ease: 0, flow: 0, coherence: 0, length: 0 }
  private readonly dull: number[][]

  constructor(
    private readonly policy: DialogueModel,
    /** The supervised model the phase starts from, frozen: the judge of every reward. */
    private readonly judge: DialogueModel,
    private readonly tokenizer: RunTokenizer,
    private readonly settings: DialogueModelConfig,
    private readonly config: ReinforcementConfig,
    private readonly seed: number,
    /** The supervised loss of a reference batch (the run's own, with its KL weight and remedies). */
    private readonly supervisedLoss: (batch: DialogueBatch, step: number) => tf.Scalar,
  ) {
    this.dull = dullReplies.map((reply) => tokenizer.encode(reply))
  }

  async makeBatch(examples: DialogueExample[], step: number, part: number): Promise<DialogueReinforceBatch> {
    const reference = makeDialogueBatch(examples, this.tokenizer)
    try {
      const contexts = examples.map((e) => e.turns)
      const { src, srcMask, turnLength } = contextTensors(contexts, this.tokenizer.pad)
      const special = { bos: this.tokenizer.bos, eos: this.tokenizer.eos, maxLength: replyLimit }
      const decoder = new DialogueStepDecoder(this.policy, turnLength, null)
      const { samples, greedy } = await rollOut(decoder, src, srcMask, special, this.config.temperature, { seed: this.seed, step, part }).finally(() => tf.dispose([src, srcMask]))
      const sampleParts = await this.rewards(contexts, samples.map((s) => s.tokens))
      const greedyParts = await this.rewards(contexts, greedy.map((g) => g.tokens))
      const sampleRewards = sampleParts.map(dialogueReward)
      const greedyRewards = greedyParts.map(dialogueReward)
      const advantages = selfCriticalAdvantages(sampleRewards, greedyRewards)
      // The dialogue rewards span nats, and samples trail the greedy reply by about one: centred, or EOS is pushed down.
      const weighted = centredAdvantages(advantages)
      const sampled = makeDialogueBatch(
        examples.map((e, i) => ({ turns: e.turns, tgt: samples[i]!.tokens })),
        this.tokenizer,
      )
      const weights = tf.tensor1d(rolloutWeights(samples, weighted, sampled.tgtIn.shape[1]))
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
      const t = this.totals
      t.rollouts += examples.length
      t.reward += sum(sampleRewards)
      t.baseline += sum(greedyRewards)
      t.ease += sum(sampleParts.map((p) => p.easeOfAnswering))
      t.flow += sum(sampleParts.map((p) => p.informationFlow))
      t.coherence += sum(sampleParts.map((p) => p.coherence))
      t.length += sum(samples.map((s) => s.tokens.length))
      return { reference, sampled, weights, targetTokens: reference.targetTokens, sourceTokens: reference.sourceTokens }
    } catch (error) {
      disposeDialogueBatch(reference)
      throw error
    }
  }

  /** Each reply's three rewards, judged by the frozen model. */
  private async rewards(contexts: number[][][], replies: number[][]): Promise<DialogueRewardParts[]> {
    const maxContext = this.settings.maxContext
    const meanLogProbs = async (pairs: { turns: number[][]; tgt: number[] }[]): Promise<number[]> => {
      const batch = makeDialogueBatch(pairs, this.tokenizer)
      const values = tf.tidy(() => meanTokenLogProbs(this.judge.policyLogits(batch), batch.tgtOut, batch.tgtOutMask))
      disposeDialogueBatch(batch)
      const result = Array.from(await values.data())
      values.dispose()
      return result
    }
    // Semantic coherence: log p(a | context) per token.
    const coherence = await meanLogProbs(contexts.map((turns, i) => ({ turns, tgt: replies[i]! })))
    // Ease of answering: −(mean over dull s of log p(s | context + a) per token).
    const dullPairs = contexts.flatMap((turns, i) => this.dull.map((tgt) => ({ turns: [...turns, replies[i]!].slice(-maxContext), tgt })))
    const dullLogProbs = await meanLogProbs(dullPairs)
    const ease = contexts.map((_, i) => -dullLogProbs.slice(i * this.dull.length, (i + 1) * this.dull.length).reduce((a, b) => a + b, 0) / this.dull.length)
    // Information flow: the agent's previous turn is two turns back; a context of one turn has none (reward 0).
    const previous = contexts.map((turns) => turns.at(-2) ?? null)
    const withPrevious = previous.map((p, i) => (p ? i : -1)).filter((i) => i >= 0)
    const flow = new Array<number>(contexts.length).fill(0)
    if (withPrevious.length > 0) {
      const cosines = await this.cosines(
        withPrevious.map((i) => previous[i]!),
        withPrevious.map((i) => replies[i]!),
      )
      withPrevious.forEach((i, k) => (flow[i] = informationFlow(cosines[k]!)))
    }
    return contexts.map((_, i) => ({ easeOfAnswering: ease[i]!, informationFlow: flow[i]!, coherence: coherence[i]! }))
  }

  /** Cosine of the judge's utterance vectors of two turns, row by row. */
  private async cosines(first: number[][], second: number[][]): Promise<number[]> {
    const pad = this.tokenizer.pad
    const matrix = (turns: number[][]) => {
      const length = Math.max(1, ...turns.map((t) => t.length))
      const ids = tf.tensor2d(turns.map((t) => [...t, ...new Array<number>(length - t.length).fill(pad)]), [turns.length, length], 'int32')
      // An empty reply reads as one <pad>, so it has a vector (any cosine it gets is as uninformative as the reply).
      const mask = tf.tensor2d(turns.map((t) => Array.from({ length }, (_, i) => (i < Math.max(1, t.length) ? 1 : 0))), [turns.length, length])
      return [ids, mask] as const
    }
    const [a, aMask] = matrix(first)
    const [b, bMask] = matrix(second)
    const values = tf.tidy(() => rowCosines(this.judge.utteranceVectors(a, aMask), this.judge.utteranceVectors(b, bMask)))
    const result = Array.from(await values.data())
    tf.dispose([a, aMask, b, bMask, values])
    return result
  }

  /** L = γ·L_rl + (1 − γ)·L_ml on the reference replies. */
  loss(batch: DialogueReinforceBatch, step: number): tf.Scalar {
    return tf.tidy(() => {
      const gamma = this.config.weight
      const logits = this.policy.policyLogits(batch.sampled) // [B, T, V]
      const policy = policyGradientLoss(logits.reshape([-1, logits.shape[2]]), batch.sampled.tgtOut, batch.weights)
      const supervised = gamma < 1 ? this.supervisedLoss(batch.reference, step) : null
      return mixedObjective(policy, supervised, gamma)
    })
  }

  disposeBatch(batch: DialogueReinforceBatch): void {
    disposeDialogueBatch(batch.reference)
    disposeDialogueBatch(batch.sampled)
    batch.weights.dispose()
  }

  /** The last update's rollouts: the sampled replies' reward and its three parts, the greedy baseline's, the advantage. */
  takeExtras(): Record<string, number> {
    const t = this.totals
    this.totals = { rollouts: 0, reward: 0, baseline: 0, ease: 0, flow: 0, coherence: 0, length: 0 }
    if (t.rollouts === 0) return {}
    const mean = (total: number) => total / t.rollouts
    return {
      'rl/reward': mean(t.reward),
      'rl/baseline': mean(t.baseline),
      'rl/advantage': mean(t.reward - t.baseline),
      'rl/ease_of_answering': mean(t.ease),
      'rl/information_flow': mean(t.flow),
      'rl/coherence': mean(t.coherence),
      'rl/sample_length': mean(t.length),
    }
  }
}
