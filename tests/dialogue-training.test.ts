// HRED and VHRED runs through the engine on a real SQLite file: a dialogue corpus imported from JSONL, a tokenizer
// trained here, runs trained by the job, metrics (perplexity, KL and its weight, active units, F1, distinct-n)
// and samples stored per validation; translate refuses dialogue runs.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Result } from '../main/api/contract.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { Random } from '../models/core/random.ts'
import { runCli, tempDir } from './helpers.ts'

const dir = tempDir({ after })
let engine: Engine

const keys = ['apple', 'banana', 'cherry', 'grape', 'lemon', 'mango']
const fillers = ['yes', 'no', 'maybe', 'well', 'so', 'then', 'indeed', 'perhaps']

/** Dialogues whose last turn repeats the first turn's fruit: the answer lies two turns back. */
function dialogues(count: number, seed: number): string[][] {
  const random = new Random(seed)
  const pick = (words: string[]) => words[random.integer(words.length)]!
  return Array.from({ length: count }, () => {
    const key = pick(keys)
    return [`${key} ${pick(fillers)}`, `${pick(fillers)} ${pick(fillers)}`, pick(fillers), key]
  })
}

async function waitJob(jobId: string) {
  const job = await engine.jobs.wait(jobId)
  assert.equal(job.status, 'done', job.error ?? '')
}

before(async () => {
  engine = await Engine.open({ dbPath: join(dir, 'kotoba.db'), loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
  const file = join(dir, 'talk.jsonl')
  writeFileSync(file, `${dialogues(500, 3).map((d) => JSON.stringify(d)).join('\n')}\n`)
  await waitJob(((await engine.handle('corpus.import', { name: 'talk', files: [file] })) as { jobId: string }).jobId)
  await engine.handle('corpus.split', { name: 'talk', dev: 30, test: 30, seed: 2 })
  await waitJob(((await engine.handle('tokenizer.train', { corpus: 'talk', name: 'talk-bpe', type: 'bpe', vocabSize: 60 })) as { jobId: string }).jobId)
})

after(async () => {
  await engine?.close()
})

const training = { maxSteps: 120, logEvery: 20, validEvery: 60, checkpointEvery: 60, validSentences: 40 }

test('an HRED run trains on a dialogue corpus: dev perplexity falls, F1/distinct-n/length and samples are stored', async () => {
  await engine.handle('runs.create', { name: 'hred', model: 'hred', preset: 'tiny', corpus: 'talk', tokenizer: 'talk-bpe', training })
  await waitJob(((await engine.handle('runs.start', { name: 'hred' })) as { jobId: string }).jobId)
  const run = (await engine.handle('runs.show', { name: 'hred' })) as Result<'runs.show'>
  assert.equal(run.status, 'done')
  assert.equal(run.config.dialogue!.latentSize, 0)
  const { series } = (await engine.handle('runs.metrics', { name: 'hred' })) as Result<'runs.metrics'>
  for (const metric of ['train/loss', 'train/recon', 'dev/loss', 'dev/ppl', 'dev/bleu', 'dev/f1', 'dev/distinct1', 'dev/distinct2', 'dev/intra_distinct2', 'dev/length']) {
    assert.ok(series[metric]?.length, `${metric} recorded`)
  }
  assert.equal(series['dev/kl'], undefined)
  const devLoss = series['dev/loss']!.map((p) => p.value)
  assert.ok(devLoss[1]! < devLoss[0]!, `dev loss falls: ${devLoss}`)
  const trainLoss = series['train/loss']!.map((p) => p.value)
  assert.ok(trainLoss.at(-1)! < trainLoss[0]! * 0.7, `train loss falls: ${trainLoss}`)
  for (const metric of ['dev/distinct1', 'dev/distinct2']) assert.ok(series[metric]!.every((p) => p.value >= 0 && p.value <= 1))
  const samples = (await engine.handle('runs.samples', { name: 'hred' })) as Result<'runs.samples'>
  assert.equal(samples.samples.length, 10)
  assert.ok(samples.samples.some((s) => s.source.split(' ⏎ ').length === 3), 'samples show their context turns')
  await assert.rejects(engine.handle('translate', { run: 'hred', lines: ['apple yes'] }), /dialogue model: chat with it/)
  // kotoba eval on the test split: 30 dialogues × 3 responses each.
  const evaluation = (await engine.handle('eval', { run: 'hred', split: 'test', search: 'greedy' })) as Result<'eval'>
  assert.equal(evaluation.sentences, 90)
  assert.deepEqual(evaluation.scores.map((s) => s.metric), ['bleu', 'chrf', 'ter', 'f1', 'distinct1', 'distinct2', 'intra_distinct1', 'intra_distinct2', 'length', 'dull_rate'])
  assert.ok(Number.isFinite(evaluation.perplexity) && evaluation.perplexity > 1)
  const beam = (await engine.handle('eval', { run: 'hred', split: 'test', beamSize: 3, limit: 5 })) as Result<'eval'>
  assert.equal(beam.sentences, 5)

  // A stored conversation seeded with corpus turns; each reply shows the context state per turn.
  const seeded = (await engine.handle('chat.create', { run: 'hred', seed: ['cherry yes', 'no maybe'] })) as Result<'chat.create'>
  assert.deepEqual(seeded.history.map((t) => t.role), ['user', 'model'])
  const chat = (await engine.handle('chat.say', { id: seeded.id, text: 'well', search: 'greedy' })) as Result<'chat.say'>
  assert.deepEqual(chat.history.map((t) => t.role), ['user', 'model', 'user', 'model'])
  const insight = chat.history[3]!.meta['insight'] as Result<'chat.reply'>['insight']
  assert.equal(insight.context.length, 3)
  assert.equal(insight.context[0]!.similarity, null)
  assert.ok(insight.context.every((c) => c.norm > 0))
  assert.equal(insight.latent, null)
  const exported = (await engine.handle('chat.export', { id: seeded.id })) as Result<'chat.export'>
  assert.deepEqual(JSON.parse(exported.jsonl), chat.history.map((t) => t.text))
  const distinct = (await engine.handle('chat.distinct', { id: seeded.id })) as Result<'chat.distinct'>
  assert.equal(distinct.replies, 2)
  assert.ok(distinct.distinct1.inter > 0 && distinct.distinct1.inter <= 1)
  assert.deepEqual(((await engine.handle('chat.list', { run: 'hred' })) as Result<'chat.list'>).map((c) => c.turns), [4])
  assert.deepEqual(await engine.handle('chat.delete', { id: seeded.id }), { deleted: true })
  await assert.rejects(engine.handle('chat.show', { id: seeded.id }), /no conversation with id/)

  // Int8 quantisation applies to dialogue models too: the same scores within rounding, and it chats.
  const quantized = (await engine.handle('runs.quantize', { name: 'hred' })) as Result<'runs.quantize'>
  assert.ok(quantized.bytes < 0.35 * quantized.floatBytes)
  const int8 = (await engine.handle('eval', { run: 'hred-int8', split: 'test', search: 'greedy' })) as Result<'eval'>
  assert.ok(Math.abs(int8.perplexity! / evaluation.perplexity! - 1) < 0.02, `perplexity ${int8.perplexity} vs ${evaluation.perplexity}`)
  const f1 = (e: Result<'eval'>) => e.scores.find((s) => s.metric === 'f1')!.score
  assert.ok(Math.abs(f1(int8) - f1(evaluation)) <= 2, `F1 ${f1(int8)} vs ${f1(evaluation)}`)
  const reply = (await engine.handle('chat.reply', { run: 'hred-int8', turns: ['cherry yes', 'no maybe'], search: 'greedy' })) as Result<'chat.reply'>
  assert.ok(reply.replies[0]!.text.length > 0)
})

test('a VHRED run logs reconstruction and KL apart, the annealed KL weight, KL > 0 and active latent units', async () => {
  await engine.handle('runs.create', { name: 'vhred', model: 'vhred', preset: 'tiny', corpus: 'talk', tokenizer: 'talk-bpe', dialogue: { klAnnealing: { kind: 'linear', steps: 60 } }, training })
  await waitJob(((await engine.handle('runs.start', { name: 'vhred' })) as { jobId: string }).jobId)
  const { series } = (await engine.handle('runs.metrics', { name: 'vhred' })) as Result<'runs.metrics'>
  const weights = series['train/kl_weight']!.map((p) => p.value)
  // Each point is the mean weight over its 20 updates: (1 + … + 20) / 20 / 60 for the first.
  assert.ok(Math.abs(weights[0]! - 10.5 / 60) < 1e-9 && weights.at(-1) === 1, `KL weight anneals linearly: ${weights}`)
  assert.ok(series['train/kl']!.every((p) => p.value > 0), 'KL stays above 0')
  assert.ok(series['train/recon']!.length === series['train/loss']!.length)
  assert.ok(series['dev/kl']!.every((p) => p.value > 0))
  assert.ok(series['dev/active_units']!.at(-1)!.value >= 1, `active units ${series['dev/active_units']!.map((p) => p.value)}`)
  // Resampling z: another seed gives another latent sample; the same seed the same reply.
  const turns = ['mango so', 'yes no', 'then']
  const first = (await engine.handle('chat.reply', { run: 'vhred', turns, search: 'greedy', latentSeed: 1 })) as Result<'chat.reply'>
  const again = (await engine.handle('chat.reply', { run: 'vhred', turns, search: 'greedy', latentSeed: 1 })) as Result<'chat.reply'>
  const other = (await engine.handle('chat.reply', { run: 'vhred', turns, search: 'greedy', latentSeed: 2 })) as Result<'chat.reply'>
  assert.deepEqual(again.replies, first.replies)
  assert.equal(first.insight.latent!.seed, 1)
  assert.equal(first.insight.latent!.z.length, 16)
  assert.ok(first.insight.latent!.kl >= 0)
  assert.notDeepEqual(other.insight.latent!.z, first.insight.latent!.z)
  const chat = (await engine.handle('chat.create', { run: 'vhred', seed: turns.slice(0, 2) })) as Result<'chat.create'>
  const said = (await engine.handle('chat.say', { id: chat.id, text: 'then', search: 'greedy' })) as Result<'chat.say'>
  const resampled = (await engine.handle('chat.resample', { id: chat.id, search: 'greedy', latentSeed: 7 })) as Result<'chat.resample'>
  assert.equal(resampled.history.length, said.history.length)
  assert.equal(((resampled.history.at(-1)!.meta['insight'] as Result<'chat.reply'>['insight']).latent!.seed), 7)

  // Self-chat: the VHRED and the HRED run take turns from an opening line; every reply is stored with its speaker, and
  // each is the reply that speaker gives to everything said before it.
  const selfChat = (await engine.handle('chat.selfChat', { run: 'vhred', partner: 'hred', opening: ['mango so'], turns: 5, search: 'sample', temperature: 1, seed: 40 })) as Result<'chat.selfChat'>
  assert.equal(selfChat.title, 'Self-chat: vhred × hred')
  assert.deepEqual(selfChat.history.map((t) => [t.role, t.meta['speaker'] ?? null, t.meta['run'] ?? null]), [
    ['user', null, null],
    ['model', 'A', 'vhred'],
    ['model', 'B', 'hred'],
    ['model', 'A', 'vhred'],
    ['model', 'B', 'hred'],
    ['model', 'A', 'vhred'],
  ])
  const stored = (await engine.handle('chat.show', { id: selfChat.id })) as Result<'chat.show'>
  assert.deepEqual(stored.history, selfChat.history, 'both sides are stored')
  const replayed = (await engine.handle('chat.reply', { run: 'hred', turns: selfChat.history.slice(0, 4).map((t) => t.text), search: 'sample', temperature: 1, seed: 43 })) as Result<'chat.reply'>
  assert.equal(replayed.replies[0]!.text, selfChat.history[4]!.text, "B's second reply is hred's reply to the four turns before it, with the fourth reply's seed")
  await assert.rejects(engine.handle('chat.selfChat', { run: 'vhred', partner: 'pairs-missing', opening: ['x'] }), /no run named 'pairs-missing'/)

  const cli = runCli(['--db', join(dir, 'kotoba.db'), 'chat', '--run', 'hred', '--self-chat', '3', '--opening', 'cherry yes', '--opening', 'no maybe', '--sample', '--seed', '5'])
  assert.equal(cli.status, 0, cli.stderr)
  const lines = cli.stdout.trim().split('\n')
  assert.equal(lines.length, 5)
  assert.deepEqual(lines.slice(0, 2), ['opening: cherry yes', 'opening: no maybe'])
  assert.deepEqual(lines.slice(2).map((line) => line.split(':')[0]), ['A (hred)', 'B (hred)', 'A (hred)'])
  const noOpening = runCli(['--db', join(dir, 'kotoba.db'), 'chat', '--run', 'hred', '--self-chat', '3'])
  assert.equal(noOpening.status, 2)
  assert.match(noOpening.stderr + noOpening.stdout, /--self-chat needs at least one --opening turn/)
  // `--no-repeat-ngram` reaches the engine (commander reads a `--no-` flag as a negation): 11 is over its limit of 10.
  const overLimit = runCli(['--db', join(dir, 'kotoba.db'), 'eval', '--run', 'hred', '--greedy', '--limit', '4', '--no-repeat-ngram', '11'])
  assert.notEqual(overLimit.status, 0)
  assert.match(overLimit.stderr + overLimit.stdout, /noRepeatNgram.*10|10.*noRepeatNgram/s)
  const blocked = runCli(['--db', join(dir, 'kotoba.db'), '--json', 'eval', '--run', 'hred', '--greedy', '--limit', '4', '--no-repeat-ngram', '2'])
  assert.equal(blocked.status, 0, blocked.stderr)
  // VHRED against HRED on the same replies' references: the dialogue metrics compared by paired bootstrap.
  const compared = runCli(['--db', join(dir, 'kotoba.db'), 'eval', '--run', 'vhred', '--against', 'hred', '--greedy', '--limit', '12', '--resamples', '100'])
  assert.equal(compared.status, 0, compared.stderr)
  assert.match(compared.stdout, /against hred, checkpoint \d+: paired bootstrap, 100 resamples \(difference = vhred − hred\)/)
  for (const metric of ['BLEU', 'F1', 'DISTINCT2', 'LENGTH']) assert.match(compared.stdout, new RegExp(`^${metric} +[\\d.]+ +[\\d.]+ +[+-][\\d.]+ +\\[[+-][\\d.]+, [+-][\\d.]+\\] +[\\d.]+ *$`, 'm'))
  await assert.rejects(engine.handle('runs.create', { name: 'bad', model: 'hred', corpus: 'talk', tokenizer: 'talk-bpe', dialogue: { latentSize: 8 } }), /hred has no latent variable/)
})

test('a seq2seq run on a dialogue corpus is the single-turn baseline: (previous turn → next turn) pairs, scored like HRED', async () => {
  await assert.rejects(
    engine.handle('runs.create', { name: 'bad-tgt', model: 'seq2seq', corpus: 'talk', tokenizer: 'talk-bpe', tgtTokenizer: 'other' }),
    /one tokenizer for both sides/,
  )
  const created = (await engine.handle('runs.create', { name: 'pairs', model: 'seq2seq', preset: 'tiny', corpus: 'talk', tokenizer: 'talk-bpe', training })) as Result<'runs.create'>
  assert.equal(created.config.training.bestMetric, 'dev/loss', 'dialogue-corpus defaults apply')
  await waitJob(((await engine.handle('runs.start', { name: 'pairs' })) as { jobId: string }).jobId)
  const { series } = (await engine.handle('runs.metrics', { name: 'pairs' })) as Result<'runs.metrics'>
  for (const metric of ['dev/f1', 'dev/distinct1', 'dev/distinct2', 'dev/length']) assert.ok(series[metric]?.length, `${metric} recorded`)
  const trainLoss = series['train/loss']!.map((p) => p.value)
  assert.ok(trainLoss.at(-1)! < trainLoss[0]! * 0.7, `train loss falls: ${trainLoss}`)
  const samples = (await engine.handle('runs.samples', { name: 'pairs' })) as Result<'runs.samples'>
  // Each source is the one turn before the reference: the first dev dialogue's first two turns.
  assert.equal(samples.samples[0]!.source.split(' ').length, 2)
  // The same 90 test responses as the HRED evaluation, with the same metrics.
  const evaluation = (await engine.handle('eval', { run: 'pairs', split: 'test', search: 'greedy' })) as Result<'eval'>
  assert.equal(evaluation.sentences, 90)
  assert.deepEqual(evaluation.scores.map((s) => s.metric), ['bleu', 'chrf', 'ter', 'f1', 'distinct1', 'distinct2', 'intra_distinct1', 'intra_distinct2', 'length', 'dull_rate'])

  // Its source embeddings as an embedding set for the projector: one 64-dimensional vector per piece.
  const embeddings = (await engine.handle('w2v.fromRun', { name: 'pairs-source', run: 'pairs', side: 'source' })) as Result<'w2v.fromRun'>
  assert.deepEqual([embeddings.vocab, embeddings.dim, embeddings.source], [60, 64, 'imported'])
  assert.match(embeddings.method, /^source embeddings of pairs \(step \d+\)$/)
  const { words } = (await engine.handle('w2v.vectors', { name: 'pairs-source' })) as Result<'w2v.vectors'>
  assert.equal(words.length, 60)
  const near = (await engine.handle('w2v.neighbors', { name: 'pairs-source', word: words[10]!, k: 3 })) as Result<'w2v.neighbors'>
  assert.equal(near.neighbours.length, 3)
  await assert.rejects(engine.handle('w2v.fromRun', { name: 'nope', run: 'missing' }), /no translation or dialogue run named 'missing'/)
})

test('REINFORCE with the dialogue rewards (Li et al. 2016): an HRED phase from its checkpoint logs the rewards and raises them; refusals across kinds', async () => {
  const { run, jobId } = (await engine.handle('runs.finetune', { name: 'hred', steps: 40, reinforcement: { weight: 1 } })) as Result<'runs.finetune'>
  assert.equal(run.name, 'hred-reinforce')
  await waitJob(jobId!)
  const detail = (await engine.handle('runs.show', { name: 'hred-reinforce' })) as Result<'runs.show'>
  assert.deepEqual(detail.config.reinforcement, { algorithm: 'reinforce', reward: 'dialogue', weight: 1, temperature: 1 })
  const { series } = (await engine.handle('runs.metrics', { name: 'hred-reinforce' })) as Result<'runs.metrics'>
  for (const metric of ['rl/reward', 'rl/baseline', 'rl/advantage', 'rl/ease_of_answering', 'rl/information_flow', 'rl/coherence', 'rl/sample_length']) {
    assert.equal(series[metric]?.length, 2, `${metric} every 20 updates`)
    assert.ok(series[metric]!.every((p) => Number.isFinite(p.value)), metric)
  }
  // Each logged reward is the paper's mix of its logged parts (means of a linear function).
  for (const [i, point] of series['rl/reward']!.entries()) {
    const mix = 0.25 * series['rl/ease_of_answering']![i]!.value + 0.25 * series['rl/information_flow']![i]!.value + 0.5 * series['rl/coherence']![i]!.value
    assert.ok(Math.abs(point.value - mix) < 1e-6, `${point.value} vs ${mix}`)
  }
  const reward = series['rl/reward']!.map((p) => p.value)
  assert.ok(reward.at(-1)! > reward[0]!, `the sampled replies' reward rose: ${reward.map((r) => r.toFixed(3)).join(' → ')}`)
  // The dull-reply rate is part of every dialogue evaluation.
  const evaluation = (await engine.handle('eval', { run: 'hred-reinforce', split: 'test', search: 'greedy', limit: 20 })) as Result<'eval'>
  const dull = evaluation.scores.find((s) => s.metric === 'dull_rate')!
  assert.ok(dull.score >= 0 && dull.score <= 1)

  await assert.rejects(engine.handle('runs.finetune', { name: 'hred', into: 'x', reinforcement: { algorithm: 'scst' } }), /dialogue model: it learns by REINFORCE from the dialogue rewards/)
  await assert.rejects(engine.handle('runs.finetune', { name: 'pairs', into: 'y', reinforcement: { reward: 'dialogue' } }), /translation model: it learns by self-critical training/)
})
