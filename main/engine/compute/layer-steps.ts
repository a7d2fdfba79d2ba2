// What the whole-layer recurrent kernels (lstm-layer-kernels.ts, gru-layer-kernels.ts) share: the uniforms each
// time step's dispatch gets.
import { u32, type UniformValue } from './webgpu-backend.ts'

/** The uniform struct's fields: sizes, the step's time index t, the next step's, and where the step stands. */
export const stepParams = 'batch : u32, hidden : u32, count : u32, steps : u32, t : u32, next : u32, first : u32, last : u32, masked : u32'

/** The uniforms of the k-th step in `order` (times in processing order), in stepParams' order; count = B·H. */
export function stepUniforms(batch: number, hidden: number, order: number[], k: number, masked: boolean): UniformValue[] {
  const last = k === order.length - 1
  return [batch, hidden, batch * hidden, order.length, order[k]!, last ? 0 : order[k + 1]!, k === 0 ? 1 : 0, last ? 1 : 0, masked ? 1 : 0].map(u32)
}
