// One optimisation step: gradients, clipping by global norm (Pascanu et al. 2013), update.
import * as tf from '@tensorflow/tfjs'

export interface StepResult {
  loss: number
  /** Global gradient norm before clipping. */
  gradNorm: number
}

/** Async reads (no dataSync): GPU backends such as WebGPU cannot read synchronously under Node. */
export async function optimizerStep(optimizer: tf.Optimizer, loss: () => tf.Scalar, variables: tf.Variable[], clipNorm = Infinity): Promise<StepResult> {
  const { value, grads } = tf.variableGrads(loss, variables)
  const names = Object.keys(grads)
  // Pairwise adds, not one addN: WebGPU caps the inputs of one kernel (8 storage buffers per stage).
  const norm = tf.tidy(() => tf.sqrt(names.map((name) => grads[name]!.square().sum()).reduce((total, part) => total.add(part))))
  const gradNorm = (await norm.data())[0]!
  norm.dispose()
  const scale = Number.isFinite(clipNorm) && gradNorm > clipNorm ? clipNorm / gradNorm : 1
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
