// The training core end to end on real parts: a corpus imported from a file, a BPE tokenizer trained here,
// a seq2seq run trained by the engine's job (SQLite metrics, checkpoints, probes), decoding and sacreBLEU-style
// scores; and a run killed with SIGKILL mid-training that resumes from its last checkpoint with the same curve.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { Random } from '../models/core/random.ts'
import type { Result } from '../main/api/contract.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { cleanEnv, cliPath, repoRoot, tempDir } from './helpers.ts'

const letters = 'abcdefgh'
const dir = tempDir({ after }) // at module level: an `after` registered inside `before` would run right after it
const dbPath = join(dir, 'kotoba.db')
let engine: Engine

/** "c a f" → "f a c": a task whose answer depends on every source token and their order. */
function reversalCorpus(path: string, pairs: number, seed: number): void {
  const random = new Random(seed)
  const lines: string[] = []
  for (let i = 0; i < pairs; i++) {
    const length = 3 + random.integer(5)
    const sequence = Array.from({ length }, () => letters[random.integer(letters.length)]!)
    lines.push(`${sequence.join(' ')}\t${[...sequence].reverse().join(' ')}`)
  }
  writeFileSync(path, `${lines.join('\n')}\n`)
}

async function waitJob(jobId: string) {
  const job = await engine.jobs.wait(jobId)
  assert.equal(job.status, 'done', job.error ?? '')
  return job
}

before(async () => {
  engine = await Engine.open({ dbPath, loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
  const file = join(dir, 'reverse.tsv')
  reversalCorpus(file, 1500, 7)
  await waitJob((await engine.handle('corpus.import', { name: 'reverse', files: [file] }) as { jobId: string }).jobId)
  await engine.handle('corpus.split', { name: 'reverse', dev: 40, test: 40, seed: 3 })
  await waitJob((await engine.handle('tokenizer.train', { corpus: 'reverse', name: 'letters', type: 'bpe', vocabSize: 50 }) as { jobId: string }).jobId)
})

after(async () => {
  await engine?.close()
})

const tinyModel = { cell: 'gru', embeddingSize: 32, hiddenSize: 64, dropout: 0 } as const

test('a seq2seq run learns to reverse sequences: metrics, checkpoints, probes and attention land in SQLite; translate and eval score it', async () => {
  const metricEvents: string[] = []
  const off = engine.on((event) => {
    if (event.event === 'run.metrics' && event.data.name === 'rev') metricEvents.push(...event.data.points.map((p) => p.metric))
  })
  await engine.handle('runs.create', {
    name: 'rev',
    model: 'seq2seq',
    corpus: 'reverse',
    tokenizer: 'letters',
    seq2seq: tinyModel,
    training: { maxSteps: 240, tokenBudget: 600, lr: 5e-3, labelSmoothing: 0, logEvery: 20, validEvery: 120, checkpointEvery: 120, validSentences: 40, probes: 2 },
  })
  const { jobId } = (await engine.handle('runs.start', { name: 'rev' })) as { jobId: string }
  await waitJob(jobId)
  off()
  // The engine keeps what the run measured on this machine's device; the Devices panel shows it.
  const { compute } = (await engine.handle('app.info', {})) as Result<'app.info'>
  assert.equal(compute.active, 'wasm')
  assert.ok(compute.device && compute.device.length > 0, 'the CPU is named')
  assert.equal(compute.lastRun?.run, 'rev')
  assert.equal(compute.lastRun?.device, compute.device)
  assert.equal(compute.lastRun?.step, 240)
  assert.ok(compute.lastRun!.tokensPerSecond > 0)
  const run = (await engine.handle('runs.show', { name: 'rev' })) as { status: string; step: number; parameters: number; checkpoints: { step: number; isBest: boolean; metrics: Record<string, number> }[] }
  assert.equal(run.status, 'done')
  assert.equal(run.step, 240)
  assert.ok(run.parameters > 10_000)
  assert.deepEqual(run.checkpoints.map((c) => c.step), [120, 240])
  assert.equal(run.checkpoints.filter((c) => c.isBest).length, 1)

  const { series, signatures } = (await engine.handle('runs.metrics', { name: 'rev' })) as { series: Record<string, { step: number; value: number }[]>; signatures: Record<string, string> }
  const loss = series['train/loss']!
  assert.deepEqual(loss.map((p) => p.step), Array.from({ length: 12 }, (_, i) => 20 * (i + 1)))
  assert.ok(loss.at(-1)!.value < loss[0]!.value / 5, `training loss fell: ${loss.map((p) => p.value.toFixed(3))}`)
  for (const name of ['train/ppl', 'train/lr', 'train/grad_norm', 'train/tokens_per_s', 'dev/loss', 'dev/ppl', 'dev/bleu', 'dev/chrf', 'dev/ter']) assert.ok(series[name]?.length, `${name} recorded`)
  assert.ok(series['dev/bleu']!.at(-1)!.value > 90, `dev BLEU ${series['dev/bleu']!.at(-1)!.value}`)
  assert.equal(signatures['dev/bleu'], 'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0')
  assert.ok(metricEvents.includes('train/loss') && metricEvents.includes('dev/bleu'), 'live metric events')

  const samples = (await engine.handle('runs.samples', { name: 'rev' })) as { steps: number[]; samples: { source: string; reference: string; hypothesis: string }[] }
  assert.deepEqual(samples.steps, [120, 240])
  assert.ok(samples.samples.length > 0 && samples.samples.filter((s) => s.hypothesis === s.reference).length >= samples.samples.length * 0.9)
  const attention = (await engine.handle('runs.attention', { name: 'rev', probe: 1 })) as Result<'runs.attention'>
  assert.deepEqual(attention.steps, [120, 240])
  assert.equal(attention.probes, 2)
  assert.deepEqual(attention.layout, [{ kind: 'cross', layers: 1, heads: 1 }])
  assert.ok(attention.map)
  assert.equal(attention.map.weights.length, attention.map.rowTokens.length)
  assert.equal(attention.map.rowTokens.at(-1), '</s>')
  for (const row of attention.map.weights) {
    assert.equal(row.length, attention.map.colTokens.length)
    assert.ok(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-3)
  }
  // The probe's reference forced through the model at both steps: the same rows, so the two can be subtracted
  // whatever each step's own hypothesis was; the reference maps are not mixed into the hypothesis steps.
  const [early, late] = await Promise.all(
    [120, 240].map(async (step) => ((await engine.handle('runs.attention', { name: 'rev', probe: 1, step, output: 'reference' })) as Result<'runs.attention'>).map!),
  )
  assert.deepEqual(early!.rowTokens, late!.rowTokens)
  assert.equal(early!.rowTokens.join(' ').replace(/▁/g, ' ').replace(/\s+/g, ' ').trim(), `${samples.samples[1]!.reference.replace(/\s+/g, ' ')} </s>`.replace(/\s+/g, ' ').trim())
  assert.deepEqual(early!.colTokens, late!.colTokens)
  assert.notDeepEqual(early!.weights, late!.weights)

  const translated = (await engine.handle('translate', { run: 'rev', lines: ['a b c d e', 'h g a'], beamSize: 4, nBest: 2 })) as {
    results: { srcPieces: string[]; hypotheses: { text: string; score: number; pieces: string[]; attention: number[][] }[] }[]
  }
  assert.deepEqual(translated.results.map((r) => r.hypotheses[0]!.text), ['e d c b a', 'a g h'])
  assert.equal(translated.results[0]!.hypotheses.length, 2)
  assert.ok(translated.results[0]!.hypotheses[0]!.score >= translated.results[0]!.hypotheses[1]!.score)
  assert.equal(translated.results[0]!.hypotheses[0]!.attention.length, translated.results[0]!.hypotheses[0]!.pieces.length)

  const evaluation = (await engine.handle('eval', { run: 'rev', split: 'test' })) as { sentences: number; scores: { metric: string; score: number; signature: string }[] }
  assert.equal(evaluation.sentences, 40)
  const bleu = evaluation.scores.find((s) => s.metric === 'bleu')!
  assert.ok(bleu.score > 90, `test BLEU ${bleu.score}`)
  assert.ok(evaluation.scores.find((s) => s.metric === 'ter')!.score < 10)
  const stored = (await engine.handle('runs.metrics', { name: 'rev', metrics: ['test/bleu'] })) as { series: Record<string, { step: number; value: number }[]> }
  assert.equal(stored.series['test/bleu']![0]!.value, bleu.score)
  // The run page lists it per checkpoint, with its signatures.
  const evaluations = (await engine.handle('runs.evaluations', { name: 'rev' })) as Result<'runs.evaluations'>
  assert.equal(evaluations.length, 1)
  assert.equal(evaluations[0]!.split, 'test')
  assert.equal(evaluations[0]!.scores.find((s) => s.metric === 'bleu')!.score, bleu.score)
  assert.match(evaluations[0]!.scores.find((s) => s.metric === 'chrf')!.signature ?? '', /nc:6\|nw:0/)

  // Checkpoint averaging of the last two (steps 120 and 240) still reverses.
  const averaged = (await engine.handle('translate', { run: 'rev', lines: ['b c d'], average: 2, search: 'greedy' })) as { checkpointStep: number; results: { hypotheses: { text: string }[] }[] }
  assert.equal(averaged.checkpointStep, 240)
  assert.equal(averaged.results[0]!.hypotheses[0]!.text, 'd c b')
  await assert.rejects(engine.handle('translate', { run: 'rev', lines: ['b'], average: 3 }), /has 2 checkpoint\(s\); averaging needs 3/)

  await assert.rejects(engine.handle('runs.start', { name: 'rev' }), /reached its 240 steps; extend it/)
  await assert.rejects(engine.handle('translate', { run: 'nope', lines: ['a'] }), /no run named 'nope'/)

  // A few lines are answered by the warm inference worker, never as a job; a file's worth (> 64 lines) is a job.
  assert.equal(engine.jobs.list().filter((j) => j.kind === 'run.translate').length, 0)
  const many = (await engine.handle('translate', { run: 'rev', lines: Array.from({ length: 65 }, () => 'a b'), search: 'greedy' })) as Result<'translate'>
  assert.equal(many.results.length, 65)
  assert.equal(engine.jobs.list().filter((j) => j.kind === 'run.translate').length, 1)
  // A pinned checkpoint is another model; the best one is still kept loaded beside it.
  const pinned = (await engine.handle('translate', { run: 'rev', lines: ['b c d'], checkpoint: 120, search: 'greedy' })) as Result<'translate'>
  assert.equal(pinned.checkpointStep, 120)
})

test('the tiny Transformer preset learns to reverse; every layer and head of encoder-self, decoder-self and cross-attention is stored for the probes', async () => {
  await engine.handle('runs.create', {
    name: 'rev-transformer',
    model: 'transformer',
    preset: 'tiny',
    corpus: 'reverse',
    tokenizer: 'letters',
    transformer: { shareEmbeddings: 'all' },
    training: { logEvery: 50, validEvery: 300, checkpointEvery: 300, validSentences: 40, probes: 2 },
  })
  await waitJob(((await engine.handle('runs.start', { name: 'rev-transformer' })) as { jobId: string }).jobId)
  const { series } = (await engine.handle('runs.metrics', { name: 'rev-transformer', metrics: ['dev/bleu'] })) as Result<'runs.metrics'>
  assert.ok(series['dev/bleu']!.at(-1)!.value > 90, `dev BLEU ${series['dev/bleu']!.map((p) => p.value)}`)

  const grid = (await engine.handle('runs.attentionGrid', { name: 'rev-transformer', probe: 1, kind: 'decoder-self' })) as Result<'runs.attentionGrid'>
  assert.deepEqual(grid.steps, [300, 600])
  assert.deepEqual(grid.layout, [
    { kind: 'encoder-self', layers: 2, heads: 4 },
    { kind: 'decoder-self', layers: 2, heads: 4 },
    { kind: 'cross', layers: 2, heads: 4 },
  ])
  assert.equal(grid.step, 600)
  assert.deepEqual(grid.maps.map((m) => `${m.layer}/${m.head}`), ['0/0', '0/1', '0/2', '0/3', '1/0', '1/1', '1/2', '1/3'])
  for (const map of grid.maps) {
    assert.equal(map.colTokens[0], '<s>')
    assert.equal(map.rowTokens.at(-1), '</s>')
    map.weights.forEach((row, query) => {
      assert.ok(Math.abs(row.reduce((a, b) => a + b) - 1) < 1e-3)
      // Causal: no weight on inputs after the query's own position.
      row.slice(query + 1).forEach((w) => assert.ok(w < 1e-6, `decoder-self layer ${map.layer} head ${map.head} looks ahead`))
    })
  }
  const encoder = (await engine.handle('runs.attentionGrid', { name: 'rev-transformer', probe: 1, kind: 'encoder-self', step: 300 })) as Result<'runs.attentionGrid'>
  assert.equal(encoder.maps.length, 8)
  for (const map of encoder.maps) assert.deepEqual(map.rowTokens, map.colTokens)

  // The single-map view: the top layer's cross-attention, mean of heads unless a head is named.
  const mean = (await engine.handle('runs.attention', { name: 'rev-transformer', probe: 1 })) as Result<'runs.attention'>
  const head2 = (await engine.handle('runs.attention', { name: 'rev-transformer', probe: 1, layer: 0, head: 2 })) as Result<'runs.attention'>
  const cross = (await engine.handle('runs.attentionGrid', { name: 'rev-transformer', probe: 1 })) as Result<'runs.attentionGrid'>
  assert.equal(mean.map!.head, null)
  assert.equal(mean.map!.layer, 1)
  const top = cross.maps.filter((m) => m.layer === 1)
  assert.ok(Math.abs(mean.map!.weights[0]![0]! - top.reduce((sum, m) => sum + m.weights[0]![0]!, 0) / 4) < 1e-6)
  assert.deepEqual(head2.map!.weights, cross.maps.find((m) => m.layer === 0 && m.head === 2)!.weights)

  const stats = (await engine.handle('runs.headStats', { name: 'rev-transformer' })) as Result<'runs.headStats'>
  assert.equal(stats.step, 600)
  assert.equal(stats.stats.length, 24)
  assert.deepEqual(stats.stats.slice(0, 2).map((s) => `${s.kind}/${s.layer}/${s.head}`), ['encoder-self/0/0', 'encoder-self/0/1'])
  assert.deepEqual(stats.stats.at(-1)!.kind, 'cross')
  for (const s of stats.stats) {
    assert.ok(s.entropy >= 0 && s.entropy < Math.log(20), `entropy ${s.entropy}`)
    for (const value of [s.previous, s.same, s.boundary]) assert.ok(value >= 0 && value <= 1 + 1e-6)
  }
  // Decoder self-attention at the first target position can only look at <s>: its boundary weight is high.
  assert.ok(stats.stats.filter((s) => s.kind === 'decoder-self').every((s) => s.boundary > 0))

  const inspected = (await engine.handle('translate', { run: 'rev-transformer', lines: ['a b c d'], search: 'greedy', inspect: true })) as Result<'translate'>
  const [result] = inspected.results
  assert.equal(result!.hypotheses[0]!.text, 'd c b a')
  assert.equal(result!.maps!.length, 24)
  const encoderMap = result!.maps!.find((m) => m.kind === 'encoder-self')!
  assert.deepEqual(encoderMap.rowTokens, result!.srcPieces)
  const crossMap = result!.maps!.find((m) => m.kind === 'cross' && m.layer === 1)!
  assert.deepEqual(crossMap.rowTokens, result!.hypotheses[0]!.pieces)
})

test('a Transformer whose position table is shorter than the dev and test sentences trains, validates and evaluates; a longer input is refused clearly', async () => {
  // maxLength 8: an untrained decoder never says </s>, so every search must stop within the table (<s> takes one).
  await engine.handle('runs.create', {
    name: 'short-positions',
    model: 'transformer',
    preset: 'tiny',
    corpus: 'reverse',
    tokenizer: 'letters',
    transformer: { maxLength: 8 },
    training: { maxSteps: 4, logEvery: 2, validEvery: 4, checkpointEvery: 4, validSentences: 40, probes: 2 },
  })
  await waitJob(((await engine.handle('runs.start', { name: 'short-positions' })) as { jobId: string }).jobId)
  const { series } = (await engine.handle('runs.metrics', { name: 'short-positions', metrics: ['dev/loss', 'dev/bleu'] })) as Result<'runs.metrics'>
  assert.deepEqual(series['dev/loss']!.map((p) => p.step), [4])
  const evaluated = (await engine.handle('eval', { run: 'short-positions', split: 'test', search: 'beam', beamSize: 2 })) as Result<'eval'>
  assert.equal(evaluated.sentences, 40)
  assert.ok(evaluated.scores.some((s) => s.metric === 'bleu') && Number.isFinite(evaluated.loss), JSON.stringify(evaluated))
  // Paired bootstrap against the trained 'rev': the same sentences, search and resamples for both; its scores are
  // the untrained run's own, and the trained run's lead is far outside the resampling's spread.
  const compared = (await engine.handle('eval', { run: 'rev', split: 'test', search: 'beam', beamSize: 2, against: 'short-positions', resamples: 200 })) as Result<'eval'>
  const pairedBleu = compared.comparison!.metrics.find((m) => m.metric === 'bleu')!
  assert.equal(compared.comparison!.against, 'short-positions')
  assert.equal(pairedBleu.baseline, evaluated.scores.find((s) => s.metric === 'bleu')!.score)
  assert.equal(pairedBleu.system, compared.scores.find((s) => s.metric === 'bleu')!.score)
  assert.ok(pairedBleu.difference > 50 && pairedBleu.low > 0 && pairedBleu.pValue < 0.01, JSON.stringify(pairedBleu))
  assert.deepEqual(compared.comparison!.metrics.map((m) => m.metric), ['bleu', 'chrf', 'ter'])
  const itself = (await engine.handle('eval', { run: 'rev', split: 'test', search: 'beam', beamSize: 2, against: 'rev', resamples: 200 })) as Result<'eval'>
  for (const m of itself.comparison!.metrics) assert.ok(m.difference === 0 && m.low === 0 && m.high === 0 && m.pValue === 1, JSON.stringify(m))
  const short = (await engine.handle('translate', { run: 'short-positions', lines: ['a b'], search: 'beam', beamSize: 2, inspect: true })) as Result<'translate'>
  assert.ok(short.results[0]!.hypotheses[0]!.pieces.length <= 8)
  await assert.rejects(engine.handle('translate', { run: 'short-positions', lines: ['a b c d e f g h a b c d'], search: 'greedy' }), /the sentence is \d+ pieces long; this model reads at most 8 \(its maxLength\)/)
})

test('killing the training process with SIGKILL loses nothing past the last checkpoint: the resumed run continues the same loss curve', async () => {
  const config = join(dir, 'run.json')
  writeFileSync(config, JSON.stringify({ seq2seq: tinyModel, training: { tokenBudget: 300, lr: 5e-3, logEvery: 1, checkpointEvery: 4, validEvery: 1000, validSentences: 10 } }))
  const args = [cliPath, '--db', dbPath, '--backend', 'wasm', '--json', 'train', '--model', 'seq2seq', '--corpus', 'reverse', '--tokenizer', 'letters', '--name', 'killed', '--max-steps', '14', '--config', config]
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: cleanEnv(), stdio: 'ignore' })
  const reader = new BetterSqlite3(dbPath, { readonly: true })
  const checkpointSteps = () => (reader.prepare("SELECT c.step FROM checkpoints c JOIN runs r ON r.id = c.run_id WHERE r.name = 'killed' ORDER BY c.step").all() as { step: number }[]).map((r) => r.step)
  const lossCurve = () =>
    new Map((reader.prepare("SELECT m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.name = 'killed' AND m.name = 'train/loss' ORDER BY m.step").all() as { step: number; value: number }[]).map((r) => [r.step, r.value]))
  const deadline = Date.now() + 120_000
  while (!checkpointSteps().includes(8) || lossCurve().size < 9) {
    assert.ok(Date.now() < deadline, 'the run reached its second checkpoint in time')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  const before = lossCurve()
  const lastCheckpoint = Math.max(...checkpointSteps())
  assert.ok(lastCheckpoint >= 8)
  assert.equal((reader.prepare("SELECT status FROM runs WHERE name = 'killed'").get() as { status: string }).status, 'running', 'the killed process could not mark the run')

  const resumed = spawnSync(process.execPath, [cliPath, '--db', dbPath, '--backend', 'wasm', '--json', 'runs', 'resume', 'killed'], { cwd: repoRoot, env: cleanEnv(), encoding: 'utf8', timeout: 180_000 })
  assert.equal(resumed.status, 0, resumed.stderr)
  const run = JSON.parse(resumed.stdout) as { status: string; step: number; checkpoints: { step: number }[] }
  assert.equal(run.status, 'done')
  assert.equal(run.step, 14)
  const after = lossCurve()
  reader.close()
  assert.deepEqual([...after.keys()], Array.from({ length: 14 }, (_, i) => i + 1), 'one loss point per step, none missing or doubled')
  for (let step = 1; step <= lastCheckpoint; step++) assert.equal(after.get(step), before.get(step), `step ${step} kept from before the kill`)
  // Weights, Adam moments and the batch order all come back from the checkpoint: the steps redone after the
  // kill reproduce the losses the killed process had logged (up to float summation order across threads).
  for (let step = lastCheckpoint + 1; step <= 14; step++) {
    if (!before.has(step)) continue
    assert.ok(Math.abs(after.get(step)! - before.get(step)!) < 1e-3 * Math.max(1, before.get(step)!), `step ${step}: ${after.get(step)} vs ${before.get(step)} before the kill`)
  }
})
