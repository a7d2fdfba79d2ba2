// Word-level knowledge distillation (Kim & Rush 2016, §3.1, eq. 4; Hinton et al. 2015): per target position, the
// cross-entropy against the mixture (1 − α)·onehot(y) + α·q of the reference and the teacher's distribution q,
// L = −Σᵢ wᵢ Σᵥ tᵢᵥ log pᵢᵥ and ∂L/∂logits = wᵢ (softmax − tᵢ). The teacher gets no gradient.
import * as tf from '@tensorflow/tfjs'

type SoftTargetLoss = (logits: tf.Tensor2D, targets: tf.Tensor2D, weights: tf.Tensor1D) => tf.Scalar

const softTargetCrossEntropy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [logits, targets, weights, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc]
  const logProbs = tf.logSoftmax(logits) // [N, V]
  const perToken = targets.mul(logProbs).sum(1).neg() // [N]
  save([logProbs, targets, weights])
  return {
    value: perToken.mul(weights).sum() as tf.Scalar,
    gradFunc: (dy: tf.Scalar, saved: tf.Tensor[]) => {
      const [savedLogProbs, savedTargets, savedWeights] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D]
      const gradLogits = tf.exp(savedLogProbs).sub(savedTargets).mul(savedWeights.expandDims(1)).mul(dy) // [N, V]
      return [gradLogits, tf.zerosLike(savedTargets), tf.zerosLike(savedWeights)]
    },
  }
}) as unknown as SoftTargetLoss

/**
 * studentLogits, teacherLogits [N, vocab]; targets [N] (reference ids); mask [N] (1 = real token); weight α ∈ [0, 1]:
 * α = 0 is the plain cross-entropy, α = 1 learns from the teacher's distribution alone. Mean per real token.
 */
export function wordDistillationLoss(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, targets: tf.Tensor1D, mask: tf.Tensor1D, weight: number): tf.Scalar {
  return tf.tidy(() => {
    const vocab = studentLogits.shape[1]
    const teacher = tf.softmax(teacherLogits) // [N, V] q
    const reference = tf.oneHot(targets.cast('int32') as tf.Tensor1D, vocab) // [N, V]
    const mixed = reference.mul(1 - weight).add(teacher.mul(weight)) as tf.Tensor2D // [N, V]
    const weights = mask.div(mask.sum().maximum(1)) as tf.Tensor1D // each real token counts 1/tokens
    return softTargetCrossEntropy(studentLogits, mixed, weights)
  })
}

/** What a teacher-forced model gives: output logits [B, T, vocab]. */
export interface TeacherForced<B> {
  logits(batch: B, training: boolean): tf.Tensor3D
}

/** The student's distillation loss on one batch: its logits (training) against the frozen teacher's (no dropout). */
export function distillationLoss<B extends { tgtOut: tf.Tensor1D; tgtOutMask: tf.Tensor1D }>(student: TeacherForced<B>, teacher: TeacherForced<B>, batch: B, weight: number): tf.Scalar {
  return tf.tidy(() => {
    const studentLogits = student.logits(batch, true) // [B, T, V]
    const teacherLogits = teacher.logits(batch, false) // [B, T, V]
    const vocab = studentLogits.shape[2]
    return wordDistillationLoss(studentLogits.reshape([-1, vocab]), teacherLogits.reshape([-1, vocab]), batch.tgtOut, batch.tgtOutMask, weight)
  })
}
