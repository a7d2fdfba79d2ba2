// The training core's parts: schedules, batching, Adam state round trips, gradient accumulation,
// checkpoint blobs, and no tensor leaks across updates.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Random } from '../models/core/random.ts'
import { Adam } from '../models/train/adam.ts'
import { epochBatches, type Example } from '../models/train/batching.ts'
import { decodeTensors, encodeTensors } from '../models/train/checkpoint-codec.ts'
import { initialPlateau, learningRate, observePlateau } from '../models/train/schedules.ts'
import { trainUpdate } from '../models/train/train-step.ts'
import { targetLogPrior } from '../models/train/output-prior.ts'
import { disposeTranslationBatch, makeTranslationBatch } from '../models/translation/batch.ts'
import { createTranslationModel } from '../models/translation/model.ts'

const special = { pad: 0, bos: 1, eos: 2 }

function examples(count: number, seed: number): Example[] {
  const random = new Random(seed)
  return Array.from({ length: count }, (_, index) => {
    const src = Array.from({ length: 1 + random.integer(12) }, () => 3 + random.integer(9))
    return { index, src, tgt: [...src].reverse() }
  })
}

test('learning-rate schedules: warmup then inverse square root, Noam, and reduce-on-plateau', () => {
  const inverse = { kind: 'inverse-sqrt', warmup: 100 } as const
  assert.equal(learningRate(inverse, 1e-3, 50), 5e-4)
  assert.equal(learningRate(inverse, 1e-3, 100), 1e-3)
  assert.ok(Math.abs(learningRate(inverse, 1e-3, 400) - 5e-4) < 1e-12)
  const noam = { kind: 'noam', warmup: 4000, dModel: 512, factor: 1 } as const
  const peak = learningRate(noam, 0, 4000)
  assert.ok(Math.abs(peak - 512 ** -0.5 * 4000 ** -0.5) < 1e-12)
  assert.ok(learningRate(noam, 0, 2000) < peak && learningRate(noam, 0, 8000) < peak)
  const plateau = { kind: 'plateau', patience: 2, decay: 0.5, minLr: 1e-5 } as const
  let state = initialPlateau
  for (const loss of [3, 2.5, 2.6, 2.7, 2.4, 2.5, 2.6]) state = observePlateau(plateau, state, loss, true)
  assert.equal(state.reductions, 2)
  assert.equal(learningRate(plateau, 1e-3, 10, state), 2.5e-4)
  assert.equal(learningRate({ kind: 'constant' }, 3e-4, 10), 3e-4)
})

test('token-budget batches: every example once per epoch, within the budget, reproducible by seed and epoch', () => {
  const data = examples(500, 1)
  const batches = epochBatches(data, 120, 7, 0)
  assert.deepEqual(batches.flat().sort((a, b) => a - b), data.map((_, i) => i))
  for (const batch of batches) {
    const longest = Math.max(...batch.map((i) => Math.max(data[i]!.src.length, data[i]!.tgt.length + 1)))
    assert.ok(batch.length === 1 || longest * batch.length <= 120, `batch of ${batch.length} × ${longest}`)
  }
  assert.deepEqual(epochBatches(data, 120, 7, 0), batches)
  assert.notDeepEqual(epochBatches(data, 120, 7, 1), batches)
  // Similar lengths travel together: the mean padding per batch stays small.
  const padding = batches.reduce((sum, batch) => {
    const lengths = batch.map((i) => data[i]!.src.length)
    return sum + batch.length * Math.max(...lengths) - lengths.reduce((a, b) => a + b, 0)
  }, 0)
  assert.ok(padding / data.reduce((s, e) => s + e.src.length, 0) < 0.25, `padding ${padding}`)
})

test('checkpoint blobs keep names, shapes and values exactly, and reject truncation', () => {
  const arrays = [
    { name: 'encoder/w', shape: [2, 3], values: Float32Array.from([1, -2, 3.5, 4, 5, 6e-8]) },
    { name: 'bias', shape: [3], values: Float32Array.from([0, 0.25, -1]) },
  ]
  const blob = encodeTensors(arrays)
  assert.deepEqual(decodeTensors(blob), arrays)
  const unaligned = new Uint8Array(blob.length + 1)
  unaligned.set(blob, 1)
  assert.deepEqual(decodeTensors(unaligned.subarray(1)), arrays, 'SQLite blobs need not be aligned')
  assert.throws(() => decodeTensors(blob.subarray(0, blob.length - 4)), /truncated/)
})

test('gradient accumulation over two halves equals one update on the whole batch; Adam state round-trips; no leaks', async () => {
  await selectBackend('cpu')
  const spec = { kind: 'seq2seq', seq2seq: { embeddingSize: 8, hiddenSize: 12, cell: 'gru', encoderLayers: 1, decoderLayers: 1, bidirectional: true, attention: 'luong', inputFeeding: true, dropout: 0 } } as const
  const data = examples(8, 3)
  const whole = createTranslationModel(spec, { src: 12, tgt: 12 }, 5)
  const halves = createTranslationModel(spec, { src: 12, tgt: 12 }, 5)
  const adamWhole = new Adam()
  const adamHalves = new Adam()
  const full = makeTranslationBatch(data, special)
  const first = makeTranslationBatch(data.slice(0, 4), special)
  const second = makeTranslationBatch(data.slice(4), special)
  const a = await trainUpdate(whole.params, (b) => whole.loss(b, true, 0), [full], adamWhole, 1e-2, 1)
  const b = await trainUpdate(halves.params, (b) => halves.loss(b, true, 0), [first, second], adamHalves, 1e-2, 1)
  assert.ok(Math.abs(a.loss - b.loss) < 1e-5, `${a.loss} vs ${b.loss}`)
  assert.ok(Math.abs(a.gradNorm - b.gradNorm) < 1e-4 * a.gradNorm)
  for (const [name, variable] of whole.params.entries()) {
    const other = halves.params.get(name)
    const diff = tf.tidy(() => variable.sub(other).abs().max().dataSync()[0]!)
    assert.ok(diff < 1e-5, `${name} differs by ${diff}`)
  }
  // Moments saved and restored into a fresh optimizer give the same next update.
  const restored = new Adam()
  restored.restore(adamWhole.state(), adamWhole.steps)
  const twin = createTranslationModel(spec, { src: 12, tgt: 12 }, 5)
  for (const [name, variable] of twin.params.entries()) variable.assign(whole.params.get(name))
  const before = tf.memory().numTensors
  for (let i = 0; i < 3; i++) {
    await trainUpdate(whole.params, (batch) => whole.loss(batch, true, 0.1), [full], adamWhole, 1e-2, 1)
    await trainUpdate(twin.params, (batch) => twin.loss(batch, true, 0.1), [full], restored, 1e-2, 1)
  }
  assert.equal(tf.memory().numTensors, before, 'updates leak no tensors')
  for (const [name, variable] of whole.params.entries()) {
    const diff = tf.tidy(() => variable.sub(twin.params.get(name)).abs().max().dataSync()[0]!)
    assert.ok(diff < 1e-6, `${name} differs by ${diff} after restoring the optimizer`)
  }
  ;[full, first, second].forEach(disposeTranslationBatch)
  for (const model of [whole, halves, twin]) model.dispose()
  for (const optimizer of [adamWhole, adamHalves, restored]) optimizer.dispose()
})

test('parameter counts follow the cell: LSTM > GRU > simple RNN at the same size', () => {
  const count = (cell: 'lstm' | 'gru' | 'rnn') => {
    const model = createTranslationModel({ kind: 'seq2seq', seq2seq: { embeddingSize: 32, hiddenSize: 64, cell, encoderLayers: 1, decoderLayers: 1, bidirectional: false, attention: 'luong', inputFeeding: true, dropout: 0 } }, { src: 100, tgt: 100 }, 1)
    const n = model.parameterCount()
    model.dispose()
    return n
  }
  const [lstm, gru, rnn] = [count('lstm'), count('gru'), count('rnn')]
  assert.ok(lstm > gru && gru > rnn, `${lstm} > ${gru} > ${rnn}`)
})

test('with the output bias at the targets’ log prior, a seq2seq decoder over 1000 pieces learns a counting task (it stalls without)', async () => {
  await selectBackend('wasm')
  const vocab = 1000
  const random = new Random(3)
  // Target: counting up from a start given by the first source token; each step needs the previous target token.
  const make = () =>
    Array.from({ length: 32 }, (_, index) => {
      const src = Array.from({ length: 3 + random.integer(8) }, () => 3 + random.integer(50))
      return { index, src, tgt: src.map((_, i) => 3 + src[0]! + i) }
    })
  const finalLoss = async (prior: boolean): Promise<number> => {
    const model = createTranslationModel({ kind: 'seq2seq', seq2seq: { embeddingSize: 64, hiddenSize: 64, cell: 'gru', encoderLayers: 1, decoderLayers: 1, bidirectional: true, attention: 'none', inputFeeding: false, dropout: 0 } }, { src: vocab, tgt: vocab }, 1)
    if (prior) model.setOutputBias(targetLogPrior(Array.from({ length: 20 }, make).flat(), vocab, special.eos))
    const adam = new Adam()
    let loss = 0
    for (let step = 0; step < 100; step++) {
      const batch = makeTranslationBatch(make(), special)
      loss = (await trainUpdate(model.params, (b) => model.loss(b, true, 0), [batch], adam, 3e-3, 5)).loss
      disposeTranslationBatch(batch)
    }
    model.dispose()
    adam.dispose()
    return loss
  }
  const withPrior = await finalLoss(true)
  const without = await finalLoss(false)
  assert.ok(withPrior < 1.2, `with the prior: ${withPrior}`)
  assert.ok(without > 2 * withPrior, `without: ${without}`)
})
