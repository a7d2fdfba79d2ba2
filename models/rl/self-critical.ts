// Self-critical sequence training (Rennie et al. 2017, eq. 8–9): the baseline of a sampled output wˢ is the reward of
// the model's own greedy output ŵ for the same input, so ∇L ≈ −(r(wˢ) − r(ŵ)) ∇ log p(wˢ): samples better than what
// the model would say at test time are reinforced, worse ones suppressed. Mixed with cross-entropy on the references
// to stay fluent (Paulus et al. 2018, eq. 14): L = γ L_rl + (1 − γ) L_ml.
import * as tf from '@tensorflow/tfjs'
import type { TranslationBatch } from '../translation/batch.ts'
import { policyGradientLoss } from './policy-gradient.ts'

/** A sampled output: its tokens (no BOS/EOS) and whether it ended with EOS (then EOS is one of its actions). */
export interface Rollout {
  tokens: readonly number[]
  finished: boolean
}

/** Advantage of each sample: its reward minus the greedy output's (the self-critical baseline). */
export function selfCriticalAdvantages(sampleRewards: readonly number[], greedyRewards: readonly number[]): number[] {
  if (sampleRewards.length !== greedyRewards.length) throw new Error(`${sampleRewards.length} sample rewards for ${greedyRewards.length} baselines`)
  return sampleRewards.map((reward, i) => reward - greedyRewards[i]!)
}

/**
 * Advantages centred on their batch mean: each sample is judged against the greedy output for the same input, and
 * the batch as a whole neither pushes down nor up. Where samples are systematically worse than greedy outputs (all
 * advantages negative), uncentred updates push down every sampled action — EOS above all, since nearly every sample
 * ends with it — and the greedy replies grow into loops (measured on HRED; docs/recipes.md).
 */
export function centredAdvantages(advantages: readonly number[]): number[] {
  const mean = advantages.reduce((a, b) => a + b, 0) / Math.max(1, advantages.length)
  return advantages.map((a) => a - mean)
}

/**
 * Per-decision weights [B·T], row-major like a batch's tgtOut, for rollouts padded to `steps` (T) positions: each of row
 * i's actions (EOS included only when it was sampled) carries advantages[i] / (actions in the batch); padding 0.
 */
export function rolloutWeights(rollouts: readonly Rollout[], advantages: readonly number[], steps: number): Float32Array {
  const actions = rollouts.reduce((sum, r) => sum + r.tokens.length + (r.finished ? 1 : 0), 0)
  const weights = new Float32Array(rollouts.length * steps)
  rollouts.forEach((rollout, i) => {
    const taken = rollout.tokens.length + (rollout.finished ? 1 : 0)
    if (taken > steps) throw new Error(`a rollout of ${taken} actions does not fit ${steps} positions`)
    weights.fill(advantages[i]! / Math.max(actions, 1), i * steps, i * steps + taken)
  })
  return weights
}

/** What a teacher-forced model gives: output logits [B, T, vocab]. */
export interface TeacherForcedModel {
  logits(batch: TranslationBatch, training: boolean): tf.Tensor3D
}

/**
 * The policy-gradient term: rollouts [B] teacher-forced as targets (sampled.tgtIn = BOS + wˢ), weights [B·T] from
 * `rolloutWeights`. Without dropout, so log p(wˢ) is the probability the samples were drawn with.
 */
export function selfCriticalLoss(model: TeacherForcedModel, sampled: TranslationBatch, weights: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const logits = model.logits(sampled, false) // [B, T, V]
    const vocab = logits.shape[2]
    return policyGradientLoss(logits.reshape([-1, vocab]), sampled.tgtOut, weights)
  })
}

/** L = γ · L_rl + (1 − γ) · L_ml (Paulus et al. 2018, eq. 14); γ = 1 is pure SCST. */
export function mixedObjective(policyLoss: tf.Scalar, crossEntropy: tf.Scalar | null, gamma: number): tf.Scalar {
  return tf.tidy(() => (crossEntropy === null || gamma === 1 ? policyLoss.mul(gamma) : policyLoss.mul(gamma).add(crossEntropy.mul(1 - gamma))) as tf.Scalar)
}
