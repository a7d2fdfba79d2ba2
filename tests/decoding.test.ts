// Greedy, beam search and sampling on a briefly trained model: beam 1 is greedy, top-k 1 is greedy,
// n-best lists are ranked by the GNMT-normalised score, no-repeat blocking holds.
import assert from 'node:assert/strict'
import { before, after, test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Random } from '../models/core/random.ts'
import { beamSearch, lengthPenalty } from '../models/decode/beam-search.ts'
import { greedyDecode } from '../models/decode/greedy.ts'
import { bannedTokens } from '../models/decode/no-repeat.ts'
import { sampleDecode } from '../models/decode/sampling.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { Seq2SeqModel } from '../models/seq2seq/model.ts'
import { Seq2SeqStepDecoder } from '../models/seq2seq/step-decoder.ts'
import { TransformerModel } from '../models/transformer/model.ts'
import { CachedTransformerStepDecoder, TransformerStepDecoder } from '../models/transformer/step-decoder.ts'
import { optimizerStep } from '../models/train/optimizer-step.ts'
import { BOS, disposeBatch, EOS, makeToyBatch, type ToyBatch } from './support/toy-tasks.ts'

const symbols = 8
const vocab = 3 + symbols
let model: Seq2SeqModel
let decoder: Seq2SeqStepDecoder
let held: ToyBatch
const special = { bos: BOS, eos: EOS, maxLength: 10 }

before(async () => {
  await selectBackend('wasm')
  model = new Seq2SeqModel({ srcVocab: vocab, tgtVocab: vocab, embeddingSize: 16, hiddenSize: 32, cell: 'gru', encoderLayers: 1, decoderLayers: 1, bidirectional: true, attention: 'luong', inputFeeding: true, dropout: 0, seed: 3 })
  const optimizer = tf.train.adam(5e-3)
  const random = new Random(4)
  for (let step = 0; step < 40; step++) {
    // Half-trained on purpose: the distributions are neither uniform nor peaked, so searches can differ.
    const batch = makeToyBatch(random, 'reverse', 32, symbols, 2, 6)
    await optimizerStep(optimizer, () => tf.tidy(() => smoothedCrossEntropy(model.forward(batch.src, batch.srcMask, batch.tgtIn, true).logits.reshape([-1, vocab]) as tf.Tensor2D, batch.tgtOut, batch.tgtMask)), model.params.list(), 5)
    disposeBatch(batch)
  }
  optimizer.dispose()
  decoder = new Seq2SeqStepDecoder(model)
  held = makeToyBatch(new Random(77), 'reverse', 12, symbols, 2, 6)
})

after(() => {
  disposeBatch(held)
  model.dispose()
})

function sentence(i: number): [tf.Tensor2D, tf.Tensor2D] {
  const length = held.sequences[i]!.length
  return [tf.tensor2d([held.sequences[i]!], [1, length], 'int32'), tf.ones([1, length]) as tf.Tensor2D]
}

test('beam search with beam 1 equals greedy decoding (tokens, log-probabilities, attention)', async () => {
  // Sentence by sentence for both: a padded batch changes float summation order, which can flip near-ties.
  for (let i = 0; i < held.sequences.length; i++) {
    const [src, mask] = sentence(i)
    const greedy = await greedyDecode(decoder, src, mask, special)
    const [best] = await beamSearch(decoder, src, mask, { ...special, beamSize: 1, nBest: 1, lengthPenalty: 0 })
    tf.dispose([src, mask])
    assert.deepEqual(best!.tokens, greedy[0]!.tokens, `sentence ${i}`)
    assert.ok(Math.abs(best!.logProb - greedy[0]!.logProb) < 1e-4)
    assert.equal(best!.attention.length, greedy[0]!.attention.length)
    const length = held.sequences[i]!.length
    assert.ok(Math.abs(best!.attention[0]!.slice(0, length).reduce((a, b) => a + b) - 1) < 1e-4, 'attention rows sum to 1 over the real source')
  }
})

test('beam search returns n distinct hypotheses ranked by log p / GNMT length penalty', async () => {
  for (let i = 0; i < 4; i++) {
    const [src, mask] = sentence(i)
    const nbest = await beamSearch(decoder, src, mask, { ...special, beamSize: 5, nBest: 3, lengthPenalty: 0.6 })
    tf.dispose([src, mask])
    assert.equal(nbest.length, 3)
    assert.equal(new Set(nbest.map((h) => h.tokens.join())).size, 3, 'distinct hypotheses')
    for (const hyp of nbest) {
      assert.ok(Math.abs(hyp.logProb - hyp.tokenLogProbs.reduce((a, b) => a + b, 0)) < 1e-4)
      assert.ok(Math.abs(hyp.score - hyp.logProb / lengthPenalty(hyp.tokenLogProbs.length, 0.6)) < 1e-6)
      assert.equal(hyp.attention.length, hyp.tokenLogProbs.length)
    }
    for (let k = 1; k < nbest.length; k++) assert.ok(nbest[k - 1]!.score >= nbest[k]!.score)
  }
  assert.equal(lengthPenalty(7, 0), 1)
  assert.ok(Math.abs(lengthPenalty(7, 1) - 2) < 1e-12) // (5 + 7) / 6
})

test('sampling: top-k 1 is greedy; a seed makes samples reproducible; temperature spreads them', async () => {
  const [src, mask] = sentence(0)
  const greedy = await greedyDecode(decoder, src, mask, special)
  const topOne = await sampleDecode(decoder, src, mask, 3, { ...special, temperature: 1, topK: 1, topP: 1 }, new Random(1))
  for (const sample of topOne) assert.deepEqual(sample.tokens, greedy[0]!.tokens)
  const options = { ...special, temperature: 2, topK: 0, topP: 1 }
  const first = await sampleDecode(decoder, src, mask, 16, options, new Random(5))
  const again = await sampleDecode(decoder, src, mask, 16, options, new Random(5))
  assert.deepEqual(first.map((h) => h.tokens), again.map((h) => h.tokens))
  assert.ok(new Set(first.map((h) => h.tokens.join())).size > 1, 'hot samples differ')
  tf.dispose([src, mask])
})

test('no-repeat n-gram blocking bans exactly the tokens that would repeat an n-gram', async () => {
  assert.deepEqual([...bannedTokens([5, 6, 5], 2)].sort(), [6])
  assert.deepEqual([...bannedTokens([1, 2, 3, 1, 2], 3)], [3])
  assert.deepEqual([...bannedTokens([4, 4], 1)], [4])
  assert.equal(bannedTokens([1], 3).size, 0)
  const decoded = await greedyDecode(decoder, held.src, held.srcMask, { ...special, maxLength: 20, noRepeatNgram: 2 })
  for (const hyp of decoded) {
    const bigrams = hyp.tokens.slice(1).map((token, i) => `${hyp.tokens[i]},${token}`)
    assert.equal(new Set(bigrams).size, bigrams.length, `repeated bigram in ${hyp.tokens}`)
  }
})

test('the Transformer decodes through the same searches: beam 1 equals greedy, n-best ranked', async () => {
  const transformer = new TransformerModel({ srcVocab: vocab, tgtVocab: vocab, dModel: 16, heads: 2, dFF: 32, encoderLayers: 1, decoderLayers: 1, dropout: 0, attentionDropout: 0, norm: 'pre', positions: 'sinusoidal', shareEmbeddings: 'all', maxLength: 32, seed: 9 })
  const steps = new TransformerStepDecoder(transformer)
  for (let i = 0; i < 4; i++) {
    const [src, mask] = sentence(i)
    const [greedy] = await greedyDecode(steps, src, mask, special)
    const [best] = await beamSearch(steps, src, mask, { ...special, beamSize: 1, nBest: 1, lengthPenalty: 0 })
    assert.deepEqual(best!.tokens, greedy!.tokens)
    assert.ok(Math.abs(best!.logProb - greedy!.logProb) < 1e-4)
    assert.equal(best!.attention[0]!.length, held.sequences[i]!.length)
    const nbest = await beamSearch(steps, src, mask, { ...special, beamSize: 4, nBest: 4, lengthPenalty: 1 })
    for (let k = 1; k < nbest.length; k++) assert.ok(nbest[k - 1]!.score >= nbest[k]!.score)
    tf.dispose([src, mask])
  }
  transformer.dispose()
})

test('cached incremental Transformer decoding equals recomputing the prefix (greedy and beam; pre- and post-LN), leak-free', async () => {
  for (const norm of ['pre', 'post'] as const) {
    const transformer = new TransformerModel({ srcVocab: vocab, tgtVocab: vocab, dModel: 16, heads: 2, dFF: 32, encoderLayers: 2, decoderLayers: 2, dropout: 0, attentionDropout: 0, norm, positions: 'sinusoidal', shareEmbeddings: norm === 'pre' ? 'all' : 'target-output', maxLength: 32, seed: 4 })
    const plain = new TransformerStepDecoder(transformer)
    const cached = new CachedTransformerStepDecoder(transformer)
    const greedyPlain = await greedyDecode(plain, held.src, held.srcMask, special)
    const before = tf.memory().numTensors
    const greedyCached = await greedyDecode(cached, held.src, held.srcMask, special)
    assert.equal(tf.memory().numTensors, before, 'cached decoding leaks nothing')
    greedyPlain.forEach((hyp, i) => {
      assert.deepEqual(greedyCached[i]!.tokens, hyp.tokens, `${norm}-LN sentence ${i}`)
      hyp.tokenLogProbs.forEach((lp, t) => assert.ok(Math.abs(lp - greedyCached[i]!.tokenLogProbs[t]!) < 1e-4))
      hyp.attention.forEach((row, t) => row.forEach((w, s) => assert.ok(Math.abs(w - greedyCached[i]!.attention[t]![s]!) < 1e-4)))
    })
    for (let i = 0; i < 3; i++) {
      const [src, mask] = sentence(i)
      const options = { ...special, beamSize: 4, nBest: 3, lengthPenalty: 0.6 }
      const a = await beamSearch(plain, src, mask, options)
      const b = await beamSearch(cached, src, mask, options)
      assert.deepEqual(b.map((h) => h.tokens), a.map((h) => h.tokens))
      b.forEach((h, k) => assert.ok(Math.abs(h.score - a[k]!.score) < 1e-4))
      tf.dispose([src, mask])
    }
    transformer.dispose()
  }
})
