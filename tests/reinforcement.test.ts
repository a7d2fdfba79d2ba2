// Reinforcement learning on top of supervised training. REINFORCE (Williams 1992) on a tiny categorical policy against
// its analytic gradient; the rewards (sentence BLEU/chrF as sacreBLEU's sentence_* give them); self-critical sequence
// training (Rennie et al. 2017) of a real run: a poorly trained reverser whose reward rises, with a cross-entropy
// control, from the engine API and from `kotoba train --from R --rl scst`.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import type { BackendName, RunDetail } from '../main/api/contract.ts'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import type { RunTokenizer } from '../main/engine/training/data.ts'
import { SelfCriticalTrainer } from '../main/engine/training/self-critical.ts'
import { Random } from '../models/core/random.ts'
import { corpusBleu, sentenceBleu } from '../models/metrics/bleu.ts'
import { corpusChrf, sentenceChrf } from '../models/metrics/chrf.ts'
import { policyGradientLoss } from '../models/rl/policy-gradient.ts'
import { sentenceReward } from '../models/rl/rewards.ts'
import { centredAdvantages, mixedObjective, rolloutWeights, selfCriticalAdvantages } from '../models/rl/self-critical.ts'
import { Adam } from '../models/train/adam.ts'
import { trainUpdate } from '../models/train/train-step.ts'
import { createTranslationModel } from '../models/translation/model.ts'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'
import { importReversalCorpus, waitForJob } from './support/reversal-corpus.ts'

test('sentence BLEU uses the effective order and exp smoothing (sacreBLEU sentence_bleu); sentence chrF is a corpus of one', () => {
  // 3 words against 6: every 1-3-gram matches, no 4-grams exist. The effective order scores on orders 1-3:
  // precisions 100/100/100, brevity penalty e^(1 − 6/3).
  assert.ok(Math.abs(sentenceBleu('the cat sat', 'the cat sat on the mat') - 100 * Math.exp(-1)) < 1e-9)
  assert.equal(corpusBleu(['the cat sat'], [['the cat sat on the mat']]).score, 0, 'corpus BLEU keeps order 4 and gives 0')
  // Unigrams 3/3, bigrams 1/2 ('the mat'), trigrams 0/1, smoothed to 100/(2·1): the 'exp' method halves each miss.
  const hyp = 'the mat sat'
  const ref = 'the cat sat on the mat'
  const expected = Math.exp(1 - 6 / 3) * Math.exp((Math.log(100) + Math.log(50) + Math.log(100 / 2)) / 3)
  assert.ok(Math.abs(sentenceBleu(hyp, ref) - expected) < 1e-9, `${sentenceBleu(hyp, ref)} vs ${expected}`)
  assert.equal(sentenceBleu('', ref), 0)
  assert.equal(sentenceChrf('a b c d', 'a b x d'), corpusChrf(['a b c d'], [['a b x d']]).score)
  assert.equal(sentenceReward('chrf', ref, ref), 1)
  assert.ok(Math.abs(sentenceReward('bleu', ref, ref) - 1) < 1e-12)
  assert.ok(sentenceReward('chrf', hyp, ref) > 0 && sentenceReward('chrf', hyp, ref) < 1)
})

for (const backend of ['cpu', 'wasm'] as BackendName[]) {
  test(`REINFORCE on a tiny categorical policy equals the analytic policy gradient (${backend})`, async () => {
    await selectBackend(backend)
    // J(θ) = Σₐ π(a) r(a) with π = softmax(θ): ∂J/∂θₖ = πₖ (r(k) − J).
    const theta = tf.variable(tf.tensor1d([0.3, -0.2, 0.9, 0.1]))
    const rewards = [1, 0.2, -0.5, 0.4]
    const probs = Array.from(await tf.softmax(theta).data())
    const expectedReturn = probs.reduce((sum, p, a) => sum + p * rewards[a]!, 0)
    const analytic = probs.map((p, k) => p * (rewards[k]! - expectedReturn))

    // The policy-gradient loss over every action, each weighted by its probability and advantage (the expectation
    // enumerated): −∇L must be ∇J, whatever the baseline (it only changes the variance of sampled estimates).
    for (const baseline of [0, expectedReturn, 0.7]) {
      const weights = tf.tensor1d(probs.map((p, a) => p * (rewards[a]! - baseline)))
      const actions = tf.tensor1d([0, 1, 2, 3], 'int32')
      const { grads, value } = tf.variableGrads(() => policyGradientLoss(theta.expandDims(0).tile([4, 1]) as tf.Tensor2D, actions, weights), [theta])
      const gradient = Array.from(await grads[theta.name]!.data())
      gradient.forEach((g, k) => assert.ok(Math.abs(-g - analytic[k]!) < 1e-6, `baseline ${baseline}, θ${k}: ${-g} vs ${analytic[k]}`))
      tf.dispose([weights, actions, value, ...Object.values(grads)])
    }

    // Sampled (Monte Carlo) REINFORCE with the mean-reward baseline approaches it.
    const random = new Random(5)
    const samples = 20000
    const drawn = Array.from({ length: samples }, () => {
      let u = random.next()
      for (let a = 0; a < 4; a++) if ((u -= probs[a]!) <= 0) return a
      return 3
    })
    const meanReward = drawn.reduce((sum, a) => sum + rewards[a]!, 0) / samples
    const actions = tf.tensor1d(drawn, 'int32')
    const weights = tf.tensor1d(drawn.map((a) => (rewards[a]! - meanReward) / samples))
    const { grads, value } = tf.variableGrads(() => policyGradientLoss(theta.expandDims(0).tile([samples, 1]) as tf.Tensor2D, actions, weights), [theta])
    const estimate = Array.from(await grads[theta.name]!.data()).map((g) => -g)
    estimate.forEach((g, k) => assert.ok(Math.abs(g - analytic[k]!) < 0.01, `sampled θ${k}: ${g} vs ${analytic[k]}`))
    tf.dispose([theta, actions, weights, value, ...Object.values(grads)])
  })
}

test('self-critical advantages and per-action weights: EOS is an action only when it was sampled; padding weighs nothing', () => {
  assert.deepEqual(selfCriticalAdvantages([0.5, 0.2], [0.3, 0.4]).map((a) => Number(a.toFixed(6))), [0.2, -0.2])
  assert.throws(() => selfCriticalAdvantages([1], [1, 2]), /1 sample rewards for 2 baselines/)
  // Centred: samples that all trail their greedy outputs still split into better and worse than the batch's usual.
  assert.deepEqual(centredAdvantages([-1.2, -0.8, -1.0]).map((a) => Number(a.toFixed(6))), [-0.2, 0.2, 0])
  const rollouts = [
    { tokens: [5, 6], finished: true }, // 3 actions: 5, 6, EOS
    { tokens: [7, 8, 9], finished: false }, // 3 actions, cut by the length limit
    { tokens: [], finished: true }, // 1 action: EOS at once
  ]
  const weights = rolloutWeights(rollouts, [0.7, -0.7, 1.4], 4)
  const actions = 7
  const expected = [0.7, 0.7, 0.7, 0, -0.7, -0.7, -0.7, 0, 1.4, 0, 0, 0].map((a) => a / actions)
  assert.deepEqual([...weights].map((w) => Number(w.toFixed(6))), expected.map((w) => Number(w.toFixed(6))))
  assert.throws(() => rolloutWeights([{ tokens: [1, 2, 3, 4], finished: true }], [1], 4), /5 actions does not fit 4 positions/)
})

test('the mixed objective is γ·L_rl + (1 − γ)·L_ml', async () => {
  const policy = tf.scalar(-0.2)
  const crossEntropy = tf.scalar(1.5)
  for (const [gamma, expected] of [
    [1, -0.2],
    [0.9, 0.9 * -0.2 + 0.1 * 1.5],
    [0, 1.5],
  ] as const) {
    const mixed = mixedObjective(policy, crossEntropy, gamma)
    assert.ok(Math.abs((await mixed.data())[0]! - expected) < 1e-6)
    mixed.dispose()
  }
  tf.dispose([policy, crossEntropy])
})

test('self-critical updates (rollouts, rewards, loss, gradients) leak no tensors (wasm)', async () => {
  await selectBackend('wasm')
  const vocab = 10
  const model = createTranslationModel({ kind: 'seq2seq', seq2seq: { embeddingSize: 8, hiddenSize: 12, cell: 'gru', encoderLayers: 1, decoderLayers: 1, bidirectional: true, attention: 'bahdanau', inputFeeding: false, dropout: 0.1 } }, { src: vocab, tgt: vocab }, 3)
  const letters = ' abcdefg'
  const tokenizer: RunTokenizer = {
    name: 'toy',
    vocabSize: vocab,
    pieces: ['<pad>', '<s>', '</s>', ...letters.slice(1)],
    pad: 0,
    unk: 0,
    bos: 1,
    eos: 2,
    encode: (text) => text.split(' ').map((c) => letters.indexOf(c) + 2),
    piecesOf: (ids) => ids.map((id) => letters[id - 2] ?? '?'),
    decode: (ids) => ids.map((id) => letters[id - 2] ?? '?').join(' '),
  }
  const scst = new SelfCriticalTrainer(model, tokenizer, { algorithm: 'scst', reward: 'chrf', weight: 0.9, temperature: 1 }, 7, 0.1)
  const optimizer = new Adam({ beta1: 0.9, beta2: 0.98, epsilon: 1e-8, weightDecay: 0 })
  const random = new Random(4)
  const counts: number[] = []
  for (let step = 1; step <= 30; step++) {
    const examples = Array.from({ length: 6 }, (_, index) => {
      const src = Array.from({ length: 2 + random.integer(4) }, () => 3 + random.integer(7))
      return { index, src, tgt: [...src].reverse() }
    })
    const batch = await scst.makeBatch(examples, step, 0)
    await trainUpdate(model.params, (b: typeof batch) => scst.loss(b), [batch], optimizer, 1e-3, 1)
    scst.disposeBatch(batch)
    const extras = await scst.takeExtras()
    assert.ok(Number.isFinite(extras['rl/reward']) && Number.isFinite(extras['rl/policy_loss']) && Number.isFinite(extras['rl/cross_entropy']))
    counts.push(tf.memory().numTensors)
  }
  assert.equal(counts.at(-1), counts[4], `tensor count after step 5 vs 30: ${counts[4]} → ${counts.at(-1)}`)
  scst.dispose()
  optimizer.dispose()
  model.dispose()
})

const dir = tempDir({ after })
const dbPath = join(dir, 'kotoba.db')
let engine: Engine

const waitFor = (started: unknown) => waitForJob(engine, started)

type Series = Record<string, { step: number; value: number }[]>
const metricsOf = async (name: string) => ((await engine.handle('runs.metrics', { name })) as { series: Series }).series

before(async () => {
  engine = await Engine.open({ dbPath, loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
  await importReversalCorpus(engine, dir)
  // A poor supervised model: 60 updates of a small GRU reverser (dev chrF around 40).
  await engine.handle('runs.create', {
    name: 'rev',
    model: 'seq2seq',
    corpus: 'reverse',
    tokenizer: 'letters',
    seq2seq: { cell: 'gru', embeddingSize: 16, hiddenSize: 32, dropout: 0 },
    training: { maxSteps: 60, tokenBudget: 600, lr: 5e-3, labelSmoothing: 0, logEvery: 10, validEvery: 60, checkpointEvery: 60, validSentences: 40, probes: 1 },
  })
  await waitFor(await engine.handle('runs.start', { name: 'rev' }))
})

after(async () => {
  await engine?.close()
})

test('SCST raises the reward of a poorly trained reverser: sampled and greedy chrF climb, the parent is untouched', async () => {
  const parent = (await engine.handle('runs.show', { name: 'rev' })) as RunDetail
  const parentChrf = (await metricsOf('rev'))['dev/chrf']!.at(-1)!.value
  assert.ok(parentChrf < 60, `the supervised model is poor (dev chrF ${parentChrf})`)

  const { run, jobId } = (await engine.handle('runs.finetune', { name: 'rev', steps: 60, reinforcement: { reward: 'chrf' } })) as { run: { name: string }; jobId: string }
  assert.equal(run.name, 'rev-scst')
  assert.equal((await engine.jobs.wait(jobId)).status, 'done')
  const detail = (await engine.handle('runs.show', { name: 'rev-scst' })) as RunDetail
  assert.equal(detail.step, 120)
  assert.deepEqual(detail.config.finetunedFrom, { run: 'rev', step: 60 })
  assert.deepEqual(detail.config.reinforcement, { algorithm: 'scst', reward: 'chrf', weight: 0.9, temperature: 1 })

  const series = await metricsOf('rev-scst')
  const reward = series['rl/reward']!
  const baseline = series['rl/baseline']!
  assert.equal(reward.length, 6, 'logged every 10 updates')
  const mean = (points: { value: number }[]) => points.reduce((sum, p) => sum + p.value, 0) / points.length
  assert.ok(mean(reward.slice(-2)) > mean(reward.slice(0, 2)) + 0.1, `the sampled translations' reward rose: ${reward.map((p) => p.value.toFixed(3)).join(' → ')}`)
  assert.ok(mean(baseline.slice(-2)) > mean(baseline.slice(0, 2)) + 0.1, `so did the greedy baseline's: ${baseline.map((p) => p.value.toFixed(3)).join(' → ')}`)
  for (const metric of ['rl/advantage', 'rl/policy_loss', 'rl/cross_entropy', 'rl/sample_length']) assert.equal(series[metric]?.length, 6, metric)
  const scstChrf = series['dev/chrf']!.at(-1)!.value
  assert.ok(scstChrf > parentChrf + 15, `dev chrF ${parentChrf} → ${scstChrf}`)

  // The control: the same budget of cross-entropy steps, as a run of its own.
  const control = (await engine.handle('runs.finetune', { name: 'rev', steps: 60 })) as { run: { name: string }; jobId: string }
  assert.equal(control.run.name, 'rev-ft')
  assert.equal((await engine.jobs.wait(control.jobId)).status, 'done')
  const controlSeries = await metricsOf('rev-ft')
  assert.equal(controlSeries['rl/reward'], undefined, 'no rollouts in a cross-entropy phase')
  assert.ok(controlSeries['dev/chrf']!.at(-1)!.value > parentChrf)

  const parentAfter = (await engine.handle('runs.show', { name: 'rev' })) as RunDetail
  assert.deepEqual(parentAfter.checkpoints, parent.checkpoints)
})

test('kotoba train --from R --rl scst: a reinforced phase from the CLI, described in runs show, with clear refusals', async () => {
  const result = runCli(['--db', dbPath, '--json', 'train', '--from', 'rev', '--name', 'rev-bleu', '--rl', 'scst', '--reward', 'bleu', '--rl-weight', '0.8', '--temperature', '0.7', '--steps', '10', '--checkpoint', 'latest'])
  assert.equal(result.status, 0, result.stderr)
  const run = parseJsonOutput<RunDetail>(result)
  assert.equal(run.status, 'done')
  assert.equal(run.step, 70)
  assert.deepEqual(run.config.reinforcement, { algorithm: 'scst', reward: 'bleu', weight: 0.8, temperature: 0.7 })

  const human = runCli(['--db', dbPath, 'runs', 'show', 'rev-bleu'])
  assert.equal(human.status, 0, human.stderr)
  assert.match(human.stdout, /continues rev from step 60/)
  assert.match(human.stdout, /self-critical \(SCST\): reward sentence BLEU, baseline the greedy output's reward, policy-gradient share γ 0\.8, sampling temperature 0\.7/)

  const taken = runCli(['--db', dbPath, '--json', 'train', '--from', 'rev', '--name', 'rev-bleu', '--rl', 'scst', '--steps', '5'])
  assert.notEqual(taken.status, 0)
  assert.match(taken.stdout, /a run named 'rev-bleu' already exists/)
  const noFrom = runCli(['--db', dbPath, '--json', 'train', '--name', 'x', '--rl', 'scst'])
  assert.equal(noFrom.status, 2)
  assert.match(noFrom.stdout + noFrom.stderr, /--rl continues a trained run: give it with --from <run>/)
  const missing = runCli(['--db', dbPath, '--json', 'train', '--from', 'rev', '--name', 'y', '--rl', 'scst', '--checkpoint', '7'])
  assert.match(missing.stdout, /run 'rev' has no checkpoint at step 7 to continue from/)
})
