// Token-level cross-entropy with label smoothing (Szegedy et al. 2016, §7), averaged over real tokens:
// L = −Σᵢ wᵢ [(1 − ε) log p(yᵢ) + (ε/V) Σᵥ log p(v)],  ∂L/∂logits = wᵢ (softmax − ((1 − ε)·onehot(y) + ε/V)).
// Written with its own gradient so training keeps one [N, V] tensor for backward instead of five; where the backend
// has the fused kernels below (main/engine/compute registers them), forward and backward are one pass each.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'

/** Fused kernel: inputs {logits [N, V], targets [N] int32}, attrs {smoothing} → [per-row loss [N], softmax [N, V]]. */
export const softmaxCrossEntropyKernel = 'KotobaSoftmaxCrossEntropy'
/** Its gradient: inputs {probs [N, V], targets [N], weights [N], dy []}, attrs {smoothing} → ∂L/∂logits [N, V]. */
export const softmaxCrossEntropyGradKernel = 'KotobaSoftmaxCrossEntropyGrad'

type FusedLoss = (logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D) => tf.Scalar

const fusedLosses = new Map<number, FusedLoss>()

/** The loss through the fused kernels: the softmax [N, V] is all backward keeps. */
const kernelLosses = new Map<number, FusedLoss>()

function kernelLoss(smoothing: number): FusedLoss {
  let loss = kernelLosses.get(smoothing)
  if (loss) return loss
  loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [logits, targets, weights, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc]
    const [perRow, probs] = tf.engine().runKernel(softmaxCrossEntropyKernel, { logits, targets }, { smoothing }) as [tf.Tensor1D, tf.Tensor2D]
    save([probs, targets, weights])
    return {
      value: perRow.mul(weights).sum() as tf.Scalar,
      gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
        const [savedProbs, savedTargets, savedWeights] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D]
        const inputs = { probs: savedProbs, targets: savedTargets, weights: savedWeights, dy }
        const gradLogits = tf.engine().runKernel(softmaxCrossEntropyGradKernel, inputs, { smoothing }) as tf.Tensor2D // [N, V]
        return [gradLogits, tf.zerosLike(savedTargets), tf.zerosLike(savedWeights)]
      },
    }
  }) as unknown as FusedLoss
  kernelLosses.set(smoothing, loss)
  return loss
}

function fusedLoss(smoothing: number): FusedLoss {
  if (backendHasKernels(softmaxCrossEntropyKernel, softmaxCrossEntropyGradKernel)) return kernelLoss(smoothing)
  let loss = fusedLosses.get(smoothing)
  if (!loss) {
    loss = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [logits, targets, weights, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc]
      const [rows, vocab] = logits.shape
      const logProbs = tf.logSoftmax(logits) // [N, V]
      const flatIndex = tf.range(0, rows, 1, 'int32').mul(tf.scalar(vocab, 'int32')).add(targets) // i·V + yᵢ
      const picked = tf.gather(logProbs.reshape([-1]), flatIndex) // [N] log p(yᵢ)
      const perToken = picked.mul(1 - smoothing).add(logProbs.mean(1).mul(smoothing)).neg() // [N]
      save([logProbs, targets, weights])
      return {
        value: perToken.mul(weights).sum() as tf.Scalar,
        gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
          const [savedLogProbs, savedTargets, savedWeights] = saved as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D]
          const target = tf.oneHot(savedTargets, vocab).mul(1 - smoothing).add(smoothing / vocab) // [N, V]
          const gradLogits = tf.exp(savedLogProbs).sub(target).mul(savedWeights.expandDims(1)).mul(dy) // [N, V]
          return [gradLogits, tf.zerosLike(savedTargets), tf.zerosLike(savedWeights)]
        },
      }
    }) as unknown as FusedLoss
    fusedLosses.set(smoothing, loss)
  }
  return loss
}

/**
 * logits [N, vocab]; targets [N] int32; mask [N] (1 = real token, 0 = padding).
 * Returns the mean loss per real token.
 */
export function smoothedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, mask: tf.Tensor1D, smoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const weights = mask.div(mask.sum().maximum(1)) as tf.Tensor1D // each real token counts 1/tokens
    return fusedLoss(smoothing)(logits, targets.cast('int32') as tf.Tensor1D, weights)
  })
}

/**
 * Σᵢ wᵢ · (−log softmax(logitsᵢ)[targetsᵢ]) with any per-row weights, negative ones included: the fused loss without
 * smoothing or normalisation, for callers that weight rows themselves (policy gradients weight by advantage).
 */
export function weightedCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, weights: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => fusedLoss(0)(logits, targets.cast('int32') as tf.Tensor1D, weights))
}
