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
import { tempDir } from './helpers.ts'

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
  await assert.rejects(engine.handle('runs.create', { name: 'bad', model: 'hred', corpus: 'talk', tokenizer: 'talk-bpe', dialogue: { latentSize: 8 } }), /hred has no latent variable/)
})
