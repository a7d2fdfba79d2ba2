// One update of the training core: gradients summed over micro-batches (gradient accumulation, each weighted
// by its share of target tokens), clipped by global norm, applied by Adam/AdamW at this step's learning rate.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import { backendReadsForFree } from '../core/kernels.ts'
import type { Adam } from './adam.ts'
import { clipScale, clipScaleTensor, flatGradients, flatNorm, globalNorm, globalNormTensor } from './gradient-norm.ts'
import { variableGrads } from './variable-grads.ts'

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

/** A device that reports its errors asynchronously (a GPU): what failed while an update's gradients were computed
 *  is known before the optimizer runs, so an update that met it changes nothing. */
export interface DeviceErrorWatch {
  /** Before the work's first tensor (an update's). */
  begin(): void
  /** Once the work is queued (an update's gradients) or failed: the error that makes its results garbage, or null.
   *  Waits for no GPU work. */
  end(): Promise<Error | null>
}

/** What a micro-batch must tell the update: its share of the tokens. */
export interface BatchSize {
  targetTokens: number
  sourceTokens: number
}

/** One update. `watch` is the device's, where it reports errors late (a GPU backend, whose reads are host syncs);
 *  elsewhere every error is thrown where it happens. */
export async function trainUpdate<B extends BatchSize>(
  params: ParameterStore,
  lossOf: (batch: B) => tf.Scalar,
  microBatches: B[],
  optimizer: Adam,
  lr: number,
  clipNorm: number,
  watch?: DeviceErrorWatch,
): Promise<UpdateResult> {
  const totalTokens = microBatches.reduce((sum, b) => sum + b.targetTokens, 0)
  const sizes = { targetTokens: totalTokens, sourceTokens: microBatches.reduce((sum, b) => sum + b.sourceTokens, 0) }
  if (!backendReadsForFree()) return { ...(await updateOnDevice(params, lossOf, microBatches, totalTokens, optimizer, lr, clipNorm, watch)), ...sizes }
  const entries = params.entries()
  const trained = trainables(params)
  const summed = new Map<string, tf.Tensor>()
  let loss = 0
  let gradNorm: number
  try {
    for (const batch of microBatches) {
      const { value, grads } = batchGradients(trained, lossOf, batch, totalTokens)
      loss += (await value.data())[0]!
      value.dispose()
      accumulate(summed, grads, trained)
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
  return { loss, gradNorm, ...sizes }
}

/**
 * The same update where reading a tensor is a host sync (a GPU): the loss is summed, the norm taken and the
 * clipping factor applied on the device, and the loss and norm are read back together once the whole update is
 * queued — one read per update, and no stall in the middle of one.
 */
async function updateOnDevice<B extends BatchSize>(
  params: ParameterStore,
  lossOf: (batch: B) => tf.Scalar,
  microBatches: B[],
  totalTokens: number,
  optimizer: Adam,
  lr: number,
  clipNorm: number,
  watch: DeviceErrorWatch | undefined,
): Promise<{ loss: number; gradNorm: number }> {
  const trained = trainables(params)
  const summed = new Map<string, tf.Tensor>()
  let loss: tf.Scalar | null = null
  let readings: tf.Tensor
  try {
    watch?.begin()
    try {
      for (const batch of microBatches) {
        const { value, grads } = batchGradients(trained, lossOf, batch, totalTokens)
        if (loss) {
          const previous: tf.Scalar = loss
          loss = previous.add(value) as tf.Scalar
          tf.dispose([previous, value])
        } else loss = value
        accumulate(summed, grads, trained)
      }
    } catch (error) {
      await watch?.end()
      // Only gradients were queued: no parameter or optimizer state has changed.
      throw new UpdateNotAppliedError(error)
    }
    // Gradients the device computed from garbage (a buffer it could not allocate) are dropped, not applied.
    const deviceError = await watch?.end()
    if (deviceError) throw new UpdateNotAppliedError(deviceError)
    // Where the optimizer updates all parameters at once, the flat gradient it takes also gives the norm.
    const names = [...summed.keys()]
    const flatGrad = optimizer.appliesFlat() ? flatGradients([...summed.values()]) : null
    const norm = flatGrad ? flatNorm(flatGrad) : globalNormTensor([...summed.values()])
    const scale = Number.isFinite(clipNorm) ? clipScaleTensor(norm, clipNorm) : null
    if (flatGrad) optimizer.applyFlat(new Map(params.entries()), names, flatGrad, lr, scale)
    else optimizer.apply(new Map(params.entries()), summed, lr, scale)
    readings = tf.stack([loss!, norm])
    tf.dispose([norm, ...(scale ? [scale] : []), ...(flatGrad ? [flatGrad] : [])])
  } finally {
    tf.dispose([...summed.values(), ...(loss ? [loss] : [])])
  }
  const [lossValue, gradNorm] = await readings.data()
  readings.dispose()
  return { loss: lossValue!, gradNorm: gradNorm! }
}

/** The parameters' variables, and their logical names (the optimizer's keys) by variable name. */
interface Trainables {
  variables: tf.Variable[]
  logical: Map<string, string>
}

function trainables(params: ParameterStore): Trainables {
  const entries = params.entries()
  return { variables: entries.map(([, v]) => v), logical: new Map(entries.map(([name, v]) => [v.name, name])) }
}

/** One micro-batch's loss, weighted by its share of the target tokens, and its gradients by variable name. */
function batchGradients<B extends BatchSize>(trained: Trainables, lossOf: (batch: B) => tf.Scalar, batch: B, totalTokens: number) {
  const share = batch.targetTokens / totalTokens
  return variableGrads(() => tf.tidy(() => lossOf(batch).mul(share)), trained.variables)
}

/** Adds a micro-batch's gradients (by variable name) into the sums by logical parameter name. */
function accumulate(summed: Map<string, tf.Tensor>, grads: tf.NamedTensorMap, trained: Trainables): void {
  for (const [variableName, grad] of Object.entries(grads)) {
    const name = trained.logical.get(variableName)!
    const previous = summed.get(name)
    if (previous) {
      summed.set(name, previous.add(grad))
      previous.dispose()
      grad.dispose()
    } else summed.set(name, grad)
  }
}
