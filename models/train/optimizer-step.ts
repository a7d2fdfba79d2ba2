// One optimisation step with a TensorFlow.js optimizer: gradients, clipping by global norm, update.
import * as tf from '@tensorflow/tfjs'
import { clipScale, globalNorm } from './gradient-norm.ts'
import { variableGrads } from './variable-grads.ts'

export interface StepResult {
  loss: number
  /** Global gradient norm before clipping. */
  gradNorm: number
}

export async function optimizerStep(optimizer: tf.Optimizer, loss: () => tf.Scalar, variables: tf.Variable[], clipNorm = Infinity): Promise<StepResult> {
  const { value, grads } = variableGrads(loss, variables)
  const names = Object.keys(grads)
  const gradNorm = await globalNorm(names.map((name) => grads[name]!))
  const scale = clipScale(gradNorm, clipNorm)
  const scaled: tf.NamedTensorMap = {}
  for (const name of names) scaled[name] = scale === 1 ? grads[name]! : tf.mul(grads[name]!, scale)
  optimizer.applyGradients(scaled)
  const result = { loss: (await value.data())[0]!, gradNorm }
  value.dispose()
  for (const name of names) {
    grads[name]!.dispose()
    if (scale !== 1) scaled[name]!.dispose()
  }
  return result
}
