// Per-head attention statistics on hand-computed cases, and embedding sharing in the Transformer.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { boundaryColumns, headStatistics, meanStatistics } from '../models/inspect/head-stats.ts'
import { TransformerModel, type TransformerConfig } from '../models/transformer/model.ts'

const close = (a: number, b: number, message?: string) => assert.ok(Math.abs(a - b) < 1e-4, message ?? `${a} ≠ ${b}`)

test('head statistics: entropy, previous-token, same-position and boundary weight, by hand', () => {
  const weights = [
    [1, 0, 0],
    [0.5, 0.5, 0],
    [0.25, 0.25, 0.5],
  ]
  const stats = headStatistics(weights, boundaryColumns(['a', 'b', '</s>']))
  close(stats.entropy, (0 + Math.log(2) + (0.5 * Math.log(4) + 0.5 * Math.log(2))) / 3)
  close(stats.previous, (0.5 + 0.25) / 2) // rows 1 and 2 have a previous key
  close(stats.same, (1 + 0.5 + 0.5) / 3)
  close(stats.boundary, 0.5 / 3)
  // A head that always looks one back (rows beyond the keys count nowhere).
  const back = headStatistics([[1, 0], [1, 0], [0, 1]], [0])
  close(back.previous, 1)
  close(back.same, 0.5)
  close(back.entropy, 0)
  close(back.boundary, 2 / 3)
  const mean = meanStatistics([stats, back])
  close(mean.previous, (0.375 + 1) / 2)
})

test('boundary keys are <s>/</s> when present, else the final token', () => {
  assert.deepEqual(boundaryColumns(['a', 'b', '</s>']), [2])
  assert.deepEqual(boundaryColumns(['<s>', 'x', 'y']), [0])
  assert.deepEqual(boundaryColumns(['▁the', '▁end', '.']), [2])
  assert.deepEqual(boundaryColumns([]), [])
})

test('shared embeddings: target-output ties the output to the target table, all shares one table for both sides', async () => {
  await selectBackend('cpu')
  const base: TransformerConfig = { srcVocab: 20, tgtVocab: 20, dModel: 16, heads: 2, dFF: 32, encoderLayers: 1, decoderLayers: 1, dropout: 0, attentionDropout: 0, norm: 'pre', positions: 'sinusoidal', shareEmbeddings: 'none', maxLength: 16, seed: 3 }
  const names = (sharing: TransformerConfig['shareEmbeddings']) => {
    const model = new TransformerModel({ ...base, shareEmbeddings: sharing })
    const result = { names: [...model.params.entries()].map(([name]) => name), count: model.parameterCount() }
    model.dispose()
    return result
  }
  const none = names('none')
  const tied = names('target-output')
  const all = names('all')
  assert.ok(none.names.includes('output/kernel') && none.names.includes('src_embedding/table'))
  assert.ok(!tied.names.includes('output/kernel') && tied.names.includes('output/bias'))
  assert.equal(none.count - tied.count, 16 * 20)
  assert.ok(!all.names.includes('src_embedding/table'))
  assert.equal(tied.count - all.count, 20 * 16)
  assert.throws(() => new TransformerModel({ ...base, tgtVocab: 21, shareEmbeddings: 'all' }), /one joint vocabulary/)
  // A tied model's logits are the decoder output times the target table, so a change to the table moves them.
  const model = new TransformerModel({ ...base, shareEmbeddings: 'all' })
  const src = tf.tensor2d([[3, 4, 5]], undefined, 'int32')
  const mask = tf.ones([1, 3]) as tf.Tensor2D
  const before = model.forward(src, mask, src, mask).logits
  const table = model.params.get('tgt_embedding/table')
  tf.tidy(() => table.assign(table.mul(2)))
  const after = model.forward(src, mask, src, mask).logits
  assert.ok(tf.tidy(() => after.sub(before).abs().max().dataSync()[0]!) > 1e-3)
  tf.dispose([src, mask, before, after])
  model.dispose()
})
