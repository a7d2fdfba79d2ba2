// What the recurrent layers (unroll.ts, lstm-sequence.ts, gru-sequence.ts) share about their time steps: the order
// they read them in and which of them hold padding.
import type * as tf from '@tensorflow/tfjs'
import { backendReadsForFree } from '../core/kernels.ts'

/** Time steps in reading order: left to right, or right to left for the backward half of a bidirectional layer. */
export function stepOrder(length: number, reverse: boolean): number[] {
  return Array.from({ length }, (_, k) => (reverse ? length - 1 - k : k))
}

/**
 * Per step, whether any sequence is padded there; steps where every sequence is real need no masking (most steps of
 * a length-bucketed batch). masks [T, B, 1] (1 = real token) or null. Where reading the mask would cost a host
 * sync (a GPU backend), every step is masked instead.
 */
export function paddedSteps(masks: tf.Tensor3D | null, length: number, batch: number): boolean[] {
  if (masks && !backendReadsForFree()) return new Array<boolean>(length).fill(true)
  const values = masks?.dataSync()
  return Array.from({ length }, (_, t) => values?.subarray(t * batch, (t + 1) * batch).some((v) => v !== 1) ?? false)
}
