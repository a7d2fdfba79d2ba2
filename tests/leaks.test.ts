// Training and decoding loops keep tf.memory().numTensors flat (every tensor freed), also when an update fails part-way.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Random } from '../models/core/random.ts'
import { beamSearch } from '../models/decode/beam-search.ts'
import { greedyDecode } from '../models/decode/greedy.ts'
import { sampleDecode } from '../models/decode/sampling.ts'
import { Seq2SeqStepDecoder } from '../models/seq2seq/step-decoder.ts'
import { disposeDialogueBatch, makeDialogueBatch } from '../models/dialogue/batch.ts'
import { DialogueModel } from '../models/dialogue/hred.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { Seq2SeqModel } from '../models/seq2seq/model.ts'
import { optimizerStep } from '../models/train/optimizer-step.ts'
import { resetWasmPeak, setWasmMemoryLimit, wasmMemoryUsage } from '../main/engine/compute/wasm-memory.ts'
import { BOS, disposeBatch, EOS, makeToyBatch } from './support/toy-tasks.ts'
import { assertFailedUpdatesLeaveNothing } from './support/failed-updates.ts'

for (const cell of ['lstm', 'gru'] as const) test(`200 training steps and 200 decodes (greedy, beam and sampling) leak no tensors (wasm, ${cell}: its fused layer and gates)`, async () => {
  assert.equal((await selectBackend('wasm')).active, 'wasm')
  const model = new Seq2SeqModel({
    srcVocab: 12,
    tgtVocab: 12,
    embeddingSize: 16,
    hiddenSize: 24,
    cell,
    encoderLayers: 2,
    decoderLayers: 2,
    bidirectional: true,
    attention: 'bahdanau',
    inputFeeding: true,
    dropout: 0.1,
    seed: 3,
  })
  const optimizer = tf.train.adam(3e-3)
  const random = new Random(11)
  const counts: number[] = []
  const losses: number[] = []
  for (let step = 0; step < 200; step++) {
    const batch = makeToyBatch(random, 'reverse', 16, 6, 2, 5)
    const { loss } = await optimizerStep(
      optimizer,
      () =>
        tf.tidy(() => {
          const { logits } = model.forward(batch.src, batch.srcMask, batch.tgtIn, true)
          return smoothedCrossEntropy(logits.reshape([-1, 12]) as tf.Tensor2D, batch.tgtOut, batch.tgtMask, 0.1)
        }),
      model.params.list(),
      1,
    )
    disposeBatch(batch)
    losses.push(loss)
    counts.push(tf.memory().numTensors)
  }
  // The optimizer's slots appear at the first step; from then on the count must not move.
  assert.deepEqual(new Set(counts.slice(1)), new Set([counts[1]]), `tensor counts drifted: ${counts.slice(0, 5)} … ${counts.slice(-5)}`)
  const early = losses.slice(0, 20).reduce((a, b) => a + b) / 20
  const late = losses.slice(-20).reduce((a, b) => a + b) / 20
  assert.ok(late < early * 0.8, `the loss fell (${early.toFixed(3)} → ${late.toFixed(3)})`)

  const before = tf.memory().numTensors
  for (let i = 0; i < 200; i++) {
    const batch = makeToyBatch(random, 'reverse', 4, 6, 2, 5)
    const decoder = new Seq2SeqStepDecoder(model)
    const result = await greedyDecode(decoder, batch.src, batch.srcMask, { bos: BOS, eos: EOS, maxLength: 8 })
    assert.equal(result.length, 4)
    const first = tf.tidy(() => [batch.src.slice([0, 0], [1, -1]), batch.srcMask.slice([0, 0], [1, -1])]) as [tf.Tensor2D, tf.Tensor2D]
    assert.equal((await beamSearch(decoder, first[0], first[1], { bos: BOS, eos: EOS, maxLength: 8, beamSize: 3, nBest: 2, lengthPenalty: 0.6 })).length, 2)
    assert.equal((await sampleDecode(decoder, first[0], first[1], 2, { bos: BOS, eos: EOS, maxLength: 8, temperature: 1, topK: 0, topP: 0.9 }, random)).length, 2)
    tf.dispose(first)
    disposeBatch(batch)
  }
  assert.equal(tf.memory().numTensors, before, 'decoding leaked tensors')
  optimizer.dispose()
  model.dispose()
})

test('HRED training steps (fused GRU layers, the decoder projected once per dialogue) leak no tensors (wasm)', async () => {
  assert.equal((await selectBackend('wasm')).active, 'wasm')
  const model = new DialogueModel({ vocab: 20, cell: 'gru', embeddingSize: 12, utteranceHidden: 10, bidirectional: true, contextHidden: 14, decoderHidden: 16, latentSize: 0, dropout: 0.1, seed: 5 })
  const optimizer = tf.train.adam(3e-3)
  const random = new Random(12)
  const turn = () => Array.from({ length: 1 + random.integer(5) }, () => 4 + random.integer(16))
  const counts: number[] = []
  for (let step = 0; step < 60; step++) {
    const examples = Array.from({ length: 6 }, () => ({ turns: Array.from({ length: 1 + random.integer(3) }, turn), tgt: turn() }))
    const batch = makeDialogueBatch(examples, { pad: 0, bos: BOS, eos: EOS })
    await optimizerStep(optimizer, () => tf.tidy(() => model.losses(batch, true, 0).total), model.params.list(), 1)
    disposeDialogueBatch(batch)
    counts.push(tf.memory().numTensors)
  }
  assert.deepEqual(new Set(counts.slice(1)), new Set([counts[1]]), `tensor counts drifted: ${counts.slice(0, 5)} … ${counts.slice(-5)}`)
  optimizer.dispose()
  model.dispose()
})

test('an update that runs out of memory anywhere in its forward or backward pass leaves no tensor and no heap bytes behind (wasm)', async () => {
  assert.equal((await selectBackend('wasm')).active, 'wasm')
  await assertFailedUpdatesLeaveNothing({ usage: () => wasmMemoryUsage()!, resetPeak: resetWasmPeak, setLimit: setWasmMemoryLimit })
})
