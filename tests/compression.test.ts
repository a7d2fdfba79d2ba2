// Compression of a trained seq2seq run. Magnitude pruning (Zhu & Gupta 2017): the schedule, exact zero counts by
// magnitude, and real pruned runs — zeros counted in the stored weights, and a model that still learns. Sequence-level
// distillation (Kim & Rush 2016): the teacher's beam translations become a corpus with provenance; a student learns.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { ParameterStore } from '../models/core/params.ts'
import { Random } from '../models/core/random.ts'
import { decodeTensors } from '../models/train/checkpoint-codec.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { wordDistillationLoss } from '../models/losses/word-distillation.ts'
import { isMaskUpdate, MagnitudePruner, magnitudeMask, overallSparsity, scheduledSparsity } from '../models/train/magnitude-pruning.ts'
import type { CorpusRow, CorpusSummary, RunDetail, TranslateResult } from '../main/api/contract.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { loadCheckpoint } from '../main/engine/training/repository.ts'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { splitPairs } from '../main/engine/training/data.ts'
import { greedyMany, loadRun } from '../main/engine/training/inference.ts'
import { hasInt8Form, int8MatMulKernel } from '../models/quantization/int8-matmul.ts'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'
import { importReversalCorpus, waitForJob } from './support/reversal-corpus.ts'

test('the sparsity follows Zhu & Gupta’s cubic ramp, stepping at each mask update; one-shot reaches it at once', () => {
  const gradual = { sparsity: 0.8, scope: 'global', startStep: 100, endStep: 160, every: 6 } as const
  assert.equal(scheduledSparsity(gradual, 99), 0)
  assert.equal(scheduledSparsity(gradual, 100), 0)
  assert.ok(Math.abs(scheduledSparsity(gradual, 130) - 0.8 * (1 - 0.5 ** 3)) < 1e-12)
  assert.equal(scheduledSparsity(gradual, 133), scheduledSparsity(gradual, 130), 'constant between mask updates')
  assert.ok(scheduledSparsity(gradual, 136) > scheduledSparsity(gradual, 130))
  assert.equal(scheduledSparsity(gradual, 160), 0.8)
  assert.equal(scheduledSparsity(gradual, 500), 0.8)
  assert.deepEqual([100, 101, 106, 112, 159, 160, 166].map((step) => isMaskUpdate(gradual, step)), [true, false, true, true, false, true, false])
  const oneShot = { ...gradual, endStep: 100 }
  assert.equal(scheduledSparsity(oneShot, 100), 0.8)
  assert.equal(scheduledSparsity(oneShot, 99), 0)
})

test('pruning by magnitude zeroes exactly the asked share, smallest first (ties broken in order), per layer or globally', async () => {
  assert.deepEqual([...magnitudeMask(Float32Array.from([0.5, 0.1, 0.3, 0.1, 0.9, 0.1]), 3)], [1, 0, 1, 0, 1, 0])
  assert.deepEqual([...magnitudeMask(Float32Array.from([0.2, 0.2, 0.2, 0.2]), 2)], [0, 0, 1, 1])
  assert.deepEqual([...magnitudeMask(Float32Array.from([3, 1, 2]), 0)], [1, 1, 1])

  const params = new ParameterStore(new Random(3))
  const small = params.create('small/kernel', [20, 10], { kind: 'normal', std: 0.01 })
  params.create('large/kernel', [10, 30], { kind: 'normal', std: 1 })
  params.create('large/bias', [30], { kind: 'normal', std: 1e-4 })
  const perLayer = new MagnitudePruner(params, 'layer')
  assert.deepEqual(perLayer.names, ['small/kernel', 'large/kernel'], 'biases are not pruned')
  const before = (await small.data()).slice()
  await perLayer.prune(0.25)
  const layers = await perLayer.sparsityByLayer()
  assert.deepEqual(layers.map((l) => [l.name, l.zeros]), [
    ['small/kernel', 50],
    ['large/kernel', 75],
  ])
  // The survivors are the largest: every kept |w| is at least every pruned one's.
  const after = await small.data()
  const pruned = [...before].filter((_, i) => after[i] === 0).map(Math.abs)
  const kept = [...before].filter((_, i) => after[i] !== 0).map(Math.abs)
  assert.ok(Math.max(...pruned) <= Math.min(...kept))
  // The masks hold: an update that moves pruned weights is undone.
  small.assign(tf.add(small, tf.scalar(1)))
  perLayer.apply()
  assert.equal((await perLayer.sparsityByLayer())[0]!.zeros, 50)
  perLayer.dispose()

  // One threshold over all weights: the layer of small weights goes first.
  const fresh = new ParameterStore(new Random(3))
  fresh.create('small/kernel', [20, 10], { kind: 'normal', std: 0.001 })
  fresh.create('large/kernel', [10, 30], { kind: 'normal', std: 1 })
  const global = new MagnitudePruner(fresh, 'global')
  await global.prune(0.5)
  const globalLayers = await global.sparsityByLayer()
  assert.deepEqual(globalLayers.map((l) => l.zeros), [200, 50])
  assert.equal(overallSparsity(globalLayers), 0.5)
  global.dispose()
  fresh.dispose()
  params.dispose()
})

const dir = tempDir({ after })
const dbPath = join(dir, 'kotoba.db')
let engine: Engine

const waitFor = (started: unknown) => waitForJob(engine, started)

/** Trains a GRU seq2seq run on a reversal corpus for 240 steps (the teacher is 32/64 wide, students 16/32). */
async function trainReverser(name: string, corpus: string, width: { embeddingSize: number; hiddenSize: number }, extra: Record<string, unknown> = {}): Promise<void> {
  await engine.handle('runs.create', {
    name,
    model: 'seq2seq',
    corpus,
    tokenizer: 'letters',
    seq2seq: { cell: 'gru', ...width, dropout: 0 },
    training: { maxSteps: 240, tokenBudget: 600, lr: 5e-3, labelSmoothing: 0, logEvery: 10, validEvery: 60, checkpointEvery: 60, validSentences: 40, probes: 1 },
    ...extra,
  })
  await waitFor(await engine.handle('runs.start', { name }))
}

before(async () => {
  engine = await Engine.open({ dbPath, loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
  await importReversalCorpus(engine, dir)
  await trainReverser('rev', 'reverse', { embeddingSize: 32, hiddenSize: 64 })
})

after(async () => {
  await engine?.close()
})

/** Zeros over all matrices (rank ≥ 2) of a stored checkpoint. */
function storedSparsity(run: string, step: number): { zeros: number; size: number; layers: Map<string, number> } {
  const detail = engine.db.prepare('SELECT id FROM runs WHERE name = ?').get(run) as { id: number }
  const checkpoint = loadCheckpoint(engine.db, detail.id, { step })!
  let zeros = 0
  let size = 0
  const layers = new Map<string, number>()
  for (const array of decodeTensors(checkpoint.weights)) {
    if (array.shape.length < 2) continue
    const layerZeros = array.values.filter((v) => v === 0).length
    layers.set(array.name, layerZeros / array.values.length)
    zeros += layerZeros
    size += array.values.length
  }
  return { zeros, size, layers }
}

async function prune(params: Record<string, unknown>): Promise<RunDetail> {
  const { run, jobId } = (await engine.handle('runs.prune', params)) as { run: { name: string }; jobId: string }
  const job = await engine.jobs.wait(jobId)
  assert.equal(job.status, 'done', job.error ?? '')
  return (await engine.handle('runs.show', { name: run.name })) as RunDetail
}

test('a gradually pruned run reaches the asked sparsity in its stored weights, and fine-tuning recovers what one-shot pruning lost', async () => {
  const parent = (await engine.handle('runs.show', { name: 'rev' })) as RunDetail
  const parentBest = parent.checkpoints.find((c) => c.isBest)!
  const parentBleu = parentBest.metrics['dev/bleu']!
  assert.ok(parentBleu > 50, `the parent learned the task (dev BLEU ${parentBleu})`)

  const gradual = await prune({ name: 'rev', into: 'rev-g70', sparsity: 0.7, schedule: 'gradual', steps: 120 })
  assert.equal(gradual.status, 'done')
  assert.equal(gradual.step, parentBest.step + 120)
  assert.deepEqual(gradual.config.pruning, { sparsity: 0.7, scope: 'global', startStep: parentBest.step, endStep: parentBest.step + 80, every: 8, from: { run: 'rev', step: parentBest.step } })
  const stored = storedSparsity('rev-g70', gradual.step)
  assert.ok(Math.abs(stored.zeros / stored.size - 0.7) < 1e-3, `zeros counted in the checkpoint: ${stored.zeros} of ${stored.size}`)
  assert.equal(gradual.sparsity!.reduce((sum, l) => sum + l.zeros, 0), stored.zeros, 'the reported per-layer counts are the stored zeros')
  const { series } = (await engine.handle('runs.metrics', { name: 'rev-g70' })) as { series: Record<string, { step: number; value: number }[]> }
  const target = series['prune/target_sparsity']!
  assert.ok(target[0]!.value < 0.7 && target.at(-1)!.value === 0.7, 'the target rose over the ramp')
  const measured = series['prune/sparsity']!
  assert.ok(measured.every((p, i) => i === 0 || p.value >= measured[i - 1]!.value), 'measured sparsity never falls')
  const gradualBleu = series['dev/bleu']!.at(-1)!.value

  // One-shot at the same sparsity, per layer: 1 step is pruning alone; 120 steps fine-tune after it.
  const alone = await prune({ name: 'rev', into: 'rev-o70-1', sparsity: 0.7, scope: 'layer', schedule: 'one-shot', steps: 1 })
  const tuned = await prune({ name: 'rev', into: 'rev-o70', sparsity: 0.7, scope: 'layer', schedule: 'one-shot', steps: 120 })
  for (const run of [alone, tuned]) {
    for (const [name, share] of storedSparsity(run.name, run.step).layers) assert.ok(Math.abs(share - 0.7) < 0.01, `${run.name} ${name}: ${share}`)
  }
  const bleuOf = async (name: string) => {
    const { series: s } = (await engine.handle('runs.metrics', { name, metrics: ['dev/bleu', 'train/loss'] })) as { series: Record<string, { step: number; value: number }[]> }
    return { bleu: s['dev/bleu']!.at(-1)!.value, loss: s['train/loss']! }
  }
  const prunedOnly = await bleuOf('rev-o70-1')
  const fineTuned = await bleuOf('rev-o70')
  assert.ok(prunedOnly.bleu < parentBleu, `pruning 70 % alone costs BLEU (${prunedOnly.bleu} vs ${parentBleu})`)
  assert.ok(fineTuned.bleu > prunedOnly.bleu + 5, `fine-tuning recovers: ${fineTuned.bleu} vs ${prunedOnly.bleu} right after pruning`)
  assert.ok(fineTuned.loss.at(-1)!.value < fineTuned.loss[0]!.value, 'the pruned model still learns: its loss falls')
  assert.ok(gradualBleu > prunedOnly.bleu, `gradual pruning with fine-tuning beats pruning alone (${gradualBleu})`)

  // The parent is left as it was.
  const parentAfter = (await engine.handle('runs.show', { name: 'rev' })) as RunDetail
  assert.deepEqual(parentAfter.checkpoints, parent.checkpoints)
  assert.equal(storedSparsity('rev', parentBest.step).zeros, 0)
})

test('kotoba compress prune: a pruned run from the CLI with its sparsity per layer, and clear refusals', async () => {
  const result = runCli(['--db', dbPath, '--json', 'compress', 'prune', '--run', 'rev', '--sparsity', '0.5', '--steps', '20', '--schedule', 'one-shot', '--checkpoint', 'latest'])
  assert.equal(result.status, 0, result.stderr)
  const run = parseJsonOutput<RunDetail>(result)
  assert.equal(run.name, 'rev-pruned50')
  assert.equal(run.status, 'done')
  assert.ok(run.sparsity!.length >= 6 && run.sparsity!.every((l) => l.zeros > 0))
  const zeros = run.sparsity!.reduce((sum, l) => sum + l.zeros, 0)
  const size = run.sparsity!.reduce((sum, l) => sum + l.size, 0)
  assert.equal(zeros, Math.round(0.5 * size))

  const human = runCli(['--db', dbPath, 'runs', 'show', 'rev-pruned50'])
  assert.equal(human.status, 0, human.stderr)
  assert.match(human.stdout, /pruned from rev at step 240/)
  assert.match(human.stdout, /sparsity: 50\.0 % of [\d,]+ prunable weights are zero/)
  assert.match(human.stdout, /encoder\S*\s+[\d,]+\s+[\d,]+\s+\d+\.\d %/)

  const again = runCli(['--db', dbPath, '--json', 'compress', 'prune', '--run', 'rev', '--sparsity', '0.5', '--steps', '20'])
  assert.notEqual(again.status, 0)
  assert.match(again.stdout, /a run named 'rev-pruned50' already exists/)
  const missing = runCli(['--db', dbPath, '--json', 'compress', 'prune', '--run', 'rev', '--sparsity', '0.5', '--checkpoint', '7', '--name', 'x'])
  assert.match(missing.stdout, /run 'rev' has no checkpoint at step 7 to prune/)
})

async function rowsOf(name: string): Promise<CorpusRow[]> {
  const rows: CorpusRow[] = []
  for (;;) {
    const page = (await engine.handle('corpus.rows', { name, offset: rows.length, limit: 500 })) as { total: number; rows: CorpusRow[] }
    rows.push(...page.rows)
    if (rows.length >= page.total || page.rows.length === 0) return rows
  }
}

test('sequence-level distillation: the teacher’s beam translations of its training split become a corpus with provenance, and a smaller student learns from it', async () => {
  const teacher = (await engine.handle('runs.show', { name: 'rev' })) as RunDetail
  const best = teacher.checkpoints.find((c) => c.isBest)!
  const started = (await engine.handle('runs.distil', { name: 'rev', search: 'beam', beamSize: 3, limit: 300 })) as { corpus: string }
  assert.equal(started.corpus, 'reverse-by-rev')
  await waitFor(started)
  const corpus = (await engine.handle('corpus.show', { name: 'reverse-by-rev' })) as CorpusSummary
  assert.deepEqual(corpus.distilledFrom, { run: 'rev', checkpointStep: best.step, corpus: 'reverse', search: 'beam 3', sentences: 300 })
  assert.deepEqual(corpus.splits, { train: 300, dev: 40, test: 40 })
  assert.match(corpus.source, /^rev \(step \d+, beam 3\) translating the training split of reverse$/)

  // Train rows: the original sources with the teacher's translations (the same as translating them with the same search);
  // dev and test: the original pairs, so students are scored against real references.
  const original = await rowsOf('reverse')
  const distilled = await rowsOf('reverse-by-rev')
  const originalTrain = original.filter((r) => r.split === 'train').slice(0, 300)
  const distilledTrain = distilled.filter((r) => r.split === 'train')
  assert.deepEqual(distilledTrain.map((r) => r.src), originalTrain.map((r) => r.src))
  const sample = distilledTrain.slice(0, 12)
  const translated = (await engine.handle('translate', { run: 'rev', lines: sample.map((r) => r.src!), search: 'beam', beamSize: 3, attention: false })) as TranslateResult
  assert.deepEqual(sample.map((r) => r.tgt), translated.results.map((r) => r.hypotheses[0]!.text))
  const differing = distilledTrain.filter((r, i) => r.tgt !== originalTrain[i]!.tgt).length
  assert.ok(differing < 150, `the teacher reverses well, so most translations are the references (${differing} differ)`)
  for (const split of ['dev', 'test']) {
    assert.deepEqual(
      distilled.filter((r) => r.split === split).map((r) => [r.src, r.tgt]),
      original.filter((r) => r.split === split).map((r) => [r.src, r.tgt]),
    )
  }
  await assert.rejects(engine.handle('runs.distil', { name: 'rev' }), /a corpus named 'reverse-by-rev' already exists/)

  // A student half the teacher's width learns the task from the teacher's translations alone.
  await trainReverser('student', 'reverse-by-rev', { embeddingSize: 16, hiddenSize: 32 })
  const { series } = (await engine.handle('runs.metrics', { name: 'student', metrics: ['dev/bleu', 'train/loss'] })) as { series: Record<string, { step: number; value: number }[]> }
  assert.ok(series['train/loss']!.at(-1)!.value < series['train/loss']![0]!.value / 3, 'the student’s loss fell')
  assert.ok(series['dev/bleu']!.at(-1)!.value > 30, `the student reverses the real dev references: BLEU ${series['dev/bleu']!.at(-1)!.value}`)
})

test('kotoba compress distil --student: the distilled corpus and the student run from the CLI', () => {
  const result = runCli(['--db', dbPath, '--json', 'compress', 'distil', '--run', 'rev', '--corpus', 'kd-greedy', '--greedy', '--limit', '200', '--student', 'kd-student', '--max-steps', '20'])
  assert.equal(result.status, 0, result.stderr)
  const { corpus, run } = parseJsonOutput<{ corpus: CorpusSummary; run: RunDetail }>(result)
  assert.equal(corpus.distilledFrom!.search, 'greedy')
  assert.equal(corpus.splits.train, 200)
  assert.equal(run.name, 'kd-student')
  assert.equal(run.status, 'done')
  assert.equal(run.corpus, 'kd-greedy')
  assert.deepEqual(run.config.seq2seq, { ...(run.config.seq2seq ?? {}), hiddenSize: 64 }, 'the teacher’s model configuration')
  const human = runCli(['--db', dbPath, 'corpus', 'show', 'kd-greedy'])
  assert.equal(human.status, 0, human.stderr)
  assert.match(human.stdout, /source: rev \(step \d+, greedy\) translating the training split of reverse/)
})

test('int8 quantisation: a new run whose checkpoint is a quarter of the size, decodes on the int8 kernel and scores within 1 BLEU of the float one', async () => {
  const parent = (await engine.handle('runs.show', { name: 'rev' })) as RunDetail
  const best = parent.checkpoints.find((c) => c.isBest)!
  const result = (await engine.handle('runs.quantize', { name: 'rev' })) as { run: { name: string; status: string; step: number }; layers: { name: string; relativeError: number }[]; bytes: number; floatBytes: number }
  assert.equal(result.run.name, 'rev-int8')
  assert.deepEqual([result.run.status, result.run.step], ['done', best.step])
  assert.ok(result.layers.some((l) => l.name === 'output/kernel') && result.layers.some((l) => l.name.endsWith('/table')), 'embeddings and the output layer too, by default')
  assert.ok(result.layers.some((l) => l.name.includes('recurrent_kernel')))
  assert.ok(result.bytes < 0.35 * result.floatBytes, `${result.bytes} of ${result.floatBytes} bytes`)
  const quantized = (await engine.handle('runs.show', { name: 'rev-int8' })) as RunDetail
  assert.deepEqual(quantized.config.quantization, { scheme: 'int8', from: { run: 'rev', step: best.step }, embeddings: true, output: true })
  const stored = decodeTensors(loadCheckpoint(engine.db, (engine.db.prepare('SELECT id FROM runs WHERE name = ?').get('rev-int8') as { id: number }).id, 'best')!.weights)
  assert.deepEqual(stored.filter((a) => a.int8).map((a) => a.name), result.layers.map((l) => l.name))

  // In this process: the loaded model's matrices carry their int8 forms, and greedy decoding runs the int8 kernel.
  await selectBackend('wasm')
  const loaded = await loadRun(engine.db, 'rev-int8')
  const sources = splitPairs(engine.db, 'reverse', 'test').slice(0, 20).map((pair) => loaded.src.encode(pair.src))
  assert.ok(loaded.model.params.entries().filter(([name]) => result.layers.some((l) => l.name === name)).every(([, variable]) => hasInt8Form(variable)))
  const profile = await tf.profile(async () => void (await greedyMany(loaded.model, loaded.tgt, sources)))
  assert.ok(profile.kernelNames.includes(int8MatMulKernel), 'decoding multiplied in int8')
  assert.ok(!profile.kernelNames.includes('BatchMatMul') || profile.kernels.filter((k) => k.name === 'BatchMatMul').length < profile.kernels.filter((k) => k.name === int8MatMulKernel).length, 'weights are not multiplied in float')
  loaded.model.dispose()

  const scores = async (run: string) => {
    const evaluated = (await engine.handle('eval', { run, split: 'test', search: 'greedy' })) as { scores: { metric: string; score: number }[] }
    return Object.fromEntries(evaluated.scores.map((s) => [s.metric, s.score]))
  }
  const float = await scores('rev')
  const int8 = await scores('rev-int8')
  assert.ok(float.bleu! > 50, `the float model learned the task (${float.bleu})`)
  assert.ok(Math.abs(int8.bleu! - float.bleu!) <= 1, `int8 BLEU ${int8.bleu} vs float ${float.bleu}`)

  // A quantised run is for inference: training it, or quantising it again, is refused with the way forward.
  await assert.rejects(engine.handle('runs.start', { name: 'rev-int8' }), /int8 quantisation of 'rev' for inference; train 'rev' instead/)
  await assert.rejects(engine.handle('runs.quantize', { name: 'rev-int8' }), /quantise 'rev' instead/)
  await assert.rejects(engine.handle('runs.quantize', { name: 'rev' }), /a run named 'rev-int8' already exists/)

  // The CLI, keeping the embeddings and the output layer float.
  const cli = runCli(['--db', dbPath, '--json', 'compress', 'quantize', '--run', 'rev', '--name', 'rev-int8f', '--keep-float', 'embeddings,output'])
  assert.equal(cli.status, 0, cli.stderr)
  const partial = parseJsonOutput<{ layers: { name: string }[]; bytes: number }>(cli)
  assert.ok(partial.layers.length > 0 && partial.layers.every((l) => !l.name.endsWith('/table') && l.name !== 'output/kernel'))
  assert.ok(partial.bytes > result.bytes)
  const shown = runCli(['--db', dbPath, 'runs', 'show', 'rev-int8f'])
  assert.match(shown.stdout, /int8 quantisation of rev at step \d+, for inference; kept float: embeddings, output layer/)
  const wrong = runCli(['--db', dbPath, 'compress', 'quantize', '--run', 'rev', '--keep-float', 'attention'])
  assert.notEqual(wrong.status, 0)
  assert.match(wrong.stderr + wrong.stdout, /--keep-float takes embeddings and\/or output, not attention/)
})

test('the compression report puts the run beside its pruned runs and students: zeros, bytes, test scores and latency', async () => {
  const evaluated = (await engine.handle('eval', { run: 'rev', split: 'test', search: 'greedy' })) as { checkpointStep: number; scores: { metric: string; score: number }[] }
  await engine.handle('eval', { run: 'rev-g70', split: 'test', search: 'greedy' })
  const report = (await engine.handle('compress.report', { name: 'rev', latency: true })) as { rows: import('../main/api/contract.ts').CompressionRow[] }
  const byRun = new Map(report.rows.map((row) => [row.run, row]))
  assert.deepEqual(report.rows.map((row) => [row.run, row.kind]), [
    ['rev', 'float'],
    ['rev-int8', 'int8'],
    ['rev-int8f', 'int8'],
    ['rev-g70', 'pruned'],
    ['rev-o70', 'pruned'],
    ['rev-o70-1', 'pruned'],
    ['rev-pruned50', 'pruned'],
    ['kd-student', 'distilled'],
    ['student', 'distilled'],
  ])
  const base = byRun.get('rev')!
  assert.equal(base.nonZero, base.parameters)
  assert.equal(base.bleu, evaluated.scores.find((s) => s.metric === 'bleu')!.score)
  const pruned = byRun.get('rev-g70')!
  assert.equal(pruned.parameters, base.parameters)
  assert.equal(pruned.bytes, base.bytes, 'pruned weights are stored dense')
  const prunable = storedSparsity('rev-g70', pruned.checkpointStep)
  assert.equal(pruned.parameters - pruned.nonZero, prunable.zeros, 'its zeros are the pruned matrices’ zeros')
  assert.notEqual(pruned.bleu, null)
  assert.equal(byRun.get('rev-o70')!.bleu, null, 'not evaluated yet')
  assert.ok(byRun.get('student')!.parameters < base.parameters / 2, 'the student is the smaller model')
  assert.ok(byRun.get('student')!.bytes < base.bytes / 2)
  const int8 = byRun.get('rev-int8')!
  assert.equal(int8.parameters, base.parameters)
  assert.ok(int8.bytes < base.bytes * 0.35, 'int8 weights with their scales')
  assert.ok(int8.bleu !== null && Math.abs(int8.bleu - base.bleu!) <= 1)
  for (const row of report.rows) assert.ok(row.latencyMs! > 0 && row.latencyMs! < 10_000, `${row.run}: ${row.latencyMs} ms`)

  const human = runCli(['--db', dbPath, 'compress', 'report', '--run', 'rev'])
  assert.equal(human.status, 0, human.stderr)
  assert.match(human.stdout, /rev-g70\s+pruned 70 %\s+\d+\s+[\d,]+\s+[\d,]+\s+[\d,]+\s+\d+\.\d\d/)
  assert.match(human.stdout, /student\s+student \(reverse-by-rev\)/)
  assert.match(human.stdout, /rev-int8\s+int8\s+\d+/)
  assert.match(human.stdout, /not evaluated at that checkpoint yet/)
})

test('word-level distillation loss: plain cross-entropy at weight 0, and its gradient is softmax minus the mixed target', () => {
  const random = new Random(5)
  const values = (n: number) => Array.from({ length: n }, () => random.normal() * 2)
  const student = tf.tensor2d(values(12), [3, 4])
  const teacher = tf.tensor2d(values(12), [3, 4])
  const targets = tf.tensor1d([2, 0, 3], 'int32')
  const mask = tf.tensor1d([1, 1, 0])
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-5, `${a} vs ${b}`)
  close(wordDistillationLoss(student, teacher, targets, mask, 0).dataSync()[0]!, smoothedCrossEntropy(student, targets, mask).dataSync()[0]!)
  // ∂L/∂logits = w (softmax(student) − ((1 − α)·onehot + α·softmax(teacher))), padding rows 0.
  const alpha = 0.3
  const grad = tf.grad((logits: tf.Tensor) => wordDistillationLoss(logits as tf.Tensor2D, teacher, targets, mask, alpha))(student)
  const expected = tf.tidy(() => tf.softmax(student).sub(tf.oneHot(targets, 4).mul(1 - alpha).add(tf.softmax(teacher).mul(alpha))).mul(mask.div(2).expandDims(1)))
  const got = grad.dataSync()
  expected.dataSync().forEach((value, i) => close(got[i]!, value))
  // A student that already matches its teacher gets no gradient from the teacher's part.
  const matched = tf.grad((logits: tf.Tensor) => wordDistillationLoss(logits as tf.Tensor2D, student, targets, mask, 1))(student)
  for (const value of matched.dataSync()) close(value, 0)
  tf.dispose([student, teacher, targets, mask, grad, expected, matched])
})

test('a student trained with word-level distillation from the teacher learns; a teacher over other tokenizers is refused', async () => {
  await trainReverser('word-kd', 'reverse', { embeddingSize: 16, hiddenSize: 32 }, { distillation: { teacher: 'rev', weight: 0.5 } })
  const teacher = (await engine.handle('runs.show', { name: 'rev' })) as RunDetail
  const student = (await engine.handle('runs.show', { name: 'word-kd' })) as RunDetail
  assert.deepEqual(student.config.distillation, { teacher: 'rev', checkpointStep: teacher.checkpoints.find((c) => c.isBest)!.step, weight: 0.5 })
  const { series } = (await engine.handle('runs.metrics', { name: 'word-kd', metrics: ['dev/bleu', 'train/loss'] })) as { series: Record<string, { step: number; value: number }[]> }
  assert.ok(series['train/loss']!.at(-1)!.value < series['train/loss']![0]!.value / 2, 'the mixed loss fell')
  assert.ok(series['dev/bleu']!.at(-1)!.value > 30, `the student reverses: dev BLEU ${series['dev/bleu']!.at(-1)!.value}`)

  await waitFor(await engine.handle('tokenizer.train', { corpus: 'reverse', name: 'letters-60', type: 'bpe', vocabSize: 60 }))
  await assert.rejects(
    engine.handle('runs.create', { name: 'kd-bad', model: 'seq2seq', corpus: 'reverse', tokenizer: 'letters-60', preset: 'tiny', distillation: { teacher: 'rev' } }),
    /teacher 'rev' uses tokenizers letters\/letters; the student must use the same/,
  )
  await assert.rejects(engine.handle('runs.create', { name: 'kd-bad', model: 'seq2seq', corpus: 'reverse', tokenizer: 'letters', preset: 'tiny', distillation: { teacher: 'rev', checkpoint: 7 } }), /teacher 'rev' has no checkpoint at step 7/)
  assert.equal(((await engine.handle('runs.list', {})) as { name: string }[]).some((r) => r.name === 'kd-bad'), false, 'a refused run is not created')
})
