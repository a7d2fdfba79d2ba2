// Dropout (Srivastava et al. 2014, eq. 1–4, "inverted": kept units scaled by 1/(1 − rate) while training).
// Where the backend has the fused kernel (the engine registers it), drawing the mask and applying it is one pass
// over a counter-based hash; elsewhere tf.dropout. Each call takes a fresh range of counters.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'

/** Fused kernel: inputs {x}, attrs {rate, seed} → [x · mask, mask], mask = 0 or 1/(1 − rate). */
export const dropoutKernel = 'KotobaDropout'

let nextCounter = Math.floor(Math.random() * 2 ** 32)

/** The counter range of the next call (seeds tests that need the same mask twice). */
export function seedDropout(seed: number): void {
  nextCounter = seed >>> 0
}

/** Seeds every random draw of one training step (dropout masks, word drop) from the run's seed and the step, so a
 *  run is reproducible for its seed, and a resumed or retried step draws exactly what it drew the first time. */
export function seedTrainingStep(runSeed: number, step: number): void {
  seedDropout(Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(step, 0xc2b2ae35))
}

/** A seed for one random tensor of `size` elements, from the same counter as the dropout masks. */
export function nextRandomSeed(size: number): number {
  const seed = nextCounter | 0
  nextCounter = (nextCounter + size) % 2 ** 32
  return seed
}

export function dropout<T extends tf.Tensor>(x: T, rate: number): T {
  if (rate <= 0) return x
  const seed = nextRandomSeed(x.size)
  if (!backendHasKernels(dropoutKernel)) return tf.dropout(x, rate, undefined, seed) as T
  const apply = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc]
    const [output, mask] = tf.engine().runKernel(dropoutKernel, { x: input }, { rate, seed }) as [tf.Tensor, tf.Tensor]
    save([mask])
    return { value: output, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [dy.mul(saved[0]!)] }
  })
  return apply(x) as T
}
