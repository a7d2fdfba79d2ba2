// Seq2seq model structure: the parallel teacher-forcing path computes exactly what stepping does.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Random } from '../models/core/random.ts'
import { disposeDecoderState, Seq2SeqModel, type Seq2SeqConfig } from '../models/seq2seq/model.ts'
import { disposeBatch, makeToyBatch } from './support/toy-tasks.ts'

const base: Seq2SeqConfig = {
  srcVocab: 13,
  tgtVocab: 13,
  embeddingSize: 8,
  hiddenSize: 16,
  cell: 'gru',
  encoderLayers: 2,
  decoderLayers: 2,
  bidirectional: true,
  attention: 'luong',
  inputFeeding: false,
  dropout: 0,
  seed: 9,
}

function maxDifference(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!)
}

for (const config of [base, { ...base, cell: 'lstm' as const, attention: 'none' as const }, { ...base, cell: 'rnn' as const, bidirectional: false, attention: 'luong-dot' as const }]) {
  test(`${config.cell}/${config.attention}: the parallel teacher-forced pass equals step-by-step decoding`, async () => {
    await selectBackend('wasm')
    const model = new Seq2SeqModel(config)
    const batch = makeToyBatch(new Random(1), 'reverse', 5, 10, 2, 6)
    const parallel = model.forward(batch.src, batch.srcMask, batch.tgtIn)
    const stepwise = model.forward(batch.src, batch.srcMask, batch.tgtIn, false, { stepwise: true })
    assert.deepEqual(parallel.logits.shape, [5, batch.tgtIn.shape[1], 13])
    assert.ok(maxDifference(parallel.logits, stepwise.logits) < 1e-5)
    if (config.attention === 'none') assert.equal(parallel.attention, null)
    else assert.ok(maxDifference(parallel.attention!, stepwise.attention!) < 1e-6)
    tf.dispose([parallel.logits, stepwise.logits, parallel.attention ?? [], stepwise.attention ?? []])
    disposeBatch(batch)
    model.dispose()
  })
}

// With input feeding (and with Bahdanau attention, which has no all-steps form) the teacher-forced pass steps, but
// embeds, projects the first layer's input and applies the output layer for all positions at once: the same logits and
// attention as decoding token by token with step().
for (const config of [{ ...base, cell: 'lstm' as const, inputFeeding: true }, { ...base, attention: 'bahdanau' as const, decoderLayers: 1 }, { ...base, cell: 'rnn' as const, attention: 'luong-dot' as const, bidirectional: false, inputFeeding: true }]) {
  test(`${config.cell}/${config.attention}${config.inputFeeding ? ' with input feeding' : ''}: the teacher-forced pass equals step() token by token`, async () => {
    await selectBackend('wasm')
    const model = new Seq2SeqModel(config)
    const batch = makeToyBatch(new Random(2), 'reverse', 5, 10, 2, 6)
    const whole = model.forward(batch.src, batch.srcMask, batch.tgtIn)
    const logits: tf.Tensor2D[] = []
    const attention: tf.Tensor2D[] = []
    let state = model.encode(batch.src, batch.srcMask)
    for (const previous of tf.unstack(batch.tgtIn, 1) as tf.Tensor1D[]) {
      const out = model.step(previous, state)
      logits.push(out.logits)
      attention.push(out.attention!)
      disposeDecoderState(state, true)
      state = out.state
      previous.dispose()
    }
    disposeDecoderState(state)
    const [stepLogits, stepAttention] = [tf.stack(logits, 1), tf.stack(attention, 1)]
    assert.deepEqual(whole.logits.shape, stepLogits.shape)
    assert.ok(maxDifference(whole.logits, stepLogits) < 1e-5, `logits differ by ${maxDifference(whole.logits, stepLogits)}`)
    assert.ok(maxDifference(whole.attention!, stepAttention) < 1e-6)
    tf.dispose([whole.logits, whole.attention!, stepLogits, stepAttention, ...logits, ...attention])
    disposeBatch(batch)
    model.dispose()
  })
}

test('parameter counts show the cost of each cell type at the same size', () => {
  const count = (cell: Seq2SeqConfig['cell']) => {
    const model = new Seq2SeqModel({ ...base, cell, encoderLayers: 1, decoderLayers: 1, bidirectional: false, attention: 'none' })
    const n = model.parameterCount()
    model.dispose()
    return n
  }
  const E = base.embeddingSize
  const H = base.hiddenSize
  const embeddings = 2 * 13 * E
  const output = H * 13 + 13
  const bridge = H * H + H
  // Per cell: input kernel, recurrent kernel and bias(es) for each gate block.
  assert.equal(count('rnn'), embeddings + output + bridge + 2 * (E * H + H * H + H))
  assert.equal(count('gru'), embeddings + output + bridge + 2 * 3 * (E * H + H * H + 2 * H))
  assert.equal(count('lstm'), embeddings + output + 2 * bridge + 2 * 4 * (E * H + H * H + H))
})

test('two models live side by side (TensorFlow.js variable names are global)', () => {
  const first = new Seq2SeqModel(base)
  const second = new Seq2SeqModel(base)
  assert.deepEqual(first.params.names(), second.params.names(), 'the same logical names')
  assert.notEqual(first.params.list()[0]!.name, second.params.list()[0]!.name, 'distinct engine variables')
  first.dispose()
  second.dispose()
})
