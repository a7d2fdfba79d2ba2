// Our fused kernels as WGSL shaders on the tfjs webgpu backend, run for real by Dawn on whatever Vulkan device the
// machine has — a software one (lavapipe or SwiftShader) on CI and on machines without a GPU: every kernel case
// matches the stock cpu kernels, forward and gradient; dropout draws the cpu's masks; the reference models train to
// cpu's losses; and a training step needs fewer GPU dispatches with the fused kernels than without.
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { before, test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { adapterName, selectBackend, wantedStorageBuffers } from '../main/engine/compute/backends.ts'
import { webGpuFusedKernels } from '../main/engine/compute/training-kernels.ts'
import { dropout, seedDropout } from '../models/layers/dropout.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { Seq2SeqModel } from '../models/seq2seq/model.ts'
import { TransformerModel } from '../models/transformer/model.ts'
import { Adam, defaultAdam } from '../models/train/adam.ts'
import { trainUpdate, UpdateNotAppliedError } from '../models/train/train-step.ts'
import { ParameterStore } from '../models/core/params.ts'
import { isOutOfMemory, OutOfMemoryError } from '../main/engine/compute/out-of-memory.ts'
import { deviceUpdateWatch, gpuMemoryUsage, largestBuffer, resetGpuPeak, setGpuMemoryLimit, takeDeviceErrors, watchedOnDevice, type WebGpuBackendLike } from '../main/engine/compute/webgpu-memory.ts'
import { explainGpuLoss, GpuLostError } from '../main/engine/compute/gpu-loss.ts'
import { bindGroupCounts, KEPT_BIND_GROUPS, reuseBindGroups } from '../main/engine/compute/bind-group-reuse.ts'
import { ARENA_BYTES } from '../main/engine/compute/uniform-arena.ts'
import { countGpuWork, timeGpuKernels, type GpuKernelTimes } from '../scripts/bench/gpu-counters.ts'
import { compileWebGpuKernels, compiledWithSubgroups, dispatchLoop, f32, runFused, u32, wgslBindings, wgslEachElement, type FusedShader, type WebGpuBackendLike as LoopBackend } from '../main/engine/compute/webgpu-backend.ts'
import { maxRelativeDifference, paddedBatch, randomTensor, runCases, smallModels, smallVocab } from './support/kernel-cases.ts'
import { Random } from '../models/core/random.ts'
import { assertFailedUpdatesLeaveNothing } from './support/failed-updates.ts'

// Debian's lavapipe lacks a Vulkan feature Dawn requires; Chromium's SwiftShader ICD (CI installs chromium for the
// end-to-end tests) is a complete software Vulkan. A machine's own choice (VK_ICD_FILENAMES) is kept.
const swiftShader = '/usr/lib/chromium/vk_swiftshader_icd.json'
if (existsSync(swiftShader)) process.env.VK_ICD_FILENAMES ||= swiftShader

const vocab = smallVocab
const configs = smallModels

/** Within the small models' gradient norms (LSTM ≈ 0.25–0.3, Transformer ≈ 1–1.5): some updates are clipped, some not. */
const clipNorm = 0.25

/**
 * Four updates of a reference model as the trainer runs them (trainUpdate: our Adam, clipping by global norm;
 * padding, dropout on): each step's loss, gradient norm, dispatch and read-back counts.
 */
async function train(kind: keyof typeof configs, timedStep = -1): Promise<{ losses: number[]; norms: number[]; dispatches: number[]; readbacks: number[]; times?: GpuKernelTimes }> {
  const tensorsBefore = tf.memory().numTensors
  const { src, tgtIn, tgtOut, mask } = paddedBatch()
  const model = kind === 'transformer' ? new TransformerModel(configs.transformer) : new Seq2SeqModel(configs[kind])
  const adam = new Adam()
  const result: Awaited<ReturnType<typeof train>> = { losses: [], norms: [], dispatches: [], readbacks: [] }
  const onGpu = tf.getBackend() === 'webgpu'
  const lossOf = () => {
    const logits = model instanceof TransformerModel ? model.forward(src, mask, tgtIn, mask, true).logits : model.forward(src, mask, tgtIn, true).logits
    return smoothedCrossEntropy(logits.reshape([-1, vocab]) as tf.Tensor2D, tgtOut, mask.reshape([-1]) as tf.Tensor1D, 0.1)
  }
  seedDropout(777)
  for (let step = 0; step < 4; step++) {
    // The timed step (the bench's kernel timer: timestamp queries) is timed instead of counted.
    const stopTiming = onGpu && step === timedStep ? timeGpuKernels() : null
    const stopCounting = onGpu && step !== timedStep ? countGpuWork() : null
    const { loss, gradNorm } = await trainUpdate(model.params, lossOf, [{ targetTokens: 25, sourceTokens: 25 }], adam, 1e-2, clipNorm)
    result.losses.push(loss)
    result.norms.push(gradNorm)
    if (stopTiming) result.times = await stopTiming()
    const counts = stopCounting?.()
    if (counts) {
      result.dispatches.push(counts.dispatches)
      result.readbacks.push(counts.readbacks)
    }
  }
  tf.dispose([src, tgtIn, tgtOut, mask])
  model.dispose()
  adam.dispose()
  assert.equal(tf.memory().numTensors, tensorsBefore, `${kind} on ${tf.getBackend()}: every tensor of the updates is freed`)
  return result
}

/**
 * Adam through what a run does to it: two clipped updates, a checkpoint's state(), a parameter assigned from outside
 * (a weight restore, pruning), a third update, then a fresh optimizer restored from the state and a fourth. On a GPU
 * (applyFlat) the parameters and moments live flat; on cpu per parameter (apply). Returns every value along the way.
 */
async function adamScenario(): Promise<number[][]> {
  const random = new Random(21)
  const shapes = [[3, 4], [5], [2, 2, 2]]
  const names = ['a', 'b', 'c']
  const params = new Map(names.map((name, i) => [name, tf.tidy(() => tf.variable(randomTensor(random, shapes[i]!), true, `adam-scenario-${name}-${Math.random()}`))]))
  const gradients = [0, 1, 2, 3].map(() => new Map(names.map((name, i) => [name, randomTensor(random, shapes[i]!)])))
  const scale = tf.tensor1d([0.5])
  const values: number[][] = []
  const read = async (tensors: Iterable<tf.Tensor>) => {
    for (const t of tensors) values.push(Array.from(await t.data()))
  }
  const update = (adam: Adam, grads: Map<string, tf.Tensor>) => {
    if (!adam.appliesFlat()) return adam.apply(params, grads, 0.05, scale)
    const flat = tf.tidy(() => tf.concat(names.map((name) => grads.get(name)!.reshape([-1]))) as tf.Tensor1D)
    adam.applyFlat(params, names, flat, 0.05, scale)
    flat.dispose()
  }
  const adam = new Adam({ ...defaultAdam, weightDecay: 0.01 })
  update(adam, gradients[0]!)
  update(adam, gradients[1]!)
  await read(params.values())
  const saved = new Map([...adam.state()].map(([key, t]) => [key, t.clone()]))
  await read(saved.values())
  tf.tidy(() => params.get('b')!.assign(tf.zeros([5])))
  update(adam, gradients[2]!)
  await read(params.values())
  const restored = new Adam({ ...defaultAdam, weightDecay: 0.01 })
  restored.restore(saved, 2)
  update(restored, gradients[3]!)
  await read(params.values())
  await read(restored.state().values())
  tf.dispose([...saved.values(), ...params.values(), ...gradients.flatMap((g) => [...g.values()]), scale])
  adam.dispose()
  restored.dispose()
  return values
}
let cpuAdam: number[][] = []

let reference: { name: string; result: number[][] }[] = []
const dropoutSeed = 4242
let cpuDropout: Float32Array = new Float32Array(0)
const cpuTraining: Partial<Record<keyof typeof configs, { losses: number[]; norms: number[] }>> = {}

// Everything the webgpu results are compared with is computed on the cpu backend first, then the process switches
// to webgpu once (the engine, too, picks its backend once per process).
before(async () => {
  await tf.setBackend('cpu') // the stock kernels
  reference = await runCases(5)
  await selectBackend('cpu') // our cpu kernels (the fused dropout's hash among them): the models train as on wasm
  const x = tf.ones([1100, 2048])
  seedDropout(dropoutSeed)
  const dropped = dropout(x, 0.3)
  cpuDropout = (await dropped.data()) as Float32Array
  tf.dispose([x, dropped])
  for (const kind of ['lstm', 'lstmFeeding', 'transformer'] as const) cpuTraining[kind] = await train(kind)
  cpuAdam = await adamScenario()
  const report = await selectBackend('webgpu')
  assert.equal(report.active, 'webgpu', `no WebGPU adapter: ${JSON.stringify(report)}`)
  const detail = report.attempts.find((a) => a.status === 'active')!.detail
  assert.doesNotMatch(detail, /failed to compile/, detail)
  // What the Devices panel and `kotoba info` show of the adapter: the kernels bind up to 8 storage buffers.
  const adapter = report.adapter!
  assert.ok(adapter.software, 'a software adapter here')
  assert.equal(report.device, adapterName(adapter))
  assert.ok(adapter.limits['maxStorageBuffersPerShaderStage']! >= 8, JSON.stringify(adapter.limits))
  // The engine's device binds more where the adapter allows (SwiftShader: 12): longer concatenations, fewer write-backs.
  const device = (tf.backend() as unknown as { device: { limits: { maxStorageBuffersPerShaderStage: number } } }).device
  assert.equal(device.limits.maxStorageBuffersPerShaderStage, Math.min(wantedStorageBuffers, adapter.limits['maxStorageBuffersPerShaderStage']!))
  assert.ok(adapter.features.length > 0 && adapter.features.every((f) => typeof f === 'string'))
  for (const name of webGpuFusedKernels) assert.ok(tf.getKernel(name, 'webgpu'), `${name} is registered on webgpu`)
})

/** Each case's webgpu result equals its cpu reference (by name) to tolerance. */
function assertMatchesCpu(results: { name: string; result: number[][] }[]): void {
  for (const { name, result } of results) {
    const difference = maxRelativeDifference(reference.find((r) => r.name === name)!.result, result)
    assert.ok(difference < 2e-4, `${name}: webgpu differs from cpu by ${difference}`)
  }
}

/** Runs `work` with tfjs submitting the recorded work every `dispatches` dispatches, then restores tfjs's cadence. */
async function withSubmitEvery(dispatches: number, work: () => Promise<void>): Promise<void> {
  const submitEvery = tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')
  tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', dispatches)
  try {
    await work()
  } finally {
    tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', submitEvery)
  }
}

test('webgpu: batches of many shapes leave tfjs’s buffer pool bounded (the buffers of the last two updates’ shapes stay), and steps of one shape make no new buffers or bind groups', async () => {
  const manager = (tf.backend() as unknown as WebGpuBackendLike).bufferManager
  const model = new TransformerModel({ ...configs.transformer, srcVocab: 500, tgtVocab: 500 })
  const adam = new Adam()
  const random = new Random(11)
  // The most bytes in use at once, seen after every acquisition (first in this file: nothing ran on the GPU before).
  resetGpuPeak()
  const update = async (batch: number, length: number) => {
    const ids = () => tf.tensor2d(Int32Array.from({ length: batch * length }, () => 1 + random.integer(499)), [batch, length], 'int32')
    const [src, tgtIn, tgtOut, mask] = [ids(), ids(), ids(), tf.ones([batch, length]) as tf.Tensor2D]
    const lossOf = () => {
      const logits = model.forward(src, mask, tgtIn, mask, true).logits
      return smoothedCrossEntropy(logits.reshape([-1, 500]) as tf.Tensor2D, tgtOut.reshape([-1]) as tf.Tensor1D, mask.reshape([-1]) as tf.Tensor1D, 0.1)
    }
    const { loss } = await trainUpdate(model.params, lossOf, [{ targetTokens: batch * length, sourceTokens: batch * length }], adam, 1e-3, 1, deviceUpdateWatch())
    tf.dispose([src, tgtIn, tgtOut, mask])
    assert.ok(Number.isFinite(loss))
  }
  // Token-budget batches: a new shape almost every update.
  for (let step = 0; step < 16; step++) {
    const length = 3 + random.integer(30)
    await update(Math.max(1, Math.floor(240 / length)), length)
    // What the last two updates' shapes use stays pooled; older shapes' buffers go.
    const pooled = manager.numBytesAllocated - manager.numBytesUsed
    const { peakBytes } = gpuMemoryUsage()!
    assert.ok(pooled <= 4 * peakBytes, `after update ${step + 1}: ${pooled} bytes pooled, at most ${peakBytes} in use at once`)
  }
  // One shape again and again: its buffers stay pooled for the next step.
  await update(8, 12)
  await update(8, 12)
  const stop = countGpuWork()
  await update(8, 12)
  const counted = stop()
  assert.ok(counted.dispatches > 50, `the step ran on the GPU (${counted.dispatches} dispatches)`)
  assert.equal(counted.buffersCreated, 0, 'a step of the last shape made no buffer')
  // The pool hands the step the same buffers as the one before, so every bind group is one made before.
  assert.equal(counted.bindGroupsMade, 0, 'a step of the last shape made no bind group')
  adam.dispose()
  model.dispose()
})

test('webgpu: the device gives back the bind group it made for the same layout, buffers, offsets and sizes, a new one for any other, and keeps the most recently used', () => {
  type Device = Parameters<typeof reuseBindGroups>[0] & { createShaderModule(d: { code: string }): unknown; createBuffer(d: { size: number; usage: number }): { destroy(): void } }
  const device = (tf.backend() as unknown as { device: Device }).device
  const counts = bindGroupCounts(device)
  assert.ok(counts, 'the engine’s device reuses its bind groups')
  const module = device.createShaderModule({ code: '@group(0) @binding(0) var<storage, read_write> a : array<f32>;\n@group(0) @binding(1) var<storage, read> b : array<f32>;\n@compute @workgroup_size(1) fn main() { a[0] = b[0]; }' })
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } })
  const layout = pipeline.getBindGroupLayout(0)
  assert.equal(pipeline.getBindGroupLayout(0), layout, 'a pipeline’s layout is one object')
  const usage = 0x80 | 0x08 // STORAGE | COPY_DST
  const [x, y] = [device.createBuffer({ size: 512, usage }), device.createBuffer({ size: 512, usage })]
  const group = (a: object, b: object, offset = 0, size = 256) => device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: a, offset, size } }, { binding: 1, resource: { buffer: b } }] })
  const made = counts.made
  const first = group(x, y)
  assert.equal(group(x, y), first)
  assert.equal(counts.made, made + 1)
  const others = [group(y, x), group(x, x), group(x, y, 256), group(x, y, 0, 512)]
  assert.equal(new Set([first, ...others]).size, 5, 'another buffer, offset or size is another bind group')
  assert.equal(counts.made, made + 5)
  // Past KEPT_BIND_GROUPS the least recently used goes: `first`, used again now, stays; the swapped one does not.
  group(x, y)
  const filler = Array.from({ length: KEPT_BIND_GROUPS - 4 }, () => device.createBuffer({ size: 256, usage }))
  for (const buffer of filler) group(buffer, y)
  assert.equal(group(x, y), first, 'the most recently used stays')
  assert.notEqual(group(y, x), others[0], 'the least recently used was dropped')
  for (const buffer of [x, y, ...filler]) buffer.destroy()
})

test('webgpu: every kernel case, our fused shaders included, equals the stock cpu kernels forward and backward', async () => {
  const results = await runCases(5)
  assert.equal(results.length, reference.length)
  assert.equal(new Set(results.map(({ name }) => name)).size, results.length, 'each case has a name of its own')
  assertMatchesCpu(results)
})

test('webgpu: where the device has subgroups (SwiftShader: 4 lanes) the row shaders reduce in them, and with KOTOBA_WEBGPU_SUBGROUPS=0 in workgroup memory; both equal cpu', async () => {
  const backend = tf.backend() as unknown as LoopBackend & { device: Parameters<typeof compileWebGpuKernels>[0] }
  const rowShaders = ['kotoba_attention', 'kotoba_layer_norm_grad', 'kotoba_add_norm', 'kotoba_softmax_cross_entropy', 'kotoba_feeding_attention']
  const reducesIn = () => rowShaders.map((key) => compiledWithSubgroups(backend.device, key))
  const rowCases = (name: string) => /layer norm|add & norm|cross-entropy|attention|input feeding/.test(name)
  // The cases above ran with subgroups (this file's first kernel cases); an element-wise shader never uses them.
  assert.deepEqual(reducesIn(), rowShaders.map(() => true), 'the row shaders reduce in subgroups (SwiftShader offers them: has this device not?)')
  assert.equal(compiledWithSubgroups(backend.device, 'kotoba_dropout'), false)
  process.env.KOTOBA_WEBGPU_SUBGROUPS = '0'
  try {
    assert.deepEqual(await compileWebGpuKernels(backend.device), [])
    const results = await runCases(5, rowCases)
    assert.ok(results.length >= 12, results.map(({ name }) => name).join('\n'))
    assert.deepEqual(reducesIn(), rowShaders.map(() => false))
    assertMatchesCpu(results)
  } finally {
    delete process.env.KOTOBA_WEBGPU_SUBGROUPS
    assert.deepEqual(await compileWebGpuKernels(backend.device), [])
  }
})

test('webgpu: the software adapter’s device leaves workgroup memory as the last workgroup there left it (Dawn’s zeroing is skipped), so a shader that read a cell before writing it would fail the kernel cases here', async () => {
  // 64 workgroups of one cell array: the first 32 fill it, the last 32 only read it. SwiftShader runs workgroup g on
  // its worker g mod 16 with that worker's one block of workgroup memory.
  const [cells, groups] = [256, 64]
  const probe: FusedShader = {
    key: 'test_workgroup_leftovers',
    code: `${wgslBindings(['seen'], [], 'count : u32')}
var<workgroup> cells : array<f32, ${cells}>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lane : u32, @builtin(workgroup_id) group : vec3<u32>) {
  if (group.x < ${groups / 2}u) {
    for (var i = lane; i < p.count; i = i + 64u) { cells[i] = 1.0 + f32(i); }
    workgroupBarrier();
    return;
  }
  workgroupBarrier();
  for (var i = lane; i < p.count; i = i + 64u) { seen[(group.x - ${groups / 2}u) * p.count + i] = cells[i]; }
}`,
  }
  const [seenInfo] = runFused(tf.backend() as unknown as LoopBackend, probe, [], [[groups / 2, cells]], [u32(cells)], groups)
  const seen = tf.engine().makeTensorFromTensorInfo(seenInfo!)
  const left = (await seen.data()).filter((value) => value !== 0).length
  seen.dispose()
  assert.ok(left > 0, 'the reading workgroups saw only zeros: Dawn zeroes workgroup memory on this device (slow to compile on SwiftShader)')
})

test('webgpu: a time loop’s uniforms (one buffer, a dynamic offset per step) outlive the submits inside the loop: the next loop cannot overwrite the steps still queued', async () => {
  // Each step writes its own time index plus the loop's mark: out[t] = mark + t.
  const stepShader: FusedShader = {
    key: 'test_loop_step',
    looped: true,
    code: `${wgslBindings(['out'], [], 'count : u32, t : u32, mark : f32')}
${wgslEachElement}
  out[p.t] = p.mark + f32(p.t);
}`,
  }
  const backend = tf.backend() as unknown as LoopBackend
  // Submits after steps 3 and 6 of the first loop leave steps 7 and 8 queued when the second loop (its uniform buffer
  // the same size, a pool's candidate for reuse) writes its uniforms.
  await withSubmitEvery(3, async () => {
    const steps = 8
    const loop = (mark: number) => {
      const out = backend.makeTensorInfo([steps], 'float32')
      dispatchLoop(backend, steps, [{ shader: stepShader, outputs: [out], inputs: [], groups: 1, uniformsAt: (t) => [u32(1), u32(t), f32(mark)] }])
      return tf.engine().makeTensorFromTensorInfo(out)
    }
    const [first, second] = [loop(0), loop(100)]
    assert.deepEqual(Array.from(await first.data()), [0, 1, 2, 3, 4, 5, 6, 7])
    assert.deepEqual(Array.from(await second.data()), [100, 101, 102, 103, 104, 105, 106, 107])
    tf.dispose([first, second])
  })
})

test('webgpu: each dispatch’s uniforms take a slot of an arena written once before its submit, or when full: 300 dispatches each see their own, with submits held and every 7', async () => {
  const shader: FusedShader = {
    key: 'test_uniform_slot',
    code: `${wgslBindings(['out'], [], 'count : u32, mark : f32')}
${wgslEachElement}
  out[at] = p.mark;
}`,
  }
  const backend = tf.backend() as unknown as LoopBackend
  const slotsPerArena = ARENA_BYTES / (tf.backend() as unknown as { device: { limits: { minUniformBufferOffsetAlignment: number } } }).device.limits.minUniformBufferOffsetAlignment
  const dispatches = 300
  assert.ok(dispatches > 2 * slotsPerArena, 'the dispatches fill more than two arenas')
  for (const submitEvery of [100_000, 7]) {
    await withSubmitEvery(submitEvery, async () => {
      const one = tf.fill([2], 1) // made on the GPU, before counting
      await one.data()
      const stop = countGpuWork()
      // Stock ops between ours take slots too (tfjs's programs get their uniforms the same way).
      const marks: tf.Tensor[] = []
      const outputs = Array.from({ length: dispatches }, (_, i) => {
        marks.push(tf.engine().makeTensorFromTensorInfo(runFused(backend, shader, [], [[2]], [u32(2), f32(i)], 1)[0]!))
        return marks[i]!.add(one)
      })
      const values = await Promise.all(outputs.map((output) => output.data()))
      const counted = stop()
      assert.deepEqual(values.map((value) => Array.from(value)), values.map((_, i) => [i + 1, i + 1]), `submits every ${submitEvery}`)
      const uploadsAtMost = submitEvery > dispatches ? Math.ceil((2 * dispatches) / slotsPerArena) : dispatches
      assert.ok(counted.uploads <= uploadsAtMost, `${counted.uploads} uploads for ${2 * dispatches} dispatches, submits every ${submitEvery}: at most ${uploadsAtMost}`)
      tf.dispose([...marks, ...outputs, one])
    })
  }
})

test('webgpu: the recurrent layers and the input-feeding decoder (their time loops run by dispatchLoop) equal cpu with a submit inside every loop', async () => {
  const looped = (name: string) => /(LSTM|GRU) layer over|two-layer|input feeding/.test(name)
  await withSubmitEvery(2, async () => {
    const results = await runCases(5, looped)
    assert.ok(results.length >= 8, results.map(({ name }) => name).join('\n'))
    assertMatchesCpu(results)
  })
})

test('webgpu: Adam over all parameters at once (flat) updates, checkpoints, picks up an assigned parameter and restores as per-parameter Adam on cpu', async () => {
  const tensorsBefore = tf.memory().numTensors
  assert.ok(new Adam().appliesFlat(), 'the flat update runs on webgpu')
  const onGpu = await adamScenario()
  assert.equal(tf.memory().numTensors, tensorsBefore, 'every tensor is freed')
  const difference = maxRelativeDifference(cpuAdam, onGpu)
  assert.ok(difference < 2e-5, `flat Adam differs from per-parameter Adam by ${difference}`)
})

test('webgpu: fused dropout draws the cpu kernel’s mask for a seed (multi-million-element tensors included)', async () => {
  const x = tf.ones([1100, 2048]) // 2.25 M elements: more workgroups than one grid dimension holds on many devices
  seedDropout(dropoutSeed)
  const onGpu = dropout(x, 0.3)
  const gpuValues = await onGpu.data()
  let differing = 0
  for (let i = 0; i < cpuDropout.length; i++) if (cpuDropout[i] !== gpuValues[i]) differing++
  assert.equal(differing, 0)
  const kept = Array.from(cpuDropout).filter((v) => v > 0).length / cpuDropout.length
  assert.ok(Math.abs(kept - 0.7) < 0.005, `kept ${kept}`)
  tf.dispose([x, onGpu])
})

test('webgpu: the reference LSTM and Transformer train to the cpu backend’s losses; the fused kernels cut the dispatches per step', async () => {
  for (const kind of ['lstm', 'lstmFeeding', 'transformer'] as const) {
    const onCpu = cpuTraining[kind]!
    const onGpu = await train(kind)
    assert.ok(onCpu.losses[3]! < onCpu.losses[0]!, `${kind}: the loss falls (${onCpu.losses})`)
    onCpu.losses.forEach((loss, i) => assert.ok(Math.abs(loss - onGpu.losses[i]!) < 2e-4 * Math.abs(loss), `${kind} step ${i}: cpu ${loss}, webgpu ${onGpu.losses[i]}`))
    // The norm and the clipping factor are computed on the device there, on the host on cpu.
    onCpu.norms.forEach((norm, i) => assert.ok(Math.abs(norm - onGpu.norms[i]!) < 2e-4 * norm, `${kind} step ${i}: gradient norm cpu ${norm}, webgpu ${onGpu.norms[i]}`))
    assert.ok(onCpu.norms.some((norm) => norm > clipNorm), `${kind}: clipping ran (${onCpu.norms})`)
    console.log(`${kind}: gradient norms ${onCpu.norms.map((n) => n.toFixed(3))}`)
    assert.deepEqual(onGpu.readbacks, [1, 1, 1, 1], `${kind}: one read-back per update (loss and norm together)`)
    // The same steps with the stock ops only (our kernels hidden from the models), to count what fusing saves.
    const saved = webGpuFusedKernels.map((name) => tf.getKernel(name, 'webgpu')!)
    webGpuFusedKernels.forEach((name) => tf.unregisterKernel(name, 'webgpu'))
    let unfused: { losses: number[]; dispatches: number[] }
    try {
      unfused = await train(kind)
    } finally {
      saved.forEach((config) => tf.registerKernel(config))
    }
    // (Its losses differ a little: stock tf.dropout draws other masks.)
    assert.ok(unfused.losses[3]! < unfused.losses[0]!, `${kind}: stock ops learn too (${unfused.losses})`)
    const [withFused, withStock] = [onGpu.dispatches[3]!, unfused.dispatches[3]!]
    console.log(`${kind}: ${withFused} dispatches per training step with the fused kernels, ${withStock} with stock ops only`)
    // At least 10× fewer for the Transformer (1,148 → 91 here), 7× for the LSTM (1,103 → 137; its 5 × 7 steps each way
    // stay), 10× with input feeding (1,797 → 159), where the decoder steps one position at a time (three dispatches a
    // step each way in the fused decoder) and the bidirectional encoder's halves share their steps' dispatches.
    const factor = kind === 'lstm' ? 7 : 10
    assert.ok(withFused * factor <= withStock, `${kind}: ${withFused} dispatches fused against ${withStock} stock, not ÷ ${factor}`)
  }
})

test('webgpu: the bench’s kernel timer times every dispatch of an update on the GPU (timestamp queries, a pass each) and changes nothing it computes', async () => {
  assert.ok((tf.backend() as unknown as { device: { features: Set<string> } }).device.features.has('timestamp-query'), 'SwiftShader has timestamp queries')
  const { losses, dispatches, times } = await train('lstm', 1)
  cpuTraining.lstm!.losses.forEach((loss, i) => assert.ok(Math.abs(loss - losses[i]!) < 2e-4 * Math.abs(loss), `step ${i}: cpu ${loss}, timed webgpu ${losses[i]}`))
  assert.ok(times, 'timed')
  assert.equal(times.untimed, 0)
  // Counted: updates 1, 3 and 4 (the first also sets Adam's moments up).
  assert.equal(times.dispatches, dispatches[1], `as many timed dispatches as the counters count in the next update (${dispatches})`)
  assert.equal(dispatches[1], dispatches[2])
  const kernels = Object.entries(times.byKernel)
  assert.equal(kernels.reduce((sum, [, { dispatches }]) => sum + dispatches, 0), times.dispatches)
  assert.ok(kernels.every(([, { ms }]) => ms >= 0 && ms < 60_000), JSON.stringify(times.byKernel))
  assert.ok(times.byKernel['KotobaLstmLayerGrad']!.ms > 0, 'the recurrent layer’s backward took time on the device')
  assert.ok(Math.abs(kernels.reduce((sum, [, { ms }]) => sum + ms, 0) - times.busyMs) < 1e-6)
})

test('webgpu: a tensor over the device’s largest buffer is an out-of-memory error before any buffer is made, an update that meets one changes nothing and the next trains, and the device’s own errors are kept for the trainer', async () => {
  const backend = tf.backend() as unknown as WebGpuBackendLike & { bufferManager: { numBytesAllocated: number } }
  const largest = largestBuffer(backend.device.limits, 0x80) // a storage buffer (1 GiB on SwiftShader)
  const allocated = backend.bufferManager.numBytesAllocated
  assert.throws(
    () => tf.fill([largest / 4 + 1], 0.5), // a kernel's output on the device
    (error: unknown) => error instanceof OutOfMemoryError && /^out of memory: .* MiB more did not fit, the GPU's largest buffer is \d+ MiB\. Lower the tokens per batch/.test(error.message),
  )
  assert.equal(backend.bufferManager.numBytesAllocated, allocated, 'no buffer was made')

  // Logits over a big vocabulary for many rows: the inputs fit, the product does not (rows × vocab × 4 > largest).
  const params = new ParameterStore(new Random(3))
  const weights = params.create('output', [4, 32768], { kind: 'normal', std: 0.1 })
  const rows = Math.floor(largest / (4 * 32768)) + 1
  const before = await weights.data()
  const optimizer = new Adam()
  const lossOf = (batch: { x: tf.Tensor2D; targetTokens: number; sourceTokens: number }) => tf.matMul(batch.x, weights).mean() as tf.Scalar
  const x = tf.ones([rows, 4]) as tf.Tensor2D
  await assert.rejects(
    trainUpdate(params, lossOf, [{ x, targetTokens: rows, sourceTokens: rows }], optimizer, 1e-2, 1),
    (error: unknown) => error instanceof UpdateNotAppliedError && isOutOfMemory(error.cause),
  )
  assert.deepEqual(await weights.data(), before, 'the weights are unchanged')
  // The next update that fits trains. (That the same update split into parts trains alike is the trainer's, tested on
  // wasm in memory-limits.test.ts: two halves of this one would write 1 GiB of products, minutes on SwiftShader.)
  const small = tf.ones([8, 4]) as tf.Tensor2D
  await trainUpdate(params, lossOf, [{ x: small, targetTokens: 8, sourceTokens: 8 }], optimizer, 1e-2, 1)
  assert.notDeepEqual(await weights.data(), before)
  assert.deepEqual(takeDeviceErrors(), [], 'the device saw no error buffer')
  tf.dispose([x, small])
  optimizer.dispose()
  params.dispose()

  // An error only the device sees (here an invalid buffer) is kept until the trainer takes it after its update.
  ;(backend.device as unknown as { createBuffer(descriptor: { size: number; usage: number }): unknown }).createBuffer({ size: 4, usage: 0 })
  const probe = tf.ones([4])
  await probe.data() // the device's error event arrives by the next read-back
  probe.dispose()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const errors = takeDeviceErrors()
  assert.equal(errors.length, 1)
  assert.match(errors[0]!, /usage/i)
  assert.deepEqual(takeDeviceErrors(), [])
})

/** The device's errors once its answers have come (they come without waiting for GPU work). */
async function deviceErrorsSoon(): Promise<string[]> {
  for (let waited = 0; waited < 2000; waited += 20) {
    await new Promise((resolve) => setTimeout(resolve, 20))
    const errors = takeDeviceErrors()
    if (errors.length > 0) return errors
  }
  return []
}

test('webgpu: a GPU that runs out of memory below its limits stops the update before the optimizer: the weights stay, no failed buffer is pooled, the next update trains; other errors the device reports in the gradients stop it too; work outside an update (a validation, an evaluation) fails by its own watch', async () => {
  const backend = tf.backend() as unknown as WebGpuBackendLike
  const watch = deviceUpdateWatch()
  assert.ok(watch, 'the engine watches updates on its webgpu backend')
  const storage = 0x80
  const largest = largestBuffer(backend.device.limits, storage)
  // A buffer of exactly the largest size passes the limits but not SwiftShader's allocator (Dawn pads it): a full
  // GPU on every machine (this file runs on the software adapter, see `before`).
  backend.device.createBuffer({ size: largest, usage: storage }).destroy()
  const probe = await deviceErrorsSoon()
  assert.equal(probe.length, 1, 'SwiftShader cannot allocate its largest buffer, and says so once')
  assert.match(probe[0]!, /memory/i, 'an allocation that failed outside an update is kept for the trainer')

  // In the pool: a buffer the weights' first upload will reuse (tfjs would copy into it among the update's commands),
  // and a big one that a smaller batch would want the room of.
  const previous = [tf.fill([4, 32768], 7), tf.fill([largest / 16], 7)]
  await previous[0]!.data()
  tf.dispose(previous)
  const params = new ParameterStore(new Random(5))
  const weights = params.create('output', [4, 32768], { kind: 'normal', std: 0.1 })
  const rows = largest / (4 * 32768) // the product and its gradient: exactly the largest buffer
  const before = await weights.data()
  const optimizer = new Adam()
  const lossOf = (batch: { x: tf.Tensor2D; targetTokens: number; sourceTokens: number }) => tf.matMul(batch.x, weights).mean() as tf.Scalar
  const x = tf.ones([rows, 4]) as tf.Tensor2D
  await assert.rejects(
    trainUpdate(params, lossOf, [{ x, targetTokens: rows, sourceTokens: rows }], optimizer, 1e-2, 1, watch),
    (error: unknown) =>
      error instanceof UpdateNotAppliedError &&
      isOutOfMemory(error.cause) &&
      /the GPU's memory is full/.test(error.message) &&
      // The trainer first runs the same update again: the pool it freed may have held the room.
      (error.cause as OutOfMemoryError).pooledBytesFreed >= largest / 4,
  )
  assert.deepEqual(await weights.data(), before, 'the weights are unchanged, their first upload included')
  assert.deepEqual(takeDeviceErrors(), [], 'the commands that bound the failed buffer were the update’s, not reported again')
  const manager = backend.bufferManager
  assert.ok([...manager.freeBuffers.values()].flat().every((buffer) => buffer.size < largest), 'no failed buffer waits for reuse')
  assert.ok(manager.numBytesAllocated < largest / 8, `the pool of the bigger batch's buffers was released (${manager.numBytesAllocated} bytes kept)`)

  // The next update trains, on buffers the device has (the split halves train as above).
  const small = tf.ones([8, 4]) as tf.Tensor2D
  const { loss } = await trainUpdate(params, lossOf, [{ x: small, targetTokens: 8, sourceTokens: 8 }], optimizer, 1e-2, 1, watch)
  assert.ok(Number.isFinite(loss))
  assert.notDeepEqual(await weights.data(), before)
  assert.deepEqual(takeDeviceErrors(), [], 'the device saw no error')

  // Work outside an update (a validation's or an evaluation's forward pass) that runs out of memory reads back garbage
  // without an error; its own watch fails it, and the next update is not blamed for it.
  const forward = (input: tf.Tensor2D) => async () => {
    const mean = tf.tidy(() => tf.matMul(input, weights).mean())
    const [value] = await mean.data()
    mean.dispose()
    return value!
  }
  await assert.rejects(
    watchedOnDevice('the evaluation', forward(x)),
    (error: unknown) => error instanceof OutOfMemoryError && /the GPU's memory is full/.test(error.message),
  )
  assert.ok([...manager.freeBuffers.values()].flat().every((buffer) => buffer.size < largest), 'no failed buffer waits for reuse')
  const afterValidation = await weights.data()
  await trainUpdate(params, lossOf, [{ x: small, targetTokens: 8, sourceTokens: 8 }], optimizer, 1e-2, 1, watch)
  assert.notDeepEqual(await weights.data(), afterValidation, 'the next update trained')
  assert.deepEqual(takeDeviceErrors(), [], 'the device saw no error')
  assert.ok(Number.isFinite(await watchedOnDevice('the evaluation', forward(small))), 'work that fits passes its watch')

  // Work the device rejects while the gradients are computed (here an invalid buffer) stops the update unapplied.
  const trained = await weights.data()
  const invalidWork = (batch: { x: tf.Tensor2D; targetTokens: number; sourceTokens: number }) => {
    backend.device.createBuffer({ size: 4, usage: 0 })
    return lossOf(batch)
  }
  await assert.rejects(
    trainUpdate(params, invalidWork, [{ x: small, targetTokens: 8, sourceTokens: 8 }], optimizer, 1e-2, 1, watch),
    (error: unknown) => error instanceof UpdateNotAppliedError && /^the GPU rejected the update's work: .*usage/i.test(error.message),
  )
  assert.deepEqual(await weights.data(), trained, 'the weights are unchanged')
  assert.deepEqual(takeDeviceErrors(), [], 'the error was the update’s, not reported again')
  tf.dispose([x, small])
  optimizer.dispose()
  params.dispose()
})

test('webgpu: under KOTOBA_GPU_MEMORY_MIB the pool is freed before the cap refuses a buffer; an update over the cap is an out-of-memory error naming it, unapplied, and the peak in use is measured', async () => {
  const manager = (tf.backend() as unknown as WebGpuBackendLike).bufferManager
  const params = new ParameterStore(new Random(6))
  const weights = params.create('output', [64, 256], { kind: 'normal', std: 0.1 })
  const optimizer = new Adam()
  const lossOf = (batch: { x: tf.Tensor2D; targetTokens: number; sourceTokens: number }) => tf.matMul(batch.x, weights).relu().mean() as tf.Scalar
  const update = async (rows: number) => {
    const x = tf.ones([rows, 64]) as tf.Tensor2D
    try {
      return await trainUpdate(params, lossOf, [{ x, targetTokens: rows, sourceTokens: rows }], optimizer, 1e-2, 1, deviceUpdateWatch())
    } finally {
      x.dispose()
    }
  }
  try {
    await update(8) // the weights and Adam's moments made
    resetGpuPeak()
    const held = gpuMemoryUsage()!.heldBytes
    await update(1000)
    const peak = gpuMemoryUsage()!.peakBytes
    assert.ok(peak - held > 1000 * 256 * 4, `the update's product and its gradient were in use at its peak (${peak - held} bytes over ${held} held)`)

    // A pooled buffer of a size the next update does not ask for (a batch of long ago) holds 16 MiB.
    const stale = tf.fill([4 << 20], 7)
    await stale.data() // submitted: disposing it now pools its buffer
    stale.dispose()
    const pooled = manager.numBytesAllocated - manager.numBytesUsed
    assert.ok(pooled >= 16 << 20)
    // Room for the next update's buffers, not for them and the pool: the pool goes, the update trains.
    setGpuMemoryLimit(peak + (2 << 20))
    const before = await weights.data()
    const { loss } = await update(1100)
    assert.ok(Number.isFinite(loss))
    assert.notDeepEqual(await weights.data(), before, 'the update under the cap trained')
    assert.ok(manager.numBytesAllocated <= peak + (2 << 20), `the engine's buffers stay under the cap (${manager.numBytesAllocated} bytes)`)
    assert.ok(![...manager.freeBuffers.values()].flat().some((buffer) => buffer.size === 16 << 20), 'the stale pooled buffer was destroyed')

    // A cap below what one update needs: the same out-of-memory error as a full GPU, naming the cap, before anything
    // changed; the trainer splits the batch. Room for the input and the product, not for the ReLU after it: the
    // product's op has saved its inputs for the gradient, and they are freed too.
    const limit = held + 2000 * (64 + 256) * 4 + (1 << 20)
    setGpuMemoryLimit(limit)
    const trained = await weights.data()
    const tensors = tf.memory().numTensors
    await assert.rejects(update(2000), (error: unknown) => {
      assert.ok(error instanceof UpdateNotAppliedError && error.cause instanceof OutOfMemoryError, String(error))
      assert.equal(error.cause.limitBytes, limit)
      assert.equal(error.cause.requestedBytes, 2000 * 256 * 4, 'the ReLU’s output did not fit')
      assert.match(error.message, /^out of memory: .* more did not fit, the GPU memory limit of .* MiB \(KOTOBA_GPU_MEMORY_MIB\) would be passed; tensors hold .*, or raise KOTOBA_GPU_MEMORY_MIB\.$/)
      return true
    })
    assert.deepEqual(await weights.data(), trained, 'the weights are unchanged')
    assert.equal(tf.memory().numTensors, tensors, 'no tensor of the failed pass is left')
    assert.equal(gpuMemoryUsage()!.heldBytes, held, 'nor any buffer')
    assert.deepEqual(takeDeviceErrors(), [], 'the device saw no error: the cap refused before any buffer was made')
    setGpuMemoryLimit(null)
    await update(2000)
  } finally {
    setGpuMemoryLimit(null)
    optimizer.dispose()
    params.dispose()
  }
})

test('webgpu: an update that runs out of memory anywhere in its pass (under KOTOBA_GPU_MEMORY_MIB) leaves no tensor and no GPU buffer in use behind: the tape’s saved tensors, and what a kernel that threw had made or shared, are freed', async () => {
  await assertFailedUpdatesLeaveNothing({ usage: () => gpuMemoryUsage()!, resetPeak: resetGpuPeak, setLimit: setGpuMemoryLimit, watch: deviceUpdateWatch })
})

// Last in this file: it destroys the device.
test('webgpu: an update on a GPU that was lost fails as a GpuLostError that names the loss and is retryable (tfjs’s own error says nothing)', async () => {
  const backend = tf.backend() as unknown as WebGpuBackendLike & { device: { destroy(): void } }
  const params = new ParameterStore(new Random(7))
  const weights = params.create('lost', [8, 8], { kind: 'normal', std: 0.1 })
  const optimizer = new Adam()
  const lossOf = (batch: { x: tf.Tensor2D; targetTokens: number; sourceTokens: number }) => tf.matMul(batch.x, weights).square().mean() as tf.Scalar
  const x = tf.ones([16, 8]) as tf.Tensor2D
  const update = () => trainUpdate(params, lossOf, [{ x, targetTokens: 16, sourceTokens: 16 }], optimizer, 1e-2, 1, deviceUpdateWatch())
  assert.ok(Number.isFinite((await update()).loss))
  const unrelated = new Error('not the GPU')
  assert.equal(await explainGpuLoss(unrelated), unrelated, 'a failure on a working GPU stays as it is')

  backend.device.destroy()
  const failure: unknown = await update().then(
    () => null,
    (error: unknown) => error,
  )
  assert.ok(failure, 'an update on the lost GPU fails')
  const explained = await explainGpuLoss(failure)
  assert.ok(explained instanceof GpuLostError, `explained: ${String(explained)}`)
  assert.match(explained.message, /^the GPU was lost \(destroyed: .+\); what it held is gone\. Once the GPU is back/)
  assert.equal(explained.retryable, true)
  assert.equal(await explainGpuLoss(explained), explained)
})
