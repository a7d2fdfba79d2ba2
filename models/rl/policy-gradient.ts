// REINFORCE (Williams 1992): ∇J(θ) = E_{a∼π}[(R − b) ∇ log π(a)], written as the loss L = −Σᵢ wᵢ log π(aᵢ) with
// wᵢ the advantage (R − b) of the action's rollout over a normaliser. Its gradient, ∂L/∂logitsᵢ = wᵢ (π − onehot(aᵢ)),
// is the cross-entropy's on the sampled actions weighted by the advantage, so it runs on the fused loss kernels.
import type * as tf from '@tensorflow/tfjs'
import { weightedCrossEntropy } from '../losses/cross-entropy.ts'

/**
 * logits [N, actions] of the policy at N decisions; actions [N] int32, the sampled ones; weights [N], each decision's
 * advantage over the normaliser (0 for padding). Minimising it raises log π of actions with positive advantage.
 */
export function policyGradientLoss(logits: tf.Tensor2D, actions: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  return weightedCrossEntropy(logits, actions, weights)
}
