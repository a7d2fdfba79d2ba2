// The fused attention kernels models/attention/fused-attention.ts runs on the webgpu backend: one dispatch forward
// (scores, mask, softmax, dropout and the weighted sum of the values, per (batch, head, query) row) and two backward
// (the scores' gradient and dq per row; dk and dv per element). Heads are read in place from [B, T, h·dk], where
// the queries, keys and values sit side by side: self-attention's q holds all three ([B, T, 3·h·dk]), cross-attention's
// kv the keys and values ([B, Tk, h·dk + h·dv]: values may be wider than keys, as an RNN's bidirectional memory is);
// the gradients come out in the same layouts.
import * as tf from '@tensorflow/tfjs'
import { fusedAttentionGradKernel, fusedAttentionKernel, type FusedAttentionAttrs } from '../../../models/attention/fused-attention.ts'
import { maskedScore } from '../../../models/attention/mask.ts'
import { dropoutParams, dropoutUniforms, wgslKeepFactor } from './dropout-kernels.ts'
import { dispatchInto, f32, groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, wgslEachRow, wgslWorkgroupReductions, workgroupSize, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

/** Sizes, the mask's switches and dropout's: one struct for all three shaders. */
const attentionParams =
  'rows : u32, count : u32, batch : u32, heads : u32, queryLen : u32, keyLen : u32, headSize : u32, valueHeadSize : u32, masked : u32, causal : u32, ' +
  `${dropoutParams}, scale : f32, qStride : u32, kvStride : u32, kOffset : u32, vOffset : u32`

/** Where row `row` = (b·h + head)·Tq + i starts in q and in the weights, and the dropout factor of weight `at`. */
const wgslRowHelpers = `${wgslKeepFactor}
fn keysWidth() -> u32 { return p.heads * p.headSize; }
fn valuesWidth() -> u32 { return p.heads * p.valueHeadSize; }
fn batchOf(row : u32) -> u32 { return row / (p.heads * p.queryLen); }
fn headOf(row : u32) -> u32 { return (row / p.queryLen) % p.heads; }
fn queryOf(row : u32) -> u32 { return row % p.queryLen; }
/** The first element of (batch b, query i, head) in the context and its gradient, [B, Tq, h·dv]. */
fn contextStart(b : u32, i : u32, head : u32) -> u32 { return (b * p.queryLen + i) * valuesWidth() + head * p.valueHeadSize; }
/** The same in q, whose rows are qStride wide, and of the keys and the values in kv (kvStride wide). */
fn queryStart(b : u32, i : u32, head : u32) -> u32 { return (b * p.queryLen + i) * p.qStride + head * p.headSize; }
fn keyStart(b : u32, j : u32, head : u32) -> u32 { return (b * p.keyLen + j) * p.kvStride + p.kOffset + head * p.headSize; }
fn valueStart(b : u32, j : u32, head : u32) -> u32 { return (b * p.keyLen + j) * p.kvStride + p.vOffset + head * p.valueHeadSize; }
`

/** Where a row's query sits in q (qStart) and in the context (cStart), and its weights start (wStart). */
const wgslRowStart = `
  let b = batchOf(row);
  let head = headOf(row);
  let i = queryOf(row);
  let qStart = queryStart(b, i, head);
  let cStart = contextStart(b, i, head);
  let wStart = row * p.keyLen;`

/**
 * WGSL for a shader with one workgroup per row (wgslEachRow, wgslWorkgroupReductions): the row's p.keyLen scores in
 * `array` from `start`, each lane's largest in `localMax`, become their softmax in place.
 */
export function wgslSoftmaxInPlace(array: string, start: string): string {
  return `
  let rowMax = workgroupMax(lane, localMax);
  var localSum = 0.0;
  for (var j = lane; j < p.keyLen; j = j + ${workgroupSize}u) {
    let e = exp(${array}[${start} + j] - rowMax);
    ${array}[${start} + j] = e;
    localSum = localSum + e;
  }
  let total = workgroupSum(lane, localSum);
  for (var j = lane; j < p.keyLen; j = j + ${workgroupSize}u) { ${array}[${start} + j] = ${array}[${start} + j] / total; }`
}

// weights[row, j] = softmax_j(q·k_j · scale + mask), then context = Σ_j dropout(weights)[row, j] · v_j.
const forwardShader: FusedShader = {
  key: 'kotoba_attention',
  code: `${wgslWorkgroupReductions}
${wgslBindings(['context', 'weights'], ['q', 'kv', 'keyMask'], attentionParams)}
${wgslRowHelpers}
${wgslEachRow}
${wgslRowStart}
  var localMax = -3.4e38;
  for (var j = lane; j < p.keyLen; j = j + ${workgroupSize}u) {
    let kStart = keyStart(b, j, head);
    var dot = 0.0;
    for (var d = 0u; d < p.headSize; d++) { dot = dot + q[qStart + d] * kv[kStart + d]; }
    var score = dot * p.scale;
    if (p.masked == 1u) { score = score + (1.0 - keyMask[b * p.keyLen + j]) * (${maskedScore.toExponential()}); }
    if (p.causal == 1u && j + p.queryLen > i + p.keyLen) { score = score + (${maskedScore.toExponential()}); }
    weights[wStart + j] = score;
    localMax = max(localMax, score);
  }
${wgslSoftmaxInPlace('weights', 'wStart')}
  storageBarrier(); // every lane's weights, before any lane sums over all of them
  for (var d = lane; d < p.valueHeadSize; d = d + ${workgroupSize}u) {
    var acc = 0.0;
    for (var j = 0u; j < p.keyLen; j++) { acc = acc + weights[wStart + j] * keepFactor(wStart + j) * kv[valueStart(b, j, head) + d]; }
    context[cStart + d] = acc;
  }
}`,
}

// Per row: dP̃_j = dC·v_j, dP_j = dP̃_j · keep_j, dS_j = P_j (dP_j − Σ_l P_l dP_l) · scale; then dq = Σ_j dS_j k_j.
const scoresGradShader: FusedShader = {
  key: 'kotoba_attention_grad_scores',
  code: `${wgslWorkgroupReductions}
${wgslBindings(['dScores', 'dq'], ['dContext', 'kv', 'weights'], attentionParams)}
${wgslRowHelpers}
${wgslEachRow}
${wgslRowStart}
  var localDot = 0.0;
  for (var j = lane; j < p.keyLen; j = j + ${workgroupSize}u) {
    let vStart = valueStart(b, j, head);
    var dot = 0.0;
    for (var d = 0u; d < p.valueHeadSize; d++) { dot = dot + dContext[cStart + d] * kv[vStart + d]; }
    let dWeight = dot * keepFactor(wStart + j);
    dScores[wStart + j] = dWeight;
    localDot = localDot + dWeight * weights[wStart + j];
  }
  let rowDot = workgroupSum(lane, localDot);
  for (var j = lane; j < p.keyLen; j = j + ${workgroupSize}u) {
    dScores[wStart + j] = weights[wStart + j] * (dScores[wStart + j] - rowDot) * p.scale;
  }
  storageBarrier();
  for (var d = lane; d < p.headSize; d = d + ${workgroupSize}u) {
    var acc = 0.0;
    for (var j = 0u; j < p.keyLen; j++) { acc = acc + dScores[wStart + j] * kv[keyStart(b, j, head) + d]; }
    dq[qStart + d] = acc;
  }
}`,
}

// Per element of kv's keys and values at (b, j): a key element (head, d) takes dk = Σ_i dS[i, j] q_i[d], a value
// element dv = Σ_i dropout(P)[i, j] dC_i[d]; written in kv's layout (for self-attention, into the tensor holding dq).
const keysValuesGradShader: FusedShader = {
  key: 'kotoba_attention_grad_keys_values',
  code: `
${wgslBindings(['dkv'], ['dScores', 'q', 'weights', 'dContext'], attentionParams)}
${wgslRowHelpers}
${wgslEachElement}
  let perKey = keysWidth() + valuesWidth();
  let b = at / (p.keyLen * perKey);
  let j = (at / perKey) % p.keyLen;
  let e = at % perKey;
  var acc = 0.0;
  if (e < keysWidth()) {
    let head = e / p.headSize;
    let d = e % p.headSize;
    for (var i = 0u; i < p.queryLen; i++) {
      acc = acc + dScores[((b * p.heads + head) * p.queryLen + i) * p.keyLen + j] * q[queryStart(b, i, head) + d];
    }
    dkv[keyStart(b, j, head) + d] = acc;
  } else {
    let head = (e - keysWidth()) / p.valueHeadSize;
    let d = (e - keysWidth()) % p.valueHeadSize;
    for (var i = 0u; i < p.queryLen; i++) {
      let weightAt = ((b * p.heads + head) * p.queryLen + i) * p.keyLen + j;
      acc = acc + weights[weightAt] * keepFactor(weightAt) * dContext[contextStart(b, i, head) + d];
    }
    dkv[valueStart(b, j, head) + d] = acc;
  }
}`,
}

function uniformsOf(q: TensorInfo, kv: TensorInfo, attrs: FusedAttentionAttrs) {
  const [batch, queryLen, qStride] = q.shape as [number, number, number]
  const [keyLen, kvStride] = [kv.shape[1]!, kv.shape[2]!]
  // Self-attention: q = [queries | keys | values], all h·dk wide. Cross: q the queries (h·dk), kv = [keys | values].
  const keysWidth = attrs.selfPacked ? qStride / 3 : qStride
  const valuesWidth = attrs.selfPacked ? keysWidth : kvStride - keysWidth
  const fits = attrs.selfPacked ? kvStride === qStride && qStride % (3 * attrs.heads) === 0 : valuesWidth > 0 && keysWidth % attrs.heads === 0 && valuesWidth % attrs.heads === 0
  if (!fits) throw new Error(`attention: keys and values [${kv.shape}] do not fit queries [${q.shape}] in ${attrs.heads} heads`)
  const [kOffset, vOffset] = attrs.selfPacked ? [keysWidth, 2 * keysWidth] : [0, keysWidth]
  const rows = batch * attrs.heads * queryLen
  const count = batch * keyLen * (keysWidth + valuesWidth) // the keys' and values' elements, one thread each
  const uniforms = [
    u32(rows), u32(count), u32(batch), u32(attrs.heads), u32(queryLen), u32(keyLen), u32(keysWidth / attrs.heads), u32(valuesWidth / attrs.heads),
    u32(attrs.masked ? 1 : 0), u32(attrs.causal ? 1 : 0), ...dropoutUniforms(attrs.dropout, attrs.seed), f32(attrs.scale), u32(qStride), u32(kvStride), u32(kOffset), u32(vOffset),
  ]
  return { uniforms, rows, count, contextShape: [batch, queryLen, valuesWidth], weightsShape: [batch, attrs.heads, queryLen, keyLen] }
}

export function registerWebGpuAttentionKernels(): void {
  registerWebGpuKernel(fusedAttentionKernel, [forwardShader], ({ inputs, attrs }, backend) => {
    const { q, kv, keyMask } = inputs as Record<'q' | 'kv' | 'keyMask', TensorInfo>
    const { uniforms, rows, contextShape, weightsShape } = uniformsOf(q, kv, attrs as unknown as FusedAttentionAttrs)
    return runFused(backend, forwardShader, [q, kv, keyMask], [contextShape, weightsShape], uniforms, rows)
  })
  registerWebGpuKernel(fusedAttentionGradKernel, [scoresGradShader, keysValuesGradShader], ({ inputs, attrs }, backend) => {
    const { dContext, q, kv, weights } = inputs as Record<'dContext' | 'q' | 'kv' | 'weights', TensorInfo>
    const attentionAttrs = attrs as unknown as FusedAttentionAttrs
    const { uniforms, rows, count, weightsShape } = uniformsOf(q, kv, attentionAttrs)
    // dq in q's layout: for self-attention the one gradient of q, k and v, whose dk and dv the second dispatch fills.
    const [dScores, dq] = runFused(backend, scoresGradShader, [dContext, kv, weights], [weightsShape, q.shape], uniforms, rows) as [TensorInfo, TensorInfo]
    const dkv = attentionAttrs.selfPacked ? dq : backend.makeTensorInfo(kv.shape, 'float32')
    dispatchInto(backend, keysValuesGradShader, [dkv], [dScores, q, weights, dContext], uniforms, groupsFor(count))
    backend.disposeData(dScores.dataId)
    return attentionAttrs.selfPacked ? [dq] : [dq, dkv]
  })
}
