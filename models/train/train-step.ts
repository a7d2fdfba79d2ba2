// One update of the training core: gradients summed over micro-batches (gradient accumulation, each weighted
// by its share of target tokens), clipped by global norm, applied by Adam/AdamW at this step's learning rate.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import type { Adam } from './adam.ts'
import { clipScale, globalNorm } from './gradient-norm.ts'

export interface UpdateResult {
  /** Mean loss per target token over all micro-batches. */
  loss: number
  gradNorm: number
  targetTokens: number
  sourceTokens: number
}

/** The update failed before any parameter or optimizer state changed (e.g. a compute thread was lost while
 *  computing gradients): the same update may be run again. */
export class UpdateNotAppliedError extends Error {
  constructor(override readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = 'UpdateNotAppliedError'
  }
}

/** What a micro-batch must tell the update: its share of the tokens. */
export interface BatchSize {
  targetTokens: number
  sourceTokens: number
}

export async function trainUpdate<B extends BatchSize>(
  params: ParameterStore,
  lossOf: (batch: B) => tf.Scalar,
  microBatches: B[],
  optimizer: Adam,
  lr: number,
  clipNorm: number,
): Promise<UpdateResult> {
  const entries = params.entries()
  const variables = entries.map(([, v]) => v)
  const logical = new Map(entries.map(([name, v]) => [v.name, name]))
  const totalTokens = microBatches.reduce((sum, b) => sum + b.targetTokens, 0)
  const summed = new Map<string, tf.Tensor>()
  let loss = 0
  let gradNorm: number
  try {
    for (const batch of microBatches) {
      const share = batch.targetTokens / totalTokens
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => lossOf(batch).mul(share)), variables)
      loss += (await value.data())[0]!
      value.dispose()
      for (const [variableName, grad] of Object.entries(grads)) {
        const name = logical.get(variableName)!
        const previous = summed.get(name)
        if (previous) {
          summed.set(name, previous.add(grad))
          previous.dispose()
          grad.dispose()
        } else summed.set(name, grad)
      }
    }
    gradNorm = await globalNorm([...summed.values()])
    const scale = clipScale(gradNorm, clipNorm)
    if (scale !== 1) {
      for (const [name, grad] of summed) {
        summed.set(name, grad.mul(scale))
        grad.dispose()
      }
    }
  } catch (error) {
    tf.dispose([...summed.values()])
    throw new UpdateNotAppliedError(error)
  }
  optimizer.apply(new Map(entries), summed, lr)
  tf.dispose([...summed.values()])
  return {
    loss,
    gradNorm,
    targetTokens: totalTokens,
    sourceTokens: microBatches.reduce((sum, b) => sum + b.sourceTokens, 0),
  }
}
