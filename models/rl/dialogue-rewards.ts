// The dialogue rewards of Li et al. 2016 (Deep Reinforcement Learning for Dialogue Generation, §3.2), each computed
// with the frozen supervised model: ease of answering r₁ = −(1/N_S) Σ_{s∈S} (1/N_s) log p(s | a), the negated
// likelihood of a dull reply s following the action a; information flow r₂ = −log cos(h_{p_i}, h_{p_{i+1}}), low
// when an agent repeats itself; semantic coherence r₃ = (1/N_a) log p(a | q_i, p_i) (the forward term; the paper
// adds a backward model's log p(q_i | a), which needs a second model trained in reverse). r = 0.25 r₁ + 0.25 r₂ + 0.5 r₃.
import * as tf from '@tensorflow/tfjs'
import { dullReplies } from '../metrics/dialogue.ts'

export { dullReplies }

/** The paper's weights λ₁, λ₂, λ₃. */
export const rewardWeights = { easeOfAnswering: 0.25, informationFlow: 0.25, coherence: 0.5 } as const

export interface DialogueRewardParts {
  easeOfAnswering: number
  informationFlow: number
  coherence: number
}

export function dialogueReward(parts: DialogueRewardParts): number {
  return rewardWeights.easeOfAnswering * parts.easeOfAnswering + rewardWeights.informationFlow * parts.informationFlow + rewardWeights.coherence * parts.coherence
}

/** Cosines at or below this count as this (−log 0.05 ≈ 3): −log of a non-positive cosine is undefined. */
export const minimumCosine = 0.05

/** r₂ from the cosine of an agent's two consecutive turns' encodings. */
export function informationFlow(cosine: number): number {
  return -Math.log(Math.min(1, Math.max(minimumCosine, cosine)))
}

/** Row-wise cosine of two [N, H] matrices → [N]. */
export function rowCosines(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => a.mul(b).sum(1).div(a.norm('euclidean', 1).mul(b.norm('euclidean', 1)).maximum(1e-12)) as tf.Tensor1D)
}

/** Mean log-probability per token of each row's target: logits [B, T, V], targets [B·T] int32, mask [B·T] → [B]. */
export function meanTokenLogProbs(logits: tf.Tensor3D, targets: tf.Tensor1D, mask: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const [rows, steps, vocab] = logits.shape
    const logProbs = tf.logSoftmax(logits.reshape([-1, vocab])) // [B·T, V]
    const flatIndex = tf.range(0, rows * steps, 1, 'int32').mul(tf.scalar(vocab, 'int32')).add(targets.cast('int32')) // i·V + yᵢ
    const picked = tf.gather(logProbs.reshape([-1]), flatIndex).mul(mask).reshape([rows, steps]) // [B, T]
    return picked.sum(1).div(mask.reshape([rows, steps]).sum(1).maximum(1)) as tf.Tensor1D
  })
}
