// Self-critical sequence training of a translation run (Rennie et al. 2017): each training batch gets rollouts — one
// sampled translation per source (the policy's exploration, at the run's temperature) and the greedy one (the
// baseline) — rewarded by sentence chrF or BLEU against the reference; the loss mixes the policy gradient with
// cross-entropy on the references (Paulus et al. 2018).
import * as tf from '@tensorflow/tfjs'
import type { ReinforcementConfig } from '../../api/contract.ts'
import { rollOut } from '../../../models/rl/rollouts.ts'
import type { Example } from '../../../models/train/batching.ts'
import { mixedObjective, rolloutWeights, selfCriticalAdvantages, selfCriticalLoss } from '../../../models/rl/self-critical.ts'
import { sentenceReward } from '../../../models/rl/rewards.ts'
import { disposeTranslationBatch, makeTranslationBatch, type TranslationBatch } from '../../../models/translation/batch.ts'
import type { TranslationModel } from '../../../models/translation/model.ts'
import type { RunTokenizer } from './data.ts'
import { outputLimit } from './inference.ts'

/** A micro-batch of self-critical training: the references (cross-entropy) and the rollouts with their weights. */
export interface SelfCriticalBatch {
  reference: TranslationBatch
  sampled: TranslationBatch
  /** [B·T] each sampled action's advantage over the batch's actions (0 on padding). */
  weights: tf.Tensor1D
  targetTokens: number
  sourceTokens: number
}

/** Means over the last update's rollouts, logged as rl/*: the return of the samples and of the baseline. */
interface RolloutTotals {
  rollouts: number
  reward: number
  baseline: number
  advantage: number
  sampleTokens: number
}

const emptyTotals = (): RolloutTotals => ({ rollouts: 0, reward: 0, baseline: 0, advantage: 0, sampleTokens: 0 })

export class SelfCriticalTrainer {
  private totals = emptyTotals()
  /** The last update's loss terms per micro-batch, [policy, cross-entropy], read after the update. */
  private terms: tf.Scalar[][] = []

  constructor(
    private readonly model: TranslationModel,
    private readonly tgt: RunTokenizer,
    private readonly config: ReinforcementConfig,
    private readonly seed: number,
    private readonly labelSmoothing: number,
  ) {
    if (config.reward === 'dialogue') throw new Error('self-critical translation training rewards sentence chrF or BLEU, not the dialogue rewards')
  }

  /** Rolls out the policy on the batch's sources (no gradient) and rewards each rollout. `part` numbers the
   *  micro-batches of one update, so every rollout's random stream is fixed by (seed, step, part). */
  async makeBatch(examples: Example[], step: number, part: number): Promise<SelfCriticalBatch> {
    const reference = makeTranslationBatch(examples, this.tgt)
    try {
      const decoder = this.model.stepDecoder()
      const longest = Math.max(...examples.map((e) => e.src.length))
      const special = { bos: this.tgt.bos, eos: this.tgt.eos, maxLength: outputLimit(this.model, longest) }
      const { samples, greedy } = await rollOut(decoder, reference.src, reference.srcMask, special, this.config.temperature, { seed: this.seed, step, part })
      const references = examples.map((e) => this.tgt.decode(e.tgt))
      const kind = this.config.reward === 'bleu' ? 'bleu' : 'chrf'
      const reward = (tokens: number[], i: number) => sentenceReward(kind, this.tgt.decode(tokens), references[i]!)
      const sampleRewards = samples.map((s, i) => reward(s.tokens, i))
      const greedyRewards = greedy.map((g, i) => reward(g.tokens, i))
      const advantages = selfCriticalAdvantages(sampleRewards, greedyRewards)
      const sampled = makeTranslationBatch(
        examples.map((e, i) => ({ src: e.src, tgt: samples[i]!.tokens })),
        this.tgt,
      )
      const steps = sampled.tgtIn.shape[1]
      const weights = tf.tensor1d(rolloutWeights(samples, advantages, steps))
      const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)
      this.totals.rollouts += examples.length
      this.totals.reward += sum(sampleRewards)
      this.totals.baseline += sum(greedyRewards)
      this.totals.advantage += sum(advantages)
      this.totals.sampleTokens += sum(samples.map((s) => s.tokens.length))
      return { reference, sampled, weights, targetTokens: reference.targetTokens, sourceTokens: reference.sourceTokens }
    } catch (error) {
      disposeTranslationBatch(reference)
      throw error
    }
  }

  /** L = γ·L_rl + (1 − γ)·L_ml; the cross-entropy pass is skipped when γ = 1. */
  loss(batch: SelfCriticalBatch): tf.Scalar {
    return tf.tidy(() => {
      const gamma = this.config.weight
      const policy = selfCriticalLoss(this.model, batch.sampled, batch.weights)
      const crossEntropy = gamma < 1 ? this.model.loss(batch.reference, true, this.labelSmoothing) : null
      this.terms.push([tf.keep(policy.clone()), ...(crossEntropy ? [tf.keep(crossEntropy.clone())] : [])])
      return mixedObjective(policy, crossEntropy, gamma)
    })
  }

  dispose(): void {
    tf.dispose(this.terms.flat())
    this.terms = []
  }

  disposeBatch(batch: SelfCriticalBatch): void {
    disposeTranslationBatch(batch.reference)
    disposeTranslationBatch(batch.sampled)
    batch.weights.dispose()
  }

  /** The last update's rollouts: mean reward of the samples and of the greedy baseline, mean advantage, sample length;
   *  and its two loss terms (train/loss is their γ-mix). */
  async takeExtras(): Promise<Record<string, number>> {
    const t = this.totals
    const terms = this.terms
    this.totals = emptyTotals()
    this.terms = []
    const mean = async (index: number) => {
      const values = await Promise.all(terms.filter((pair) => pair[index]).map(async (pair) => (await pair[index]!.data())[0]!))
      return values.length > 0 ? { value: values.reduce((a, b) => a + b, 0) / values.length } : null
    }
    const policy = await mean(0)
    const crossEntropy = await mean(1)
    tf.dispose(terms.flat())
    if (t.rollouts === 0) return {}
    return {
      ...(policy ? { 'rl/policy_loss': policy.value } : {}),
      ...(crossEntropy ? { 'rl/cross_entropy': crossEntropy.value } : {}),
      'rl/reward': t.reward / t.rollouts,
      'rl/baseline': t.baseline / t.rollouts,
      'rl/advantage': t.advantage / t.rollouts,
      'rl/sample_length': t.sampleTokens / t.rollouts,
    }
  }
}
