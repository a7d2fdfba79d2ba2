// The wasm heap as a bounded resource: a full heap is a clear out-of-memory error (tfjs-backend-wasm itself would
// write the tensor at address 0 and hang in the next malloc), the heap stays usable after it, and a training
// update that does not fit is split into smaller micro-batches that give the same update.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import type { Result } from '../main/api/contract.ts'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { isOutOfMemory, OutOfMemoryError } from '../main/engine/compute/out-of-memory.ts'
import { HEAP_CEILING, setWasmMemoryLimit, wasmMemoryUsage } from '../main/engine/compute/wasm-memory.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { splitExamples } from '../models/train/batching.ts'
import { Random } from '../models/core/random.ts'
import { tempDir } from './helpers.ts'

const dir = tempDir({ after })
let engine: Engine

before(async () => {
  engine = await Engine.open({ dbPath: join(dir, 'kotoba.db'), loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
  const random = new Random(5)
  const lines = Array.from({ length: 600 }, () => {
    const sequence = Array.from({ length: 3 + random.integer(6) }, () => 'abcdefgh'[random.integer(8)]!)
    return `${sequence.join(' ')}\t${[...sequence].reverse().join(' ')}`
  })
  const file = join(dir, 'reverse.tsv')
  writeFileSync(file, `${lines.join('\n')}\n`)
  await waitDone((await engine.handle('corpus.import', { name: 'reverse', files: [file] })) as { jobId: string })
  await engine.handle('corpus.split', { name: 'reverse', dev: 8, test: 8, seed: 3 })
  await waitDone((await engine.handle('tokenizer.train', { corpus: 'reverse', name: 'letters', type: 'bpe', vocabSize: 50 })) as { jobId: string })
  // Half short, half long sentences: a run that trains on the short ones only (maxTokens) validates on both.
  const mixed = Array.from({ length: 300 }, () => {
    const sequence = Array.from({ length: random.integer(2) === 0 ? 3 + random.integer(6) : 30 + random.integer(10) }, () => 'abcdefgh'[random.integer(8)]!)
    return `${sequence.join(' ')}\t${[...sequence].reverse().join(' ')}`
  })
  const mixedFile = join(dir, 'mixed.tsv')
  writeFileSync(mixedFile, `${mixed.join('\n')}\n`)
  await waitDone((await engine.handle('corpus.import', { name: 'mixed', files: [mixedFile] })) as { jobId: string })
  await engine.handle('corpus.split', { name: 'mixed', dev: 32, test: 8, seed: 3 })
})

after(async () => {
  delete process.env.KOTOBA_WASM_MEMORY_MIB
  await engine?.close()
})

async function waitDone({ jobId }: { jobId: string }) {
  const job = await engine.jobs.wait(jobId)
  assert.equal(job.status, 'done', job.error ?? '')
}

test('a full wasm heap is an out-of-memory error naming the size, and the heap works on once the tensors are freed', async () => {
  await selectBackend('wasm')
  const backend = tf.backend() as unknown as { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo; disposeData(dataId: object): void }
  const before = wasmMemoryUsage()!
  // Untouched 256 MiB tensors until the heap's ceiling (no page is written, so this costs no RAM).
  const fillers: tf.TensorInfo[] = []
  let failure: unknown = null
  try {
    while (fillers.length < 64) fillers.push(backend.makeOutput([64 * 2 ** 20], 'float32'))
  } catch (error) {
    failure = error
  }
  assert.ok(failure instanceof OutOfMemoryError, `the heap filled up with an OutOfMemoryError (${String(failure)})`)
  assert.ok(isOutOfMemory(failure))
  assert.equal(failure.requestedBytes, 2 ** 28)
  assert.equal(failure.limitBytes, null)
  assert.match(failure.message, /^out of memory: 256\.0 MiB more did not fit, the WebAssembly heap is full \(3\.\d\d GiB of its 3\.50 GiB\); tensors hold .*tokens per batch/)
  assert.ok(fillers.length >= 10 && fillers.length <= 14, `${fillers.length} fillers`)
  assert.ok(wasmMemoryUsage()!.heapBytes <= HEAP_CEILING)
  assert.equal(wasmMemoryUsage()!.heldBytes, before.heldBytes + fillers.length * 2 ** 28)
  // A kernel's output is refused the same way, before it is written.
  assert.throws(() => tf.zeros([64 * 2 ** 20]), (error: unknown) => isOutOfMemory(error))
  for (const info of fillers) backend.disposeData(info.dataId)
  assert.equal(wasmMemoryUsage()!.heldBytes, before.heldBytes)
  // A block that could end past 4 GiB (where the allocator's addresses wrap around) is refused even when the freed
  // space might hold it; below that, the freed space serves again and the allocator is whole.
  const heapBytes = wasmMemoryUsage()!.heapBytes
  assert.throws(() => tf.zeros([(2 ** 32 - heapBytes) / 4]), (error: unknown) => isOutOfMemory(error))
  const tensors = Array.from({ length: 12 }, (_, i) => tf.fill([2 ** 24], i + 1)) // 12 × 64 MiB
  const sum = tf.tidy(() => tf.addN(tensors.map((tensor) => tensor.slice([2 ** 24 - 4], [4]))).sum())
  assert.equal((await sum.data())[0], 4 * 78)
  assert.equal(wasmMemoryUsage()!.heapBytes, heapBytes, 'no growth: the freed blocks were reused')
  tf.dispose([...tensors, sum])

  // A cap below the heap's ceiling (KOTOBA_WASM_MEMORY_MIB) bounds what tensors hold.
  setWasmMemoryLimit(wasmMemoryUsage()!.heldBytes + 2 ** 20)
  try {
    const small = tf.zeros([2 ** 17]) // 0.5 MiB: fits
    assert.throws(
      () => tf.zeros([2 ** 18]),
      (error: unknown) => error instanceof OutOfMemoryError && error.limitBytes !== null && /the WebAssembly memory limit of .* MiB \(KOTOBA_WASM_MEMORY_MIB\)/.test(error.message),
    )
    small.dispose()
  } finally {
    setWasmMemoryLimit(null)
  }
})

test('batches split into contiguous near-equal parts', () => {
  assert.deepEqual(splitExamples([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4, 5]])
  assert.deepEqual(splitExamples([1, 2, 3], 4), [[1], [2], [3]])
  assert.deepEqual(splitExamples([1, 2, 3, 4], 1), [[1, 2, 3, 4]])
})

type Series = Record<string, { step: number; value: number }[]>

/** The reverse corpus: batches of 600 tokens and 4 short dev sentences. The mixed one: batches of 120 tokens of short
 *  sentences, 32 dev sentences (decoded at once), half of them long. */
async function train(name: string, memoryMiB: string | null, corpus: 'reverse' | 'mixed' = 'reverse'): Promise<{ status: string; error: string | null; series: Series }> {
  if (memoryMiB === null) delete process.env.KOTOBA_WASM_MEMORY_MIB
  else process.env.KOTOBA_WASM_MEMORY_MIB = memoryMiB // read by the job's worker thread as it starts
  const data = corpus === 'reverse' ? { tokenBudget: 600, validSentences: 4, probes: 0 } : { tokenBudget: 120, validSentences: 32, probes: 1, maxTokens: 10 }
  await engine.handle('runs.create', {
    name,
    model: 'seq2seq',
    corpus,
    tokenizer: 'letters',
    seq2seq: { cell: 'gru', embeddingSize: 32, hiddenSize: 64, dropout: 0 },
    training: { maxSteps: 3, lr: 5e-3, labelSmoothing: 0, logEvery: 1, validEvery: 3, checkpointEvery: 3, ...data },
  })
  const { jobId } = (await engine.handle('runs.start', { name })) as { jobId: string }
  const job = await engine.jobs.wait(jobId)
  delete process.env.KOTOBA_WASM_MEMORY_MIB
  const { series } = (await engine.handle('runs.metrics', { name })) as Result<'runs.metrics'>
  return { status: job.status, error: job.error ?? null, series: series as Series }
}

test('an update that does not fit under the memory limit is split in two and gives the same update', async () => {
  const whole = await train('whole', null)
  assert.equal(whole.status, 'done', whole.error ?? '')
  assert.equal(whole.series['train/memory_split'], undefined, 'nothing to split without a limit')
  const peaks = whole.series['train/memory_mib']!
  assert.deepEqual(peaks.map((p) => p.step), [1, 2, 3])
  const peakBytes = peaks[0]!.value * 2 ** 20
  assert.ok(Number.isInteger(peakBytes) && peakBytes > 2 ** 20, `step 1 held at most ${peakBytes} bytes`)

  // One byte less than the first update held at its peak: the update fails, and runs again in halves.
  const split = await train('split', String((peakBytes - 1) / 2 ** 20))
  assert.equal(split.status, 'done', split.error ?? '')
  assert.deepEqual(split.series['train/memory_split']?.map(({ step, value }) => ({ step, value })), [{ step: 1, value: 2 }])
  assert.ok(split.series['train/memory_mib']![0]!.value * 2 ** 20 < peakBytes, 'the halves held less')
  // The same updates: the losses of every step agree (gradients accumulated over the halves).
  const losses = (series: Series) => series['train/loss']!.map((p) => p.value)
  const [a, b] = [losses(whole.series), losses(split.series)]
  assert.equal(b.length, 3)
  for (const [i, loss] of a.entries()) assert.ok(Math.abs(loss - b[i]!) < 1e-5 * loss, `step ${i + 1}: ${loss} whole, ${b[i]} split`)

  // Where not even the model fits, the run fails with the reason instead of hanging.
  const tiny = await train('tiny', '2')
  assert.equal(tiny.status, 'failed')
  assert.match(tiny.error ?? '', /^out of memory: .* more did not fit, the WebAssembly memory limit of 2\.0 MiB \(KOTOBA_WASM_MEMORY_MIB\)/)
  const run = (await engine.handle('runs.show', { name: 'tiny' })) as Result<'runs.show'>
  assert.equal(run.status, 'failed')
})

test('a validation that does not fit under the memory limit is split until it does: the run goes on, the dev loss is the same, its samples and maps are stored once', async () => {
  const whole = await train('valid-whole', null, 'mixed')
  assert.equal(whole.status, 'done', whole.error ?? '')
  const trainPeak = Math.max(...whole.series['train/memory_mib']!.map((p) => p.value))
  const [validPeak] = whole.series['dev/memory_mib']!
  assert.equal(validPeak?.step, 3)
  assert.ok(validPeak.value > 1.2 * trainPeak, `decoding 32 sentences, half of them long, holds more (${validPeak.value} MiB) than training on short ones (${trainPeak} MiB)`)

  // Between the two: the updates fit, the validation does not.
  const limit = (trainPeak + validPeak.value) / 2
  const split = await train('valid-split', String(limit), 'mixed')
  assert.equal(split.status, 'done', split.error ?? '')
  assert.equal(split.series['train/memory_split'], undefined, 'the updates fit')
  const splits = split.series['dev/memory_split']!.map(({ step, value }) => ({ step, value }))
  assert.equal(splits[0]!.step, 3)
  assert.deepEqual(splits.map((s) => s.value), splits.map((_, i) => 2 ** (i + 1)), 'halved while it did not fit')
  assert.ok(split.series['dev/memory_mib']![0]!.value <= limit)
  // The same loss in smaller batches. (The greedy outputs of a model 3 updates old are near ties: they may differ.)
  const [a, b] = [whole.series['dev/loss']![0]!.value, split.series['dev/loss']![0]!.value]
  assert.ok(Math.abs(a - b) <= 1e-5 * a, `dev/loss: ${a} whole, ${b} split`)
  assert.deepEqual(Object.keys(split.series).filter((m) => m.startsWith('dev/')).sort(), [...Object.keys(whole.series).filter((m) => m.startsWith('dev/')), 'dev/memory_split'].sort())
  // The samples and the probe's maps of the validation that passed, once.
  const samples = async (name: string) => (await engine.handle('runs.samples', { name, step: 3 })) as Result<'runs.samples'>
  const [reference, repeated] = [await samples('valid-whole'), await samples('valid-split')]
  assert.deepEqual(repeated.steps, [3])
  assert.deepEqual(
    repeated.samples.map(({ index, source, reference }) => ({ index, source, reference })),
    reference.samples.map(({ index, source, reference }) => ({ index, source, reference })),
  )
  const maps = (await engine.handle('runs.attentionGrid', { name: 'valid-split', probe: 0 })) as Result<'runs.attentionGrid'>
  assert.deepEqual(maps.steps, [3])
  assert.equal(maps.maps.length, 1, 'the probe’s map, stored once')
})
