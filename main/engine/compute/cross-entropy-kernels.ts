// The fused softmax cross-entropy kernels models/losses/cross-entropy.ts runs where a backend has them: one pass
// over the [N, V] logits forward (probabilities and per-row losses) and one backward, instead of ~10 kernels.
import * as tf from '@tensorflow/tfjs'
import { softmaxCrossEntropyGradKernel, softmaxCrossEntropyKernel } from '../../../models/losses/cross-entropy.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { backendPool, heapAddress, replaceWasmKernel, type WasmBackendLike } from './wasm-backend.ts'
import { JOBS_PER_THREAD, splitRange } from './wasm-pool.ts'
import { f32, groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, wgslEachRow, wgslWorkgroupReductions, workgroupSize, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo
type Values = tf.TypedArray


/** Plain-JavaScript twin of the SIMD kernel in assembly/tensor-kernels.ts. */
function softmaxCrossEntropy(logits: Values, targets: Values, rows: number, vocab: number, smoothing: number, probs: Float32Array, losses: Float32Array): void {
  for (let row = 0; row < rows; row++) {
    const start = row * vocab
    let max = -Infinity
    let sumLogits = 0
    for (let v = start; v < start + vocab; v++) {
      max = Math.max(max, logits[v]!)
      sumLogits += logits[v]!
    }
    let expSum = 0
    for (let v = start; v < start + vocab; v++) expSum += probs[v] = Math.exp(logits[v]! - max)
    for (let v = start; v < start + vocab; v++) probs[v]! /= expSum
    const logSumExp = max + Math.log(expSum)
    losses[row] = logSumExp - (1 - smoothing) * logits[start + targets[row]!]! - (smoothing / vocab) * sumLogits
  }
}

function softmaxCrossEntropyGrad(probs: Values, targets: Values, weights: Values, dy: number, rows: number, vocab: number, smoothing: number, out: Float32Array): void {
  const uniform = smoothing / vocab
  for (let row = 0; row < rows; row++) {
    const scale = weights[row]! * dy
    const start = row * vocab
    for (let v = start; v < start + vocab; v++) out[v] = (probs[v]! - uniform) * scale
    out[start + targets[row]!]! -= (1 - smoothing) * scale
  }
}

interface ForwardInputs {
  logits: TensorInfo
  targets: TensorInfo
}
interface GradInputs {
  probs: TensorInfo
  targets: TensorInfo
  weights: TensorInfo
  dy: TensorInfo
}
const smoothingOf = (attrs: unknown) => (attrs as { smoothing: number }).smoothing

function checkTargets(targets: Values, vocab: number): void {
  for (const target of targets) {
    if (!(target >= 0 && target < vocab)) throw new Error(`cross-entropy: target id ${target} is outside the vocabulary of ${vocab}`)
  }
}

export function registerCpuCrossEntropyKernels(): void {
  replaceCpuKernel(softmaxCrossEntropyKernel, ({ inputs, attrs }, cpu) => {
    const { logits, targets } = inputs as unknown as ForwardInputs
    const [rows, vocab] = logits.shape as [number, number]
    const probs = new Float32Array(rows * vocab)
    const losses = new Float32Array(rows)
    const targetIds = cpuValues(cpu, targets)
    checkTargets(targetIds, vocab)
    softmaxCrossEntropy(cpuValues(cpu, logits), targetIds, rows, vocab, smoothingOf(attrs), probs, losses)
    return [cpu.makeTensorInfo([rows], 'float32', losses), cpu.makeTensorInfo([rows, vocab], 'float32', probs)]
  })
  replaceCpuKernel(softmaxCrossEntropyGradKernel, ({ inputs, attrs }, cpu) => {
    const { probs, targets, weights, dy } = inputs as unknown as GradInputs
    const [rows, vocab] = probs.shape as [number, number]
    const out = new Float32Array(rows * vocab)
    const values = (info: TensorInfo) => cpuValues(cpu, info)
    softmaxCrossEntropyGrad(values(probs), values(targets), values(weights), values(dy)[0]!, rows, vocab, smoothingOf(attrs), out)
    return cpu.makeTensorInfo([rows, vocab], 'float32', out)
  })
}

/** Rows split across the pool's threads (one block when the logits are too few to be worth a wake-up). */
function rowBlocks(backend: WasmBackendLike, rows: number, vocab: number): [number, number][] {
  return splitRange(rows, rows * vocab < 1 << 16 ? 1 : backendPool(backend).threads * JOBS_PER_THREAD)
}

export function registerWasmCrossEntropyKernels(): void {
  replaceWasmKernel(softmaxCrossEntropyKernel, ({ inputs, backend, attrs }) => {
    const { logits, targets } = inputs as unknown as ForwardInputs
    const wasm = backend as unknown as WasmBackendLike
    const [rows, vocab] = logits.shape as [number, number]
    checkTargets(wasm.typedArrayFromHeap(targets) as Int32Array, vocab)
    const losses = wasm.makeOutput([rows], 'float32')
    const probs = wasm.makeOutput([rows, vocab], 'float32')
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    const [z, y, p, l] = [address(logits), address(targets), address(probs), address(losses)]
    const smoothing = smoothingOf(attrs)
    backendPool(wasm).run('tensor.softmaxCrossEntropy', rowBlocks(wasm, rows, vocab).map(([r0, r1]) => [
      z + r0 * vocab * 4, y + r0 * 4, r1 - r0, vocab, smoothing, p + r0 * vocab * 4, l + r0 * 4,
    ]))
    return [losses, probs]
  })
  replaceWasmKernel(softmaxCrossEntropyGradKernel, ({ inputs, backend, attrs }) => {
    const { probs, targets, weights, dy } = inputs as unknown as GradInputs
    const wasm = backend as unknown as WasmBackendLike
    const [rows, vocab] = probs.shape as [number, number]
    const out = wasm.makeOutput([rows, vocab], 'float32')
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    const dyValue = wasm.typedArrayFromHeap(dy)[0]!
    const [p, y, w, dz] = [address(probs), address(targets), address(weights), address(out)]
    const smoothing = smoothingOf(attrs)
    backendPool(wasm).run('tensor.softmaxCrossEntropyGrad', rowBlocks(wasm, rows, vocab).map(([r0, r1]) => [
      p + r0 * vocab * 4, y + r0 * 4, w + r0 * 4, dyValue, r1 - r0, vocab, smoothing, dz + r0 * vocab * 4,
    ]))
    return out
  })
}

// One workgroup per row. Targets stay on the GPU (checking them would cost a read back each step), so a target
// outside the vocabulary gives that row a NaN loss, which the trainer reports, instead of an error here.
const softmaxCrossEntropyShader: FusedShader = {
  key: 'kotoba_softmax_cross_entropy',
  code: `${wgslWorkgroupReductions}
${wgslBindings(['losses', 'probs'], ['logits', 'targets:i32'], 'rows : u32, vocab : u32, smoothing : f32')}
${wgslEachRow}
  let start = row * p.vocab;
  var localMax = bitcast<f32>(0xff7fffffu); // −FLT_MAX
  var localSum = 0.0;
  for (var v = lane; v < p.vocab; v = v + ${workgroupSize}u) {
    localMax = max(localMax, logits[start + v]);
    localSum = localSum + logits[start + v];
  }
  let rowMax = workgroupMax(lane, localMax);
  let sumLogits = workgroupSum(lane, localSum);
  var localExp = 0.0;
  for (var v = lane; v < p.vocab; v = v + ${workgroupSize}u) {
    let e = exp(logits[start + v] - rowMax);
    probs[start + v] = e;
    localExp = localExp + e;
  }
  let expSum = workgroupSum(lane, localExp);
  for (var v = lane; v < p.vocab; v = v + ${workgroupSize}u) { probs[start + v] = probs[start + v] / expSum; }
  if (lane == 0u) {
    let wanted = targets[row];
    if (wanted < 0 || u32(wanted) >= p.vocab) {
      losses[row] = bitcast<f32>(0x7fc00000u | (p.rows & 0u)); // NaN, made at run time (WGSL refuses a constant NaN)
    } else {
      losses[row] = rowMax + log(expSum) - (1.0 - p.smoothing) * logits[start + u32(wanted)] - (p.smoothing / f32(p.vocab)) * sumLogits;
    }
  }
}`,
}

const softmaxCrossEntropyGradShader: FusedShader = {
  key: 'kotoba_softmax_cross_entropy_grad',
  code: `
${wgslBindings(['out'], ['probs', 'targets:i32', 'weights', 'dy'], 'count : u32, vocab : u32, smoothing : f32')}
${wgslEachElement}
  let row = at / p.vocab;
  let scale = weights[row] * dy[0];
  var grad = (probs[at] - p.smoothing / f32(p.vocab)) * scale;
  if (i32(at % p.vocab) == targets[row]) { grad = grad - (1.0 - p.smoothing) * scale; }
  out[at] = grad;
}`,
}

export function registerWebGpuCrossEntropyKernels(): void {
  registerWebGpuKernel(softmaxCrossEntropyKernel, [softmaxCrossEntropyShader], ({ inputs, attrs }, backend) => {
    const { logits, targets } = inputs as unknown as ForwardInputs
    const [rows, vocab] = logits.shape as [number, number]
    return runFused(backend, softmaxCrossEntropyShader, [logits, targets], [[rows], [rows, vocab]], [u32(rows), u32(vocab), f32(smoothingOf(attrs))], rows)
  })
  registerWebGpuKernel(softmaxCrossEntropyGradKernel, [softmaxCrossEntropyGradShader], ({ inputs, attrs }, backend) => {
    const { probs, targets, weights, dy } = inputs as unknown as GradInputs
    const [rows, vocab] = probs.shape as [number, number]
    return runFused(backend, softmaxCrossEntropyGradShader, [probs, targets, weights, dy], [[rows, vocab]], [u32(rows * vocab), u32(vocab), f32(smoothingOf(attrs))], groupsFor(rows * vocab))[0]!
  })
}
