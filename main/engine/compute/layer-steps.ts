// What the whole-layer recurrent kernels (lstm-layer-kernels.ts, gru-layer-kernels.ts) share: the uniforms each
// time step's dispatch gets.
import { stepOrder } from '../../../models/rnn/sequence-steps.ts'
import { u32, type UniformValue } from './webgpu-backend.ts'

/** The uniform struct's fields: sizes, the step's time index t, the next step's, and where the step stands. */
export const stepParams = 'batch : u32, hidden : u32, count : u32, steps : u32, t : u32, next : u32, first : u32, last : u32, masked : u32'

/**
 * Each step's uniforms, in the order the dispatches run: the layer's reading order forward, its reverse backward.
 * `first`/`last` and `next` are relative to that order; count = B·H.
 */
export function stepUniforms(shape: { steps: number; batch: number; hidden: number }, attrs: { reverse: boolean; masked: boolean }, backward: boolean): UniformValue[][] {
  const { steps, batch, hidden } = shape
  const order = stepOrder(steps, attrs.reverse)
  if (backward) order.reverse()
  return order.map((t, k) => {
    const last = k === steps - 1
    return [batch, hidden, batch * hidden, steps, t, last ? 0 : order[k + 1]!, k === 0 ? 1 : 0, last ? 1 : 0, attrs.masked ? 1 : 0].map(u32)
  })
}
