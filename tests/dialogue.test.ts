// HRED and VHRED: shapes and masking across turns of different lengths, a synthetic task whose reply depends on
// the turn two steps back (HRED solves it, a single-turn model cannot), VHRED's KL term with annealing and its
// two-part loss, search through the step decoder without leaks, and the dialogue metrics on hand-computed cases.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Random } from '../models/core/random.ts'
import { greedyDecode } from '../models/decode/greedy.ts'
import { beamSearch } from '../models/decode/beam-search.ts'
import { disposeDialogueBatch, makeDialogueBatch } from '../models/dialogue/batch.ts'
import { DialogueModel, type DialogueModelConfig } from '../models/dialogue/hred.ts'
import { klWeight } from '../models/dialogue/kl-annealing.ts'
import { freeBitsKl } from '../models/dialogue/free-bits.ts'
import { BagOfWordsHead } from '../models/dialogue/bag-of-words.ts'
import { ParameterStore } from '../models/core/params.ts'
import { DialogueStepDecoder, contextTensors } from '../models/dialogue/step-decoder.ts'
import { dialogueScores, distinctN, dullRate, isDull, unigramF1 } from '../models/metrics/dialogue.ts'
import { dialogueReward, informationFlow, meanTokenLogProbs, minimumCosine, rowCosines } from '../models/rl/dialogue-rewards.ts'
import { optimizerStep } from '../models/train/optimizer-step.ts'

const special = { pad: 0, bos: 1, eos: 2 }
const unk = 3
const keys = [4, 5, 6, 7, 8, 9]
const fillers = [10, 11, 12, 13, 14, 15]
const vocab = 16
const config: DialogueModelConfig = { vocab, cell: 'gru', embeddingSize: 16, utteranceHidden: 24, bidirectional: true, contextHidden: 32, decoderHidden: 32, latentSize: 0, dropout: 0, seed: 3 }
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-4, `${a} ≠ ${b}`)

test('distinct-n, unigram F1 and response length by hand', () => {
  const d1 = distinctN(['i am fine', 'i am here'], 1)
  close(d1.inter, 4 / 6)
  close(d1.intra, 1)
  const d2 = distinctN(['i am fine', 'i am here'], 2)
  close(d2.inter, 3 / 4)
  const repetitive = distinctN(['no no no', 'yes'], 2)
  close(repetitive.inter, 1 / 2) // (no no) twice; "yes" has no bigram
  close(repetitive.intra, 1 / 2) // only responses with a bigram count
  close(distinctN(['no no no'], 1).intra, 1 / 3)
  close(unigramF1('The cat sat', 'a cat sat down'), 0.8) // articles dropped: P = 1, R = 2/3
  close(unigramF1('Hello!', 'hello'), 1)
  close(unigramF1('', 'hello'), 0)
  const scores = dialogueScores(['I am fine.', 'Go away'], ['I am fine', 'stay'])
  close(scores.f1, 0.5)
  close(scores.length, (4 + 2) / 2) // "." is a word for length and distinct-n
  assert.throws(() => dialogueScores(['a'], []), /1 responses but 0 references/)
})

test('a recurrent unroll over a single step (a one-turn context, a one-piece turn) still has gradients', async () => {
  await selectBackend('wasm')
  const model = new DialogueModel(config)
  const batch = makeDialogueBatch([{ turns: [[10]], tgt: [4] }], special)
  const { value, grads } = tf.variableGrads(() => model.losses(batch, true, 1).total, model.params.list())
  assert.ok(Object.values(grads).some((g) => g.abs().max().dataSync()[0]! > 0))
  tf.dispose([value, ...Object.values(grads)])
  disposeDialogueBatch(batch)
  model.dispose()
})

test('KL annealing: linear and sigmoid rise from ~0 to 1', () => {
  assert.equal(klWeight({ kind: 'linear', steps: 100 }, 0), 0)
  assert.equal(klWeight({ kind: 'linear', steps: 100 }, 50), 0.5)
  assert.equal(klWeight({ kind: 'linear', steps: 100 }, 500), 1)
  assert.ok(klWeight({ kind: 'sigmoid', steps: 100 }, 0) < 0.01)
  close(klWeight({ kind: 'sigmoid', steps: 100 }, 50), 0.5)
  assert.ok(klWeight({ kind: 'sigmoid', steps: 100 }, 100) > 0.99)
  assert.equal(klWeight({ kind: 'none' }, 0), 1)
})

test('cyclical KL annealing (Fu et al. 2019) ramps from 0 to 1 over the first half of each cycle, then holds 1', () => {
  const cyclical = { kind: 'cyclical', cycleSteps: 100, ramp: 0.5 } as const
  assert.deepEqual([0, 25, 50, 99, 100, 125, 150, 250].map((step) => klWeight(cyclical, step)), [0, 0.5, 1, 1, 0, 0.5, 1, 1])
})

test('free bits: the KL term charges each latent dimension at least λ over the batch, and passes no gradient below it', () => {
  const perDimension = tf.tensor2d([
    [0.1, 2],
    [0.3, 4],
  ])
  close(freeBitsKl(perDimension, 0.5).dataSync()[0]!, 2 * (0.5 + 3)) // batch means 0.2 → λ, and 3
  const grad = tf.grad((x: tf.Tensor) => freeBitsKl(x as tf.Tensor2D, 0.5))(perDimension)
  assert.deepEqual(Array.from(grad.dataSync()), [0, 1, 0, 1])
  tf.dispose([perDimension, grad])
})

test('VHRED with free bits and the bag-of-words loss keeps more information in z than plain VHRED; the bag of words ignores word order', async () => {
  await selectBackend('wasm')
  const plain = new DialogueModel({ ...config, latentSize: 8 })
  const remedied = new DialogueModel({ ...config, latentSize: 8, bagOfWords: true })
  assert.ok(remedied.params.names().some((name) => name.startsWith('bag_of_words/')))
  assert.throws(() => new DialogueModel({ ...config, bagOfWords: true }), /bag-of-words loss is for VHRED/)
  // The head predicts a bag: the loss is the same for any order of a response's words, and padding costs nothing.
  const headParams = new ParameterStore(new Random(2))
  const head = new BagOfWordsHead(headParams, 6, 12, vocab)
  const condition = tf.randomNormal([2, 6], 0, 1, 'float32', 4) as tf.Tensor2D
  const mask = tf.tensor1d([1, 1, 1, 1, 1, 0])
  const lossOf = (targets: number[], m = mask) => tf.tidy(() => head.loss(condition, tf.tensor1d(targets, 'int32'), m).dataSync()[0]!)
  const ordered = lossOf([5, 6, 7, 8, 9, 0])
  assert.ok(ordered > 0)
  close(lossOf([7, 5, 6, 9, 8, 0]), ordered)
  close(lossOf([5, 6, 7, 8, 9, 12]), ordered)
  const all = tf.ones([6]) as tf.Tensor1D
  assert.notEqual(lossOf([5, 6, 7, 8, 9, 12], all), ordered)
  tf.dispose([condition, mask, all])
  headParams.dispose()

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const plainHistory = await trainTwoBack(plain, 3, 120, { annealSteps: 60 })
  const remediedHistory = await trainTwoBack(remedied, 3, 120, { annealSteps: 60, freeBits: 0.5, bowWeight: 1 })
  const plainKl = mean(plainHistory.slice(-10).map((h) => h.kl))
  const remediedKl = mean(remediedHistory.slice(-10).map((h) => h.kl))
  assert.ok(remediedKl > plainKl, `KL per reply with the remedies ${remediedKl.toFixed(3)} > plain ${plainKl.toFixed(3)}`)
  assert.ok(mean(remediedHistory.slice(-10).map((h) => h.bagOfWords)) < mean(remediedHistory.slice(0, 10).map((h) => h.bagOfWords)), 'the bag-of-words loss falls')
  assert.ok(remediedHistory.every((h) => Number.isFinite(h.reconstruction) && h.kl >= 0))
  plain.dispose()
  remedied.dispose()
})

test('forward shapes, and masking across turns of different lengths: an example gives the same context and logits alone or in a padded batch', async () => {
  await selectBackend('wasm')
  for (const latentSize of [0, 8]) {
    const model = new DialogueModel({ ...config, latentSize })
    const long = { turns: [[4, 10, 11, 12], [5], [6, 7]], tgt: [8, 9, 4] }
    const short = { turns: [[13]], tgt: [5] }
    const batch = makeDialogueBatch([long, short], special)
    assert.deepEqual(batch.utterances.shape, [6, 4]) // 2 examples × 3 turn slots, turns padded to 4 pieces
    assert.deepEqual(batch.turnMask.arraySync(), [[1, 1, 1], [1, 0, 0]])
    const out = model.forward(batch, false)
    assert.deepEqual(out.logits.shape, [2, 4, vocab])
    assert.deepEqual(out.context.shape, [2, 32])
    if (latentSize > 0) assert.deepEqual(out.kl!.shape, [2])
    const alone = makeDialogueBatch([short], special)
    const single = model.forward(alone, false)
    const batched = out.context.slice([1, 0], [1, -1]).arraySync()[0]!
    single.context.arraySync()[0]!.forEach((v, i) => close(v, batched[i]!))
    const batchedLogits = out.logits.slice([1, 0, 0], [1, 2, -1]).arraySync()[0]!
    single.logits.arraySync()[0]!.forEach((row, t) => row.forEach((v, k) => close(v, batchedLogits[t]![k]!)))
    // Whatever sits in padded pieces and padded turn slots is invisible.
    const noisy = { ...batch, utterances: tf.tidy(() => tf.where(batch.utteranceMask.equal(0), tf.fill(batch.utterances.shape, 14, 'int32'), batch.utterances)) as tf.Tensor2D }
    const noisyOut = model.forward(noisy, false)
    const a = out.logits.arraySync()
    noisyOut.logits.arraySync().forEach((example, b) => example.forEach((row, t) => row.forEach((v, k) => close(v, a[b]![t]![k]!))))
    noisy.utterances.dispose()
    for (const result of [out, single, noisyOut]) tf.dispose([result.logits, result.context, ...(result.kl ? [result.kl] : []), ...(result.posteriorMean ? [result.posteriorMean] : [])])
    disposeDialogueBatch(batch)
    disposeDialogueBatch(alone)
    model.dispose()
  }
})

/** Three turns: a key, a filler, a filler; the reply repeats the key (two turns before the last one). */
function twoBackDialogues(random: Random, count: number): { turns: number[][]; tgt: number[] }[] {
  const pick = (from: number[]) => from[random.integer(from.length)]!
  return Array.from({ length: count }, () => {
    const key = pick(keys)
    return { turns: [[key, pick(fillers)], [pick(fillers), pick(fillers)], [pick(fillers)]], tgt: [key] }
  })
}

async function trainTwoBack(model: DialogueModel, maxContext: number, steps: number, options: { annealSteps?: number; wordDrop?: number; freeBits?: number; bowWeight?: number } = {}) {
  const optimizer = tf.train.adam(1e-2)
  const random = new Random(11)
  const history: { reconstruction: number; kl: number; bagOfWords: number }[] = []
  for (let step = 0; step < steps; step++) {
    const examples = twoBackDialogues(random, 32).map((e) => ({ ...e, turns: e.turns.slice(-maxContext) }))
    const batch = makeDialogueBatch(examples, special)
    const epsilon = model.config.latentSize > 0 ? (tf.randomNormal([32, model.config.latentSize], 0, 1, 'float32', step) as tf.Tensor2D) : undefined
    const weight = options.annealSteps ? klWeight({ kind: 'linear', steps: options.annealSteps }, step) : 1
    let parts = { reconstruction: 0, kl: 0, bagOfWords: 0 }
    await optimizerStep(
      optimizer,
      () =>
        tf.tidy(() => {
          const losses = model.losses(batch, true, weight, { epsilon, wordDrop: options.wordDrop, unk, freeBits: options.freeBits, bowWeight: options.bowWeight })
          parts = { reconstruction: losses.reconstruction.dataSync()[0]!, kl: losses.kl.dataSync()[0]!, bagOfWords: losses.bagOfWords.dataSync()[0]! }
          return losses.total
        }),
      model.params.list(),
      5,
    )
    history.push(parts)
    epsilon?.dispose()
    disposeDialogueBatch(batch)
  }
  optimizer.dispose()
  return history
}

async function replyAccuracy(model: DialogueModel, maxContext: number): Promise<number> {
  const examples = twoBackDialogues(new Random(99), 60).map((e) => ({ ...e, turns: e.turns.slice(-maxContext) }))
  const { src, srcMask, turnLength } = contextTensors(examples.map((e) => e.turns), special.pad)
  const decoded = await greedyDecode(new DialogueStepDecoder(model, turnLength), src, srcMask, { ...special, maxLength: 4 })
  tf.dispose([src, srcMask])
  return decoded.filter((h, i) => h.tokens.length === 1 && h.tokens[0] === examples[i]!.tgt[0]).length / examples.length
}

test('a reply that depends on the turn two steps back: HRED over three turns solves it, a single-turn model cannot', async () => {
  await selectBackend('wasm')
  const hred = new DialogueModel(config)
  await trainTwoBack(hred, 3, 150)
  const singleTurn = new DialogueModel(config)
  await trainTwoBack(singleTurn, 1, 150)
  const hredAccuracy = await replyAccuracy(hred, 3)
  const singleAccuracy = await replyAccuracy(singleTurn, 1)
  assert.ok(hredAccuracy > 0.9, `HRED accuracy ${hredAccuracy}`)
  assert.ok(singleAccuracy < 0.4, `single-turn accuracy ${singleAccuracy} (chance: 1/${keys.length})`)
  hred.dispose()
  singleTurn.dispose()
})

test('VHRED: the KL term is positive under linear annealing, logged apart from the reconstruction loss; resampling z changes replies; search leaks nothing', async () => {
  await selectBackend('wasm')
  const model = new DialogueModel({ ...config, latentSize: 8 })
  const history = await trainTwoBack(model, 3, 120, { annealSteps: 60, wordDrop: 0.25 })
  const first = history.slice(0, 10)
  const last = history.slice(-10)
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  assert.ok(mean(last.map((h) => h.reconstruction)) < mean(first.map((h) => h.reconstruction)) / 2, 'the reconstruction loss falls')
  assert.ok(last.every((h) => h.kl > 0), `KL stays above 0: ${last.map((h) => h.kl.toFixed(3))}`)
  assert.ok(history.every((h) => Number.isFinite(h.kl) && h.kl >= 0))

  // Different prior samples give different conditioning; a fixed seed gives the same one.
  const { src, srcMask, turnLength } = contextTensors([[[4, 10], [11, 12], [13]]], special.pad)
  const conditionOf = (seed: number) => {
    const decoder = new DialogueStepDecoder(model, turnLength, seed)
    const state = decoder.start(src, srcMask)
    const values = state.condition.arraySync()[0]!
    decoder.dispose(state)
    return values
  }
  assert.deepEqual(conditionOf(1), conditionOf(1))
  assert.notDeepEqual(conditionOf(1), conditionOf(2))
  const before = tf.memory().numTensors
  for (let seed = 0; seed < 20; seed++) {
    await greedyDecode(new DialogueStepDecoder(model, turnLength, seed), src, srcMask, { ...special, maxLength: 5 })
    await beamSearch(new DialogueStepDecoder(model, turnLength, seed), src, srcMask, { ...special, beamSize: 3, nBest: 2, lengthPenalty: 0.6, maxLength: 5 })
  }
  assert.equal(tf.memory().numTensors, before, 'decoding leaks no tensors')
  tf.dispose([src, srcMask])
  model.dispose()
})

test('the dialogue rewards of Li et al. 2016: dull replies, information flow, per-token log-probabilities', async () => {
  assert.ok(isDull("I don't know."))
  assert.ok(isDull("i don't know what you are talking about, sir"), 'starts with a dull reply')
  assert.ok(isDull('   ...'), 'nothing said is dull')
  assert.ok(!isDull('I know the way to the harbour.'))
  assert.equal(dullRate(["I don't know.", 'Fetch the rope.', '', 'You know what I mean!']), 0.75)
  assert.equal(informationFlow(1), -0)
  assert.ok(Math.abs(informationFlow(0.5) - Math.log(2)) < 1e-12)
  assert.equal(informationFlow(-0.3), -Math.log(minimumCosine), 'a cosine at or below the floor is clipped')
  assert.equal(dialogueReward({ easeOfAnswering: 4, informationFlow: 2, coherence: -2 }), 0.25 * 4 + 0.25 * 2 - 0.5 * 2)
  // Two rows over a vocabulary of 3: row 0's targets [2, 0], row 1's [1] and padding.
  const logits = tf.tensor3d([[[1, 2, 3], [0.5, 0, -1]], [[2, 0, 1], [9, 9, 9]]])
  const targets = tf.tensor1d([2, 0, 1, 0], 'int32')
  const mask = tf.tensor1d([1, 1, 1, 0])
  const values = await meanTokenLogProbs(logits, targets, mask).array()
  const logSoftmax = (row: number[], k: number) => row[k]! - Math.log(row.reduce((s, v) => s + Math.exp(v), 0))
  assert.ok(Math.abs(values[0]! - (logSoftmax([1, 2, 3], 2) + logSoftmax([0.5, 0, -1], 0)) / 2) < 1e-5)
  assert.ok(Math.abs(values[1]! - logSoftmax([2, 0, 1], 1)) < 1e-5)
  const cosines = await rowCosines(tf.tensor2d([[1, 0], [1, 1]]), tf.tensor2d([[0, 2], [2, 2]])).array()
  assert.ok(Math.abs(cosines[0]!) < 1e-6 && Math.abs(cosines[1]! - 1) < 1e-6)
  tf.dispose([logits, targets, mask])
})
