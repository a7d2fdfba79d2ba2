// The input-feeding decoder on the webgpu backend (models/seq2seq/feeding-decoder.ts runs it where registered): per
// target step three dispatches forward — the products with h̃_{t−1} and h_{t−1} and the LSTM's or GRU's gates; Luong
// attention; W_c and tanh — and three backward — W_c's and tanh's gradient; the attention's and the gates'; the
// products' — instead of ~30 stock dispatches a step. The keys' and values' gradient over all steps is one dispatch
// after the loop. The gate arithmetic is lstm-kernels.ts's and gru-kernels.ts's, the attention's attention-kernels.ts's
// (one unscaled head), in the same order.
import * as tf from '@tensorflow/tfjs'
import { maskedScore } from '../../../models/attention/mask.ts'
import { wgslSoftmaxInPlace } from './attention-kernels.ts'
import { feedingDecoderGradKernel, feedingDecoderKernel, type FeedingDecoderAttrs } from '../../../models/seq2seq/feeding-decoder.ts'
import { wgslGruCell, wgslGruCellGrad, wgslLstmCell, wgslLstmCellGrad } from './layer-steps.ts'
import { dispatchInto, dispatchLoop, groupsFor, registerWebGpuKernel, u32, wgslBindings, wgslEachElement, wgslEachRow, wgslWorkgroupReductions, workgroupSize, type FusedShader, type UniformValue } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

/** Sizes (H hidden, V the values' width, S source positions), the step t and where it stands, and the threads. */
const decoderParams = 'count : u32, rows : u32, batch : u32, hidden : u32, steps : u32, keyLen : u32, valueSize : u32, t : u32, first : u32, last : u32, masked : u32'

// Tensors [B, T, n] are read a (b, t) row at a time: row r = b·T + t. W = H + V is the width of the keys and values
// (packed) and of [h_t; ctx_t] (combined); cells hold per row c_{t−1}, σ(i), σ(f), tanh(g), σ(o), c_t (each H).
const wgslRows = `
fn stepRow(b : u32) -> u32 { return b * p.steps + p.t; }
fn combinedWidth() -> u32 { return p.hidden + p.valueSize; }`

/**
 * Forward at step t, one thread per (b, j): z = P_t + [h̃_{t−1}; h_{t−1}]·[W_f; U], the gates, c_t and h_t. The first
 * step reads h̃₀, h₀, c₀ and copies them where the backward pass reads a step's inputs; h_t goes to combined and, with
 * c_t, to the next step's inputs.
 */
const lstmStepShader: FusedShader = {
  key: 'kotoba_feeding_step_lstm',
  looped: true,
  code: `
${wgslBindings(['stepInputs', 'cells', 'combined'], ['projected', 'weights', 'h0', 'c0', 'feed0'], decoderParams)}
${wgslRows}
${wgslLstmCell}
${wgslEachElement}
  let H = p.hidden;
  let b = at / H;
  let j = at % H;
  let here = stepRow(b);
  let zAt = here * 4u * H + j;
  let cellAt = here * 6u * H + j;
  let inAt = here * 2u * H;
  var ri = 0.0; var rf = 0.0; var rg = 0.0; var ro = 0.0;
  for (var k = 0u; k < 2u * H; k++) {
    // [h̃_{t−1}; h_{t−1}]: from the step inputs, or at the first step from h̃₀ and h₀.
    var xk : f32;
    if (p.first == 0u) { xk = stepInputs[inAt + k]; } else if (k < H) { xk = feed0[b * H + k]; } else { xk = h0[b * H + k - H]; }
    let w = k * 4u * H + j;
    ri += xk * weights[w]; rf += xk * weights[w + H]; rg += xk * weights[w + 2u * H]; ro += xk * weights[w + 3u * H];
  }
  var cPrev : f32;
  if (p.first == 1u) {
    cPrev = c0[at];
    stepInputs[inAt + j] = feed0[at];
    stepInputs[inAt + H + j] = h0[at];
    cells[cellAt] = cPrev;
  } else {
    cPrev = cells[cellAt];
  }
  let cell = lstmCell(vec4<f32>(projected[zAt] + ri, projected[zAt + H] + rf, projected[zAt + 2u * H] + rg, projected[zAt + 3u * H] + ro), cPrev, cellAt, H);
  let hn = cell.x;
  let cn = cell.y;
  combined[here * combinedWidth() + j] = hn;
  if (p.last == 0u) {
    stepInputs[(here + 1u) * 2u * H + H + j] = hn;
    cells[(here + 1u) * 6u * H + j] = cn;
  }
}`,
}

/**
 * The same for a GRU: x = P_t + h̃_{t−1}·W_f, a = h_{t−1}·U + b_U, then r, z, n and h_t (gru-kernels.ts's gates).
 * Its cell values (`gates`, 5H a row) keep r, z, n, a_n and h_{t−1} for the backward pass.
 */
const gruStepShader: FusedShader = {
  key: 'kotoba_feeding_step_gru',
  looped: true,
  code: `
${wgslBindings(['stepInputs', 'gates', 'combined'], ['projected', 'weights', 'h0', 'recurrentBias', 'feed0'], decoderParams)}
${wgslRows}
${wgslGruCell}
${wgslEachElement}
  let H = p.hidden;
  let b = at / H;
  let j = at % H;
  let here = stepRow(b);
  let xAt = here * 3u * H + j;
  let gatesAt = here * 5u * H + j;
  let inAt = here * 2u * H;
  var xr = 0.0; var xz = 0.0; var xn = 0.0; var ar = 0.0; var az = 0.0; var an = 0.0;
  for (var k = 0u; k < H; k++) {
    var fk : f32;
    var hk : f32;
    if (p.first == 1u) { fk = feed0[b * H + k]; hk = h0[b * H + k]; } else { fk = stepInputs[inAt + k]; hk = stepInputs[inAt + H + k]; }
    let wf = k * 3u * H + j;
    let wh = (H + k) * 3u * H + j;
    xr += fk * weights[wf]; xz += fk * weights[wf + H]; xn += fk * weights[wf + 2u * H];
    ar += hk * weights[wh]; az += hk * weights[wh + H]; an += hk * weights[wh + 2u * H];
  }
  var hPrev : f32;
  if (p.first == 1u) {
    hPrev = h0[at];
    stepInputs[inAt + j] = feed0[at];
    stepInputs[inAt + H + j] = hPrev;
  } else {
    hPrev = stepInputs[inAt + H + j];
  }
  let x = vec3<f32>(projected[xAt] + xr, projected[xAt + H] + xz, projected[xAt + 2u * H] + xn);
  let a = vec3<f32>(ar + recurrentBias[j], az + recurrentBias[j + H], an + recurrentBias[j + 2u * H]);
  let hn = gruCell(x, a, hPrev, gatesAt, H);
  gates[gatesAt + 4u * H] = hPrev;
  combined[here * combinedWidth() + j] = hn;
  if (p.last == 0u) { stepInputs[(here + 1u) * 2u * H + H + j] = hn; }
}`,
}

/** Forward at step t, one workgroup per b: a = softmax(h_tᵀK + mask), ctx_t = Σ_s a(s) V_s into combined beside h_t. */
const attentionShader: FusedShader = {
  key: 'kotoba_feeding_attention',
  looped: true,
  code: `${wgslWorkgroupReductions}
${wgslBindings(['attention', 'combined'], ['packed', 'keyMask'], decoderParams)}
${wgslRows}
${wgslEachRow}
  let b = row;
  let W = combinedWidth();
  let qAt = stepRow(b) * W;
  let wStart = stepRow(b) * p.keyLen;
  var localMax = -3.4e38;
  for (var s = lane; s < p.keyLen; s = s + ${workgroupSize}u) {
    let kAt = (b * p.keyLen + s) * W;
    var score = 0.0;
    for (var d = 0u; d < p.hidden; d++) { score = score + combined[qAt + d] * packed[kAt + d]; }
    if (p.masked == 1u) { score = score + (1.0 - keyMask[b * p.keyLen + s]) * (${maskedScore.toExponential()}); }
    attention[wStart + s] = score;
    localMax = max(localMax, score);
  }
${wgslSoftmaxInPlace('attention', 'wStart')}
  storageBarrier(); // every lane's weights, before any lane sums over all of them
  for (var d = lane; d < p.valueSize; d = d + ${workgroupSize}u) {
    var acc = 0.0;
    for (var s = 0u; s < p.keyLen; s++) { acc = acc + attention[wStart + s] * packed[(b * p.keyLen + s) * W + p.hidden + d]; }
    combined[qAt + p.hidden + d] = acc;
  }
}`,
}

/** Forward at step t, one thread per (b, k): h̃_t = tanh([h_t; ctx_t]·W_c), also the next step's fed input. */
const combineShader: FusedShader = {
  key: 'kotoba_feeding_combine',
  looped: true,
  code: `
${wgslBindings(['attentional', 'stepInputs'], ['combined', 'combine'], decoderParams)}
${wgslRows}
${wgslEachElement}
  let H = p.hidden;
  let W = combinedWidth();
  let b = at / H;
  let k = at % H;
  let here = stepRow(b);
  var acc = 0.0;
  for (var j = 0u; j < W; j++) { acc = acc + combined[here * W + j] * combine[j * H + k]; }
  let y = safeTanh(acc);
  attentional[here * H + k] = y;
  if (p.last == 0u) { stepInputs[(here + 1u) * 2u * H + k] = y; }
}`,
}

// dState [3, B, H] carries, from step t + 1 back to step t, the gradient of h̃_t (fed into step t + 1), of h_t and of c_t.

/**
 * Backward at step t, one thread per (b, j) of [h_t; ctx_t]: dpre = (dh̃_t + fed gradient) ⊙ (1 − h̃_t²), then
 * d[h_t; ctx_t] = dpre·W_cᵀ; the threads j < H also keep dpre_j for W_c's gradient.
 */
const combineGradShader: FusedShader = {
  key: 'kotoba_feeding_grad_combine',
  looped: true,
  code: `
${wgslBindings(['dCombined', 'dPre', 'dState'], ['dAttentional', 'attentional', 'combineT'], decoderParams)}
${wgslRows}
${wgslEachElement}
  let H = p.hidden;
  let W = combinedWidth();
  let b = at / W;
  let j = at % W;
  let here = stepRow(b);
  var acc = 0.0;
  for (var k = 0u; k < H; k++) {
    let y = attentional[here * H + k];
    let dPreK = (dAttentional[here * H + k] + select(dState[b * H + k], 0.0, p.first == 1u)) * (1.0 - y * y);
    acc = acc + dPreK * combineT[k * W + j];
    if (k == j) { dPre[here * H + j] = dPreK; }
  }
  dCombined[here * W + j] = acc;
}`,
}

/** Per cell, the gates' gradient at (b, j) from dh (of h_t), as lstm-kernels.ts and gru-kernels.ts compute it. */
const wgslGatesGrad = {
  // dz_t [4H] into dGates; dc_{t−1} into dState[2].
  lstm: `
    var dc = 0.0;
    if (p.first == 0u) { dc = dState[(2u * p.batch + b) * H + j]; }
    let grad = lstmCellGrad(dh, dc, here * 6u * H + j, H);
    let zAt = here * 4u * H + j;
    dGates[zAt] = grad.dz.x;
    dGates[zAt + H] = grad.dz.y;
    dGates[zAt + 2u * H] = grad.dz.z;
    dGates[zAt + 3u * H] = grad.dz.w;
    dState[(2u * p.batch + b) * H + j] = grad.dcPrev;`,
  // dx_t [3H] and da_t [3H] side by side into dGates; the direct path z⊙dh into dState[2] (for dh_{t−1}).
  gru: `
    let gatesAt = here * 5u * H + j;
    let grad = gruCellGrad(dh, gates[gatesAt + 4u * H], gatesAt, H);
    let xAt = here * 6u * H + j;
    dGates[xAt] = grad.dx.x;
    dGates[xAt + H] = grad.dx.y;
    dGates[xAt + 2u * H] = grad.dx.z;
    dGates[xAt + 3u * H] = grad.da.x;
    dGates[xAt + 4u * H] = grad.da.y;
    dGates[xAt + 5u * H] = grad.da.z;
    dState[(2u * p.batch + b) * H + j] = grad.dhDirect;`,
}

/**
 * Backward at step t, one workgroup per b: the attention's gradient — dscore = a ⊙ (dctx·V − Σ a dctx·V), dq = Σ_s
 * dscore_s K_s — then per j the gates' gradient from dh_t = d[h_t from W_c] + dq + the carried dh.
 */
function attentionGradShader(cell: FeedingDecoderAttrs['cell']): FusedShader {
  return {
    key: `kotoba_feeding_grad_attention_${cell}`,
    looped: true,
    code: `${wgslWorkgroupReductions}
${wgslBindings(['dScores', 'dGates', 'dState'], ['dCombined', 'packed', 'attention', cell === 'lstm' ? 'cells' : 'gates'], decoderParams)}
${wgslRows}
${cell === 'lstm' ? wgslLstmCellGrad : wgslGruCellGrad}
${wgslEachRow}
  let b = row;
  let H = p.hidden;
  let W = combinedWidth();
  let here = stepRow(b);
  let wStart = here * p.keyLen;
  var localDot = 0.0;
  for (var s = lane; s < p.keyLen; s = s + ${workgroupSize}u) {
    let vAt = (b * p.keyLen + s) * W + H;
    var dot = 0.0;
    for (var d = 0u; d < p.valueSize; d++) { dot = dot + dCombined[here * W + H + d] * packed[vAt + d]; }
    dScores[wStart + s] = dot;
    localDot = localDot + dot * attention[wStart + s];
  }
  let rowDot = workgroupSum(lane, localDot);
  for (var s = lane; s < p.keyLen; s = s + ${workgroupSize}u) {
    dScores[wStart + s] = attention[wStart + s] * (dScores[wStart + s] - rowDot);
  }
  storageBarrier();
  for (var j = lane; j < H; j = j + ${workgroupSize}u) {
    var dq = 0.0;
    for (var s = 0u; s < p.keyLen; s++) { dq = dq + dScores[wStart + s] * packed[(b * p.keyLen + s) * W + j]; }
    var dh = dCombined[here * W + j] + dq;
    if (p.first == 0u) { dh = dh + dState[(p.batch + b) * H + j]; }
${wgslGatesGrad[cell]}
  }
}`,
  }
}

/**
 * Backward at step t, one thread per (b, j) of [h̃_{t−1}; h_{t−1}]: their gradients, carried to step t − 1. LSTM:
 * dz_t·[W_f; U]ᵀ. GRU: dx_t·W_fᵀ and da_t·Uᵀ + z⊙dh (kept in dState[2]).
 */
function recurrentGradShader(cell: FeedingDecoderAttrs['cell']): FusedShader {
  const sum =
    cell === 'lstm'
      ? 'for (var k = 0u; k < 4u * H; k++) { acc = acc + dGates[here * 4u * H + k] * weightsT[k * 2u * H + j]; }'
      : `let base = here * 6u * H + select(0u, 3u * H, j >= H);
  for (var k = 0u; k < 3u * H; k++) { acc = acc + dGates[base + k] * weightsT[k * 2u * H + j]; }
  if (j >= H) { acc = acc + dState[(2u * p.batch + b) * H + j - H]; }`
  return {
    key: `kotoba_feeding_grad_recurrent_${cell}`,
    looped: true,
    code: `
${wgslBindings(['dState'], ['dGates', 'weightsT'], decoderParams)}
${wgslRows}
${wgslEachElement}
  let H = p.hidden;
  let b = at / (2u * H);
  let j = at % (2u * H);
  let here = stepRow(b);
  var acc = 0.0;
  ${sum}
  if (j < H) { dState[b * H + j] = acc; } else { dState[(p.batch + b) * H + j - H] = acc; }
}`,
  }
}

/** After the loop, one thread per element of the keys and values (b, s, e): dK = Σ_t dscore_t(s) h_t, dV = Σ_t a_t(s) dctx_t. */
const keysValuesGradShader: FusedShader = {
  key: 'kotoba_feeding_grad_keys_values',
  code: `
${wgslBindings(['dPacked'], ['dScores', 'combined', 'attention', 'dCombined'], decoderParams)}
${wgslRows}
${wgslEachElement}
  let W = combinedWidth();
  let b = at / (p.keyLen * W);
  let s = (at / W) % p.keyLen;
  let e = at % W;
  var acc = 0.0;
  for (var t = 0u; t < p.steps; t++) {
    let at_t = b * p.steps + t;
    if (e < p.hidden) { acc = acc + dScores[at_t * p.keyLen + s] * combined[at_t * W + e]; }
    else { acc = acc + attention[at_t * p.keyLen + s] * dCombined[at_t * W + e]; }
  }
  dPacked[at] = acc;
}`,
}

interface DecoderShape {
  batch: number
  hidden: number
  steps: number
  keyLen: number
  valueSize: number
}

/** A dispatch's uniforms: `count` threads (or `rows` workgroups) at step t, first/last in the loop's own order. */
function uniformsAt(shape: DecoderShape, threads: { count: number; rows: number }, t: number, first: boolean, last: boolean, attrs: FeedingDecoderAttrs): UniformValue[] {
  const { batch, hidden, steps, keyLen, valueSize } = shape
  return [threads.count, threads.rows, batch, hidden, steps, keyLen, valueSize, t, first ? 1 : 0, last ? 1 : 0, attrs.masked ? 1 : 0].map(u32)
}

const cells = ['lstm', 'gru'] as const
const stepShaders = { lstm: lstmStepShader, gru: gruStepShader }
const attentionGradShaders = { lstm: attentionGradShader('lstm'), gru: attentionGradShader('gru') }
const recurrentGradShaders = { lstm: recurrentGradShader('lstm'), gru: recurrentGradShader('gru') }
/** Per cell: gate blocks (G = gates·H), the width of a step's saved cell values and of its gates' gradient. */
const cellWidths = { lstm: { gates: 4, cells: 6, gatesGrad: 4 }, gru: { gates: 3, cells: 5, gatesGrad: 6 } }

export function registerWebGpuFeedingDecoderKernels(): void {
  registerWebGpuKernel(feedingDecoderKernel, [...cells.map((cell) => stepShaders[cell]), attentionShader, combineShader], ({ inputs, attrs }, backend) => {
    const { projected, weights, h0, c0, recurrentBias, feed0, packed, keyMask, combine } = inputs as Record<'projected' | 'weights' | 'h0' | 'c0' | 'recurrentBias' | 'feed0' | 'packed' | 'keyMask' | 'combine', TensorInfo>
    const decoder = attrs as unknown as FeedingDecoderAttrs
    const widths = cellWidths[decoder.cell]
    const [batch, steps, gateWidth] = projected.shape as [number, number, number]
    const [keyLen, width] = [packed.shape[1]!, packed.shape[2]!]
    const hidden = gateWidth / widths.gates
    const shape: DecoderShape = { batch, hidden, steps, keyLen, valueSize: width - hidden }
    const made = [[batch, steps, hidden], [batch, steps, keyLen], [batch, steps, 2 * hidden], [batch, steps, widths.cells * hidden], [batch, steps, width]].map((s) => backend.makeTensorInfo(s, 'float32'))
    const [attentional, attention, stepInputs, cellValues, combined] = made as [TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo]
    const stepReads = [projected, weights, h0, decoder.cell === 'lstm' ? c0 : recurrentBias, feed0]
    const perState = { count: batch * hidden, rows: 0 }
    const perRow = { count: 0, rows: batch }
    // Step t = k, left to right.
    const at = (threads: { count: number; rows: number }) => (t: number) => uniformsAt(shape, threads, t, t === 0, t === steps - 1, decoder)
    dispatchLoop(backend, steps, [
      { shader: stepShaders[decoder.cell], outputs: [stepInputs, cellValues, combined], inputs: stepReads, groups: groupsFor(perState.count), uniformsAt: at(perState) },
      { shader: attentionShader, outputs: [attention, combined], inputs: [packed, keyMask], groups: batch, uniformsAt: at(perRow) },
      { shader: combineShader, outputs: [attentional, stepInputs], inputs: [combined, combine], groups: groupsFor(perState.count), uniformsAt: at(perState) },
    ])
    return made
  })
  const gradShaders = [combineGradShader, ...cells.flatMap((cell) => [attentionGradShaders[cell], recurrentGradShaders[cell]]), keysValuesGradShader]
  registerWebGpuKernel(feedingDecoderGradKernel, gradShaders, ({ inputs, attrs }, backend) => {
    const { dAttentional, attentional, cells: cellValues, combined, attention, packed, weightsT, combineT } = inputs as Record<'dAttentional' | 'attentional' | 'cells' | 'combined' | 'attention' | 'packed' | 'weightsT' | 'combineT', TensorInfo>
    const decoder = attrs as unknown as FeedingDecoderAttrs
    const [batch, steps, hidden] = attentional.shape as [number, number, number]
    const [keyLen, width] = [packed.shape[1]!, packed.shape[2]!]
    const shape: DecoderShape = { batch, hidden, steps, keyLen, valueSize: width - hidden }
    const gatesGradShape = [batch, steps, cellWidths[decoder.cell].gatesGrad * hidden]
    const [dGates, dPacked, dState, dPre, dCombined, dScores] = [gatesGradShape, packed.shape, [3, batch, hidden], [batch, steps, hidden], [batch, steps, width], [batch, steps, keyLen]].map((s) =>
      backend.makeTensorInfo(s, 'float32'),
    ) as TensorInfo[]
    const perCombined = { count: batch * width, rows: 0 }
    const perRow = { count: 0, rows: batch }
    const perInput = { count: batch * 2 * hidden, rows: 0 }
    // Step k is time t = steps - 1 - k, right to left.
    const at = (threads: { count: number; rows: number }) => (k: number) => uniformsAt(shape, threads, steps - 1 - k, k === 0, k === steps - 1, decoder)
    dispatchLoop(backend, steps, [
      { shader: combineGradShader, outputs: [dCombined!, dPre!, dState!], inputs: [dAttentional, attentional, combineT], groups: groupsFor(perCombined.count), uniformsAt: at(perCombined) },
      { shader: attentionGradShaders[decoder.cell], outputs: [dScores!, dGates!, dState!], inputs: [dCombined!, packed, attention, cellValues], groups: batch, uniformsAt: at(perRow) },
      { shader: recurrentGradShaders[decoder.cell], outputs: [dState!], inputs: [dGates!, weightsT], groups: groupsFor(perInput.count), uniformsAt: at(perInput) },
    ])
    const perKeyValue = { count: batch * keyLen * width, rows: 0 }
    dispatchInto(backend, keysValuesGradShader, [dPacked!], [dScores!, combined, attention, dCombined!], uniformsAt(shape, perKeyValue, 0, false, false, decoder), groupsFor(perKeyValue.count))
    backend.disposeData(dCombined!.dataId)
    backend.disposeData(dScores!.dataId)
    return [dGates!, dPacked!, dState!, dPre!]
  })
}
