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

/**
 * The LSTM cell's arithmetic (lstm-kernels.ts's gate shaders', in the same order) for shaders that keep a step's
 * values in `cells`, a (t, b) row of 6H per direction from `cellAt`: the c the step starts from at 0, σ(i), σ(f),
 * tanh(g), σ(o) at H…4H, c' at 5H. The shader declares `cells`.
 */
export const wgslLstmCell = `
/** From the pre-activations z = (zi, zf, zg, zo) and c_{t−1}: stores the gates and c', returns (h', c'). */
fn lstmCell(z : vec4<f32>, cPrev : f32, cellAt : u32, H : u32) -> vec2<f32> {
  let i = sigmoid(z.x);
  let f = sigmoid(z.y);
  let g = safeTanh(z.z);
  let o = sigmoid(z.w);
  cells[cellAt + H] = i;
  cells[cellAt + 2u * H] = f;
  cells[cellAt + 3u * H] = g;
  cells[cellAt + 4u * H] = o;
  let cn = f * cPrev + i * g;
  cells[cellAt + 5u * H] = cn;
  return vec2<f32>(o * safeTanh(cn), cn);
}`

/** Its gradient, for shaders that read `cells` (bound read-only in a backward shader, so apart from lstmCell). */
export const wgslLstmCellGrad = `
struct LstmCellGrad { dz : vec4<f32>, dcPrev : f32 }
/** From dh and dc (of h' and c'): the pre-activations' gradient and that of c_{t−1}. */
fn lstmCellGrad(dh : f32, dc : f32, cellAt : u32, H : u32) -> LstmCellGrad {
  let i = cells[cellAt + H];
  let f = cells[cellAt + 2u * H];
  let g = cells[cellAt + 3u * H];
  let o = cells[cellAt + 4u * H];
  let tc = safeTanh(cells[cellAt + 5u * H]);
  let dcTotal = dc + dh * o * (1.0 - tc * tc);
  let dz = vec4<f32>(dcTotal * g * i * (1.0 - i), dcTotal * cells[cellAt] * f * (1.0 - f), dcTotal * i * (1.0 - g * g), dh * tc * o * (1.0 - o));
  return LstmCellGrad(dz, dcTotal * f);
}`

/**
 * The GRU cell's arithmetic (gru-kernels.ts's gate shaders', reset gate after the recurrent product) for shaders that
 * keep r, z, n and a_n (= h·U_n + b_n) of a step at `gatesAt` + 0…3H in `gates`. The shader declares `gates`.
 */
export const wgslGruCell = `
/** From the input's pre-activations x = (xr, xz, xn), the recurrent ones a and h_{t−1}: stores the gates, returns h'. */
fn gruCell(x : vec3<f32>, a : vec3<f32>, hPrev : f32, gatesAt : u32, H : u32) -> f32 {
  let r = sigmoid(x.x + a.x);
  let z = sigmoid(x.y + a.y);
  let n = safeTanh(x.z + r * a.z);
  gates[gatesAt] = r;
  gates[gatesAt + H] = z;
  gates[gatesAt + 2u * H] = n;
  gates[gatesAt + 3u * H] = a.z;
  return (1.0 - z) * n + z * hPrev;
}`

/** Its gradient, for shaders that read `gates` (apart from gruCell, which writes them). */
export const wgslGruCellGrad = `
struct GruCellGrad { dx : vec3<f32>, da : vec3<f32>, dhDirect : f32 }
/** From dh (of h') and h_{t−1}: the gradients of x and a, and h_{t−1}'s direct share z⊙dh. */
fn gruCellGrad(dh : f32, hPrev : f32, gatesAt : u32, H : u32) -> GruCellGrad {
  let r = gates[gatesAt];
  let z = gates[gatesAt + H];
  let n = gates[gatesAt + 2u * H];
  let an = gates[gatesAt + 3u * H];
  let dnPre = dh * (1.0 - z) * (1.0 - n * n);
  let dzPre = dh * (hPrev - n) * z * (1.0 - z);
  let drPre = dnPre * an * r * (1.0 - r);
  return GruCellGrad(vec3<f32>(drPre, dzPre, dnPre), vec3<f32>(drPre, dzPre, dnPre * r), dh * z);
}`
