// Transformer: no attention to padding or to future positions (checked numerically), and it trains.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Random } from '../models/core/random.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { optimizerStep } from '../models/train/optimizer-step.ts'
import { TransformerModel, type TransformerConfig } from '../models/transformer/model.ts'
import { disposeBatch, makeToyBatch } from './support/toy-tasks.ts'

const vocab = 13
const tiny: TransformerConfig = {
  srcVocab: vocab,
  tgtVocab: vocab,
  dModel: 32,
  heads: 4,
  dFF: 64,
  encoderLayers: 2,
  decoderLayers: 2,
  dropout: 0,
  attentionDropout: 0,
  norm: 'post',
  positions: 'sinusoidal',
  shareEmbeddings: 'none',
  maxLength: 32,
  seed: 4,
}

test('masks: padded source tokens and future target tokens change nothing they must not', async () => {
  await selectBackend('wasm')
  const model = new TransformerModel(tiny)
  const srcMask = tf.tensor2d([[1, 1, 1, 0, 0]])
  const tgtMask = tf.tensor2d([[1, 1, 1, 1]])
  const run = (src: number[], tgt: number[]) =>
    tf.tidy(() => {
      const { logits, attention } = model.forward(tf.tensor2d([src], undefined, 'int32'), srcMask, tf.tensor2d([tgt], undefined, 'int32'), tgtMask, false, true)
      return { logits: logits.arraySync()[0]!, cross: attention!.cross.map((w) => w.arraySync()[0]!), self: attention!.decoderSelf.map((w) => w.arraySync()[0]!) }
    })
  const base = run([3, 4, 5, 0, 0], [1, 6, 7, 8])
  // Whatever sits in padded source positions is invisible.
  const otherPadding = run([3, 4, 5, 9, 10], [1, 6, 7, 8])
  base.logits.forEach((row, t) => row.forEach((value, v) => assert.ok(Math.abs(value - otherPadding.logits[t]![v]!) < 1e-5)))
  for (const layer of base.cross) for (const head of layer) for (const row of head) assert.ok(row[3]! < 1e-6 && row[4]! < 1e-6)
  // Position t never sees targets after t: changing the last target token leaves earlier logits alone.
  const otherFuture = run([3, 4, 5, 0, 0], [1, 6, 7, 11])
  for (let t = 0; t < 3; t++) base.logits[t]!.forEach((value, v) => assert.ok(Math.abs(value - otherFuture.logits[t]![v]!) < 1e-5))
  assert.ok(base.logits[3]!.some((value, v) => Math.abs(value - otherFuture.logits[3]![v]!) > 1e-4), 'the last position does see its own input')
  for (const layer of base.self) for (const head of layer) head.forEach((row, q) => row.forEach((w, k) => k > q && assert.ok(w < 1e-6)))
  srcMask.dispose()
  tgtMask.dispose()
  model.dispose()
})

for (const norm of ['post', 'pre'] as const) {
  test(`a tiny ${norm}-LN Transformer learns to copy (the loss falls 5×) without leaking tensors`, async () => {
    await selectBackend('wasm')
    const model = new TransformerModel({ ...tiny, norm, dModel: 64, dFF: 128 })
    const optimizer = tf.train.adam(2e-3, 0.9, 0.98)
    const random = new Random(2)
    const losses: number[] = []
    const counts: number[] = []
    for (let step = 0; step < 150; step++) {
      const batch = makeToyBatch(random, 'copy', 64, 10, 3, 8)
      const tgtMask = tf.tidy(() => batch.tgtIn.notEqual(0).cast('float32').maximum(tf.oneHot(tf.zeros([64], 'int32'), batch.tgtIn.shape[1]))) as tf.Tensor2D // BOS counts
      const { loss } = await optimizerStep(
        optimizer,
        () => tf.tidy(() => smoothedCrossEntropy(model.forward(batch.src, batch.srcMask, batch.tgtIn, tgtMask, true).logits.reshape([-1, vocab]) as tf.Tensor2D, batch.tgtOut, batch.tgtMask)),
        model.params.list(),
        1,
      )
      disposeBatch(batch)
      tgtMask.dispose()
      losses.push(loss)
      counts.push(tf.memory().numTensors)
    }
    assert.ok(losses.slice(-10).reduce((a, b) => a + b) / 10 < losses[0]! / 5, `loss ${losses[0]} → ${losses.at(-1)}`)
    assert.equal(new Set(counts.slice(1)).size, 1, 'the tensor count stays flat')
    optimizer.dispose()
    model.dispose()
  })
}
