// One optimisation step: gradients, clipping by global norm (Pascanu et al. 2013), update.
import * as tf from '@tensorflow/tfjs'

export interface StepResult {
  loss: number
  /** Global gradient norm before clipping. */
  gradNorm: number
}

export function optimizerStep(optimizer: tf.Optimizer, loss: () => tf.Scalar, variables: tf.Variable[], clipNorm = Infinity): StepResult {
  const { value, grads } = tf.variableGrads(loss, variables)
  const names = Object.keys(grads)
  const norm = tf.tidy(() => tf.sqrt(tf.addN(names.map((name) => grads[name]!.square().sum()))))
  const gradNorm = norm.dataSync()[0]!
  norm.dispose()
  const scale = Number.isFinite(clipNorm) && gradNorm > clipNorm ? clipNorm / gradNorm : 1
  const scaled: tf.NamedTensorMap = {}
  for (const name of names) scaled[name] = scale === 1 ? grads[name]! : tf.mul(grads[name]!, scale)
  optimizer.applyGradients(scaled)
  const result = { loss: value.dataSync()[0]!, gradNorm }
  value.dispose()
  for (const name of names) {
    grads[name]!.dispose()
    if (scale !== 1) scaled[name]!.dispose()
  }
  return result
}
