// The kernels we add for training match the stock cpu kernels on random inputs, forward and gradient.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { gemmBase64, gemmFmaBase64, gemmSharedBase64, gemmSharedFmaBase64 } from '../main/engine/compute/gemm-wasm.ts'
import { tensorKernelsBase64, tensorKernelsSharedBase64 } from '../main/engine/compute/tensor-kernels-wasm.ts'
import { registerCpuTrainingKernels } from '../main/engine/compute/training-kernels.ts'
import { dropout, seedDropout } from '../models/layers/dropout.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { Seq2SeqModel } from '../models/seq2seq/model.ts'
import { optimizerStep } from '../models/train/optimizer-step.ts'
import { TransformerModel } from '../models/transformer/model.ts'
import { maxRelativeDifference, paddedBatch, runCases, smallModels, smallVocab } from './support/kernel-cases.ts'

test('wasm training kernels equal the stock cpu kernels; so does the fast cpu segment sum', async () => {
  await tf.setBackend('cpu') // stock kernels: nothing of ours registered yet
  const reference = await runCases(5)

  const report = await selectBackend('wasm')
  assert.equal(report.active, 'wasm')
  ;(await runCases(5)).forEach(({ name, result }, i) => {
    const difference = maxRelativeDifference(reference[i]!.result, result)
    assert.ok(difference < 1e-4, `${name}: wasm differs from cpu by ${difference}`)
  })

  registerCpuTrainingKernels()
  await tf.setBackend('cpu')
  ;(await runCases(5)).forEach(({ name, result }, i) => {
    // Same sums, added in another order: equal up to float32 rounding.
    const difference = maxRelativeDifference(reference[i]!.result, result)
    assert.ok(difference < 1e-5, `${name}: our cpu kernels differ from the stock ones by ${difference}`)
  })
})

test('wasm kernels: a bad gather index is refused; products and shared transposes leave no tensor data behind', async () => {
  await selectBackend('wasm')
  const table = tf.ones([4, 3])
  assert.throws(() => tf.gather(table, tf.tensor1d([1, 4], 'int32')), /index value 4 is not in \[0, 3\]/)
  const backend = tf.backend() as unknown as { numDataIds(): number }
  const x = tf.ones([8, 16])
  const before = backend.numDataIds()
  for (let i = 0; i < 20; i++) {
    const weight = tf.randomNormal([32, 16])
    tf.tidy(() => [tf.matMul(x, weight, false, true), tf.matMul(x.add(1), weight, false, true), tf.transpose(weight, [0, 1])])
      .forEach((t) => t.dispose())
    weight.dispose()
  }
  assert.equal(backend.numDataIds(), before, 'no tensor data outlives its tensors')
  tf.dispose([table, x])
})

test('our kernels own no static data: instantiating them over the backend\'s heap leaves it as it was', async () => {
  await selectBackend('wasm') // enables relaxed SIMD where it sits behind a flag, for the FMA builds
  const modules = { tensorKernelsBase64, tensorKernelsSharedBase64, gemmBase64, gemmFmaBase64, gemmSharedBase64, gemmSharedFmaBase64 }
  for (const [name, base64] of Object.entries(modules)) {
    const shared = name.includes('Shared')
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared })
    const heap = new Uint8Array(memory.buffer)
    for (let i = 0; i < heap.length; i++) heap[i] = (i * 31 + 7) & 0xff
    const before = heap.slice()
    new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64')), { env: { memory } })
    const changed = heap.findIndex((byte, i) => byte !== before[i])
    assert.equal(changed, -1, `${name} wrote into the heap at byte ${changed}`)
  }
})

test('fused dropout: the same mask on cpu and wasm for a seed, the rate kept, the gradient is the mask', async () => {
  const run = () => {
    seedDropout(12345)
    const x = tf.ones([200, 50])
    const [value, grad] = tf.tidy(() => {
      const g = tf.grad((t: tf.Tensor) => dropout(t, 0.25).mul(2).sum())(x)
      seedDropout(12345)
      return [dropout(x, 0.25), g]
    })
    const out = { value: Array.from(value!.dataSync()), grad: Array.from(grad!.dataSync()) }
    tf.dispose([x, value!, grad!])
    return out
  }
  registerCpuTrainingKernels()
  await tf.setBackend('cpu')
  const onCpu = run()
  await selectBackend('wasm')
  const onWasm = run()
  assert.deepEqual(onWasm.value, onCpu.value)
  const kept = onWasm.value.filter((v) => v !== 0)
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), 'kept units are scaled by 1/(1 − rate)')
  const keptShare = kept.length / onWasm.value.length
  assert.ok(Math.abs(keptShare - 0.75) < 0.02, `kept ${keptShare} of the units, expected 0.75`)
  assert.deepEqual(onWasm.grad, onWasm.value.map((v) => 2 * v), 'gradient: upstream × mask')
  seedDropout(1)
  const first = Array.from(dropout(tf.ones([1000]), 0.5).dataSync())
  const second = Array.from(dropout(tf.ones([1000]), 0.5).dataSync())
  assert.notDeepEqual(first, second, 'consecutive calls draw fresh masks')
})

test('the wasm backend runs on every core it is given', async () => {
  const report = await selectBackend('wasm')
  const detail = report.attempts.find((a) => a.name === 'wasm')!.detail
  const expected = Math.min(8, availableParallelism())
  assert.match(detail, new RegExp(`SIMD on, ${expected} thread`))
})

test('the reference models train to the same losses on cpu and wasm over their first steps (padding, dropout on)', async () => {
  const vocab = smallVocab
  const configs = smallModels
  const train = async (kind: keyof typeof configs): Promise<number[]> => {
    const { src, tgtIn, tgtOut, mask } = paddedBatch()
    const model = kind === 'lstm' ? new Seq2SeqModel(configs.lstm) : new TransformerModel(configs.transformer)
    const optimizer = tf.train.adam(1e-2)
    const losses: number[] = []
    seedDropout(777)
    for (let step = 0; step < 4; step++) {
      const loss = () =>
        tf.tidy(() => {
          const logits = model instanceof TransformerModel ? model.forward(src, mask, tgtIn, mask, true).logits : model.forward(src, mask, tgtIn, true).logits
          return smoothedCrossEntropy(logits.reshape([-1, vocab]) as tf.Tensor2D, tgtOut, mask.reshape([-1]) as tf.Tensor1D, 0.1)
        })
      losses.push((await optimizerStep(optimizer, loss, model.params.list())).loss)
    }
    tf.dispose([src, tgtIn, tgtOut, mask])
    optimizer.dispose()
    model.dispose()
    return losses
  }
  for (const kind of ['lstm', 'transformer'] as const) {
    await selectBackend('cpu')
    const onCpu = await train(kind)
    await selectBackend('wasm')
    const onWasm = await train(kind)
    assert.ok(onCpu[3]! < onCpu[0]!, `${kind}: the loss falls (${onCpu})`)
    onCpu.forEach((loss, i) => assert.ok(Math.abs(loss - onWasm[i]!) < 1e-4 * Math.abs(loss), `${kind} step ${i}: cpu ${loss}, wasm ${onWasm[i]}`))
  }
})

test('the threaded wasm backend starts its threads from one shared, content-named script, not a temp file per process', async () => {
  const report = await selectBackend('wasm')
  assert.equal(report.active, 'wasm')
  const folder = join(tmpdir(), 'kotoba-wasm')
  const scripts = readdirSync(folder).filter((f) => /^pthread-[0-9a-f]{16}\.cjs$/.test(f))
  assert.ok(scripts.length >= 1, `the pthread script is in ${folder}`)
  assert.deepEqual(readdirSync(tmpdir()).filter((f) => f.startsWith(`kotoba-wasm-pthread-${process.pid}-`)), [], 'no per-process copy is left behind')
})
