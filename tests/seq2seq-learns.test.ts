// The seq2seq model learns synthetic tasks quickly: exact-match accuracy ≥ 95% on unseen sequences.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Random } from '../models/core/random.ts'
import { greedyDecode } from '../models/decode/greedy.ts'
import { Seq2SeqStepDecoder } from '../models/seq2seq/step-decoder.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { Seq2SeqModel, type AttentionType } from '../models/seq2seq/model.ts'
import { optimizerStep } from '../models/train/optimizer-step.ts'
import type { CellType } from '../models/rnn/cell.ts'
import { BOS, disposeBatch, EOS, makeToyBatch } from './support/toy-tasks.ts'

const symbols = 10
const vocab = 3 + symbols

const setups: { task: 'copy' | 'reverse'; cell: CellType; attention: AttentionType; bidirectional: boolean }[] = [
  { task: 'reverse', cell: 'lstm', attention: 'luong', bidirectional: true },
  { task: 'reverse', cell: 'gru', attention: 'bahdanau', bidirectional: true },
  { task: 'copy', cell: 'rnn', attention: 'luong-dot', bidirectional: false },
]

for (const setup of setups) {
  test(`${setup.cell} with ${setup.attention} attention learns to ${setup.task} within 150 steps`, async () => {
    await selectBackend('wasm')
    const model = new Seq2SeqModel({
      srcVocab: vocab,
      tgtVocab: vocab,
      embeddingSize: 32,
      hiddenSize: 64,
      cell: setup.cell,
      encoderLayers: 1,
      decoderLayers: 1,
      bidirectional: setup.bidirectional,
      attention: setup.attention,
      inputFeeding: true,
      dropout: 0,
      seed: 1,
    })
    const optimizer = tf.train.adam(5e-3)
    const random = new Random(2)
    const losses: number[] = []
    for (let step = 0; step < 150; step++) {
      const batch = makeToyBatch(random, setup.task, 64, symbols, 3, 8)
      const { loss } = await optimizerStep(
        optimizer,
        () => tf.tidy(() => smoothedCrossEntropy(model.forward(batch.src, batch.srcMask, batch.tgtIn, true).logits.reshape([-1, vocab]) as tf.Tensor2D, batch.tgtOut, batch.tgtMask)),
        model.params.list(),
        5,
      )
      losses.push(loss)
      disposeBatch(batch)
    }
    assert.ok(losses.at(-1)! < losses[0]! / 10, `loss fell from ${losses[0]} to ${losses.at(-1)}`)
    const held = makeToyBatch(new Random(99), setup.task, 200, symbols, 3, 8) // a different stream: unseen sequences
    const decoded = await greedyDecode(new Seq2SeqStepDecoder(model), held.src, held.srcMask, { bos: BOS, eos: EOS, maxLength: 12 })
    const tokens = decoded.map((h) => h.tokens)
    const attention = decoded.map((h) => h.attention)
    const correct = tokens.filter((t, i) => t.join() === held.targets[i]!.join()).length
    assert.ok(correct / 200 >= 0.95, `exact match ${correct}/200`)
    // Attention rows are distributions over the real source tokens only.
    const row = attention[0]![0]!
    assert.ok(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-4)
    const length = held.sequences[0]!.length
    assert.ok(row.slice(length).every((w) => w < 1e-6), 'no attention on padding')
    disposeBatch(held)
    optimizer.dispose()
    model.dispose()
  })
}
