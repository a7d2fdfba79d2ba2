// What the whole-layer recurrent kernels (lstm-layer-kernels.ts, gru-layer-kernels.ts) share: the uniforms each
// time step's dispatch gets, and how a thread finds its direction, sequence, unit and time step.
import { stepOrder } from '../../../models/rnn/sequence-steps.ts'
import { u32, type UniformValue } from './webgpu-backend.ts'

/**
 * The uniform struct's fields: sizes, the step's time index t, the next step's, and where the step stands; with two
 * directions (a bidirectional layer in one kernel), t and next are the forward direction's and the backward
 * direction reads them mirrored.
 */
export const stepParams = 'batch : u32, hidden : u32, count : u32, steps : u32, t : u32, next : u32, first : u32, last : u32, masked : u32, directions : u32'

/**
 * Each step's uniforms, in the order the dispatches run: the layer's reading order forward, its reverse backward.
 * `first`/`last` and `next` are relative to that order; count = directions·B·H.
 */
export function stepUniforms(shape: { steps: number; batch: number; hidden: number; directions?: number }, attrs: { reverse: boolean; masked: boolean }, backward: boolean): UniformValue[][] {
  const { steps, batch, hidden, directions = 1 } = shape
  const order = stepOrder(steps, attrs.reverse)
  if (backward) order.reverse()
  return order.map((t, k) => {
    const last = k === steps - 1
    return [batch, hidden, directions * batch * hidden, steps, t, last ? 0 : order[k + 1]!, k === 0 ? 1 : 0, last ? 1 : 0, attrs.masked ? 1 : 0, directions].map(u32)
  })
}

/**
 * With D directions (2: a bidirectional layer's halves in one dispatch a step), tensors hold the directions side by
 * side on their last axis: states [T, B, D·H], per-step gate rows [T, B, D·width]; weights [D, …], h0 [D, B, H].
 * Direction 1 reads the steps mirrored (right to left).
 */
export const wgslDirections = `
fn directionTime(d : u32, t : u32) -> u32 { return select(t, p.steps - 1u - t, d == 1u); }
/** (t, b, d, j) in a [T, B, D·H] state tensor. */
fn stateAt(t : u32, b : u32, d : u32, j : u32) -> u32 { return (t * p.batch + b) * p.directions * p.hidden + d * p.hidden + j; }
/** The first element of (t, b, d)'s row in a [T, B, D·width] tensor. */
fn rowAt(t : u32, b : u32, d : u32, width : u32) -> u32 { return ((t * p.batch + b) * p.directions + d) * width; }`

/** One thread per (d, b, j), `at` running over D·B·H: its direction, sequence, unit and time step. */
export const wgslDirectionThread = `
  let H = p.hidden;
  let d = at / (p.batch * H);
  let b = (at / H) % p.batch;
  let j = at % H;
  let t = directionTime(d, p.t);`
