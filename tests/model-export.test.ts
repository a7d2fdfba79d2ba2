// Model export (kotoba export model): the exported ONNX encoder and decoder step, run by onnxruntime-node, give our
// models' logits for every seq2seq variant (LSTM/GRU/RNN, uni- and bidirectional, stacked, each attention, with and
// without input feeding) and Transformer variant (pre/post-LN, sinusoidal/learned positions, shared embeddings),
// padded batches included; and a trained run exported from the CLI as ONNX and as tfjs graph models translates the
// test split, greedily, outside the workbench (onnxruntime-node or plain tfjs, sentencepiece-js and model.json only)
// exactly as `kotoba translate --greedy` does. tfjs-export.test.ts checks the tfjs graphs' logits per variant.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { after, before, test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import type { TranslateResult } from '../main/api/contract.ts'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Engine } from '../main/engine/engine.ts'
import { seq2seqDecoderStep, seq2seqEncoder, seq2seqShapes } from '../main/engine/export/onnx-seq2seq.ts'
import { transformerDecoderStep, transformerEncoder, transformerShapes } from '../main/engine/export/onnx-transformer.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { splitPairs } from '../main/engine/training/data.ts'
import { openDatabase } from '../main/engine/store/database.ts'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'
import { assertClose, maskValues, padded, reference, seq2seqVariants, targets, transformerVariants } from './support/export-reference.ts'
import { importReversalCorpus, waitForJob } from './support/reversal-corpus.ts'

const producer = { name: 'kotoba-test', version: '0' }
type Feeds = Record<string, ort.Tensor>

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims)
const float = (values: Float32Array | number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(values), dims)

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return await ort.InferenceSession.create(bytes)
}

const batchFeeds = (): Feeds => ({ src: int64(padded.flat(), [2, 5]), src_mask: float(maskValues, [2, 5]) })
const column = (t: number) => int64(targets.map((row) => row[t]!), [2])

before(async () => {
  await selectBackend('wasm')
})

test('ONNX seq2seq: every cell, direction, depth and attention gives our logits step by step, on a padded batch', async () => {
  for (const config of seq2seqVariants) {
    const label = `${config.cell} ${config.bidirectional ? 'bi' : 'uni'} ${config.encoderLayers}/${config.decoderLayers} ${config.attention}${config.inputFeeding ? ' +feed' : ''}`
    const vocab = { src: 12, tgt: 10 }
    const ours = await reference({ kind: 'seq2seq', seq2seq: config }, vocab)
    const encoder = await session(seq2seqEncoder(config, ours.weights).encode(producer))
    const step = await session(seq2seqDecoderStep(config, ours.weights, vocab.tgt).encode(producer))
    const shapes = seq2seqShapes(config)
    const encoded = await encoder.run(batchFeeds())
    const carried = [...shapes.states.flat(), ...(shapes.inputFeeding ? ['feed'] : [])]
    let state: Feeds = Object.fromEntries(carried.map((name) => [name, encoded[name]!]))
    const fixed: Feeds = shapes.attention ? { memory: encoded['memory']!, keys: encoded['keys']!, src_mask: batchFeeds()['src_mask']! } : {}
    for (let t = 0; t < targets[0]!.length; t++) {
      const out = await step.run({ prev: column(t), ...fixed, ...state })
      assertClose(out['logits']!.data as Float32Array, ours.logits[t]!, `${label}, step ${t}`)
      if (shapes.attention) {
        const weights = out['attention']!.data as Float32Array
        assert.ok(Math.abs(weights[5 + 3]!) < 1e-6 && Math.abs(weights[5 + 4]!) < 1e-6, `${label}: padding gets no attention`)
      }
      state = Object.fromEntries(carried.map((name) => [name, out[`next_${name}`]!]))
    }
    await Promise.all([encoder.release(), step.release()])
  }
})

test('ONNX Transformer: the decoder step with cache inputs gives our incremental decoding’s logits, pre- and post-LN, learned positions, shared embeddings', async () => {
  for (const config of transformerVariants) {
    const label = `${config.norm}-LN ${config.positions} share=${config.shareEmbeddings}`
    const vocab = config.shareEmbeddings === 'all' ? { src: 12, tgt: 12 } : { src: 12, tgt: 10 }
    const ours = await reference({ kind: 'transformer', transformer: config }, vocab)
    const encoder = await session(transformerEncoder(config, ours.weights).encode(producer))
    const step = await session(transformerDecoderStep(config, ours.weights, vocab.tgt).encode(producer))
    const shapes = transformerShapes(config)
    const encoded = await encoder.run(batchFeeds())
    const dk = config.dModel / config.heads
    const fixed: Feeds = { src_mask: batchFeeds()['src_mask']!, ...Object.fromEntries(shapes.crossCaches.map((name) => [name, encoded[name]!])) }
    let caches: Feeds = Object.fromEntries(shapes.selfCaches.map((name) => [name, float(new Float32Array(0), [2, config.heads, 0, dk])]))
    for (let t = 0; t < targets[0]!.length; t++) {
      const out = await step.run({ prev: column(t), position: int64([t], [1]), ...fixed, ...caches })
      assertClose(out['logits']!.data as Float32Array, ours.logits[t]!, `${label}, step ${t}`)
      caches = Object.fromEntries(shapes.selfCaches.map((name) => [name, out[`next_${name}`]!]))
      assert.deepEqual(caches[shapes.selfCaches[0]!]!.dims, [2, config.heads, t + 1, dk])
    }
    await Promise.all([encoder.release(), step.release()])
  }
})

// ---- a trained run, exported from the CLI and run outside the workbench --------------------------------------------

interface ExportDescription {
  format: 'onnx' | 'tfjs'
  tokenizers: { source: string; target: string }
  special: { target: { bos: number; eos: number } }
  encoder: { file: string }
  decoderStep: { file: string }
  maxSourceLength?: number
  maxOutput: string
  loop: {
    kind: 'seq2seq' | 'transformer'
    encoderToStep: Record<string, string>
    passThrough: Record<string, string>
    stepToStep: Record<string, string>
    initialSelfCaches?: { names: string[]; shape: (number | string)[] }
    positionInput?: string
    maxLength?: number
  }
}

/** What the greedy loop needs from a runtime: run a graph, make id and float tensors, read logits. */
interface Runtime<T> {
  encoder(feeds: Record<string, T>): Promise<Record<string, T>>
  step(feeds: Record<string, T>): Promise<Record<string, T>>
  ids(values: number[], dims: number[]): T
  floats(values: Float32Array | number[], dims: number[]): T
  read(tensor: T): Promise<Float32Array>
  release(): Promise<void>
}

async function onnxRuntime(dir: string, description: ExportDescription): Promise<Runtime<ort.Tensor>> {
  const encoder = await ort.InferenceSession.create(join(dir, description.encoder.file))
  const step = await ort.InferenceSession.create(join(dir, description.decoderStep.file))
  return {
    encoder: (feeds) => encoder.run(feeds),
    step: (feeds) => step.run(feeds),
    ids: int64,
    floats: float,
    read: async (tensor) => tensor.data as Float32Array,
    release: async () => void (await Promise.all([encoder.release(), step.release()])),
  }
}

/** tfjs graph models from their files, as a user without tfjs-node loads them (model.json, then its weights). */
async function tfjsRuntime(dir: string, description: ExportDescription): Promise<Runtime<tf.Tensor>> {
  const load = async (file: string) => {
    const modelJson = JSON.parse(readFileSync(join(dir, file), 'utf8')) as tf.io.ModelJSON
    const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
      const bytes = readFileSync(join(dir, dirname(file), manifest[0]!.paths[0]!))
      return [manifest.flatMap((group) => group.weights), bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)]
    })
    return await tf.loadGraphModel(tf.io.fromMemory(artifacts))
  }
  const encoder = await load(description.encoder.file)
  const step = await load(description.decoderStep.file)
  const run = (model: tf.GraphModel, feeds: Record<string, tf.Tensor>) => {
    const names = model.outputs.map((o) => o.name)
    const results = model.execute(feeds, names) as tf.Tensor | tf.Tensor[]
    const list = Array.isArray(results) ? results : [results]
    return Promise.resolve(Object.fromEntries(names.map((name, i) => [name, list[i]!])))
  }
  return {
    encoder: (feeds) => run(encoder, feeds),
    step: (feeds) => run(step, feeds),
    ids: (values, dims) => tf.tensor(values, dims, 'int32'),
    floats: (values, dims) => tf.tensor(Float32Array.from(values), dims, 'float32'),
    read: async (tensor) => (await tensor.data()) as Float32Array,
    release: async () => {
      encoder.dispose()
      step.dispose()
    },
  }
}

/** Greedy translation with nothing but a runtime (onnxruntime-node or plain tfjs), sentencepiece-js and the exported folder's model.json. */
async function translateOutside(dir: string, texts: string[]): Promise<string[]> {
  const description = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ExportDescription
  return description.format === 'onnx' ? await greedyLoop(dir, description, await onnxRuntime(dir, description), texts) : await greedyLoop(dir, description, await tfjsRuntime(dir, description), texts)
}

async function greedyLoop<T>(dir: string, description: ExportDescription, runtime: Runtime<T>, texts: string[]): Promise<string[]> {
  const { SentencePieceProcessor } = await import('@sctg/sentencepiece-js')
  const processor = async (file: string) => {
    const spm = new SentencePieceProcessor()
    await spm.loadFromB64StringModel(readFileSync(join(dir, file)).toString('base64'))
    return spm
  }
  const [srcSpm, tgtSpm] = [await processor(description.tokenizers.source), await processor(description.tokenizers.target)]
  const { loop } = description
  const out: string[] = []
  for (const text of texts) {
    const ids = srcSpm.encodeIds(text)
    if (description.maxSourceLength !== undefined) assert.ok(ids.length <= description.maxSourceLength)
    const inputs = { src: runtime.ids(ids, [1, ids.length]), src_mask: runtime.floats(ids.map(() => 1), [1, ids.length]) }
    const encoded = await runtime.encoder(inputs)
    const fixed: Record<string, T> = {
      ...Object.fromEntries(Object.entries(loop.passThrough).map(([from, to]) => [to, inputs[from as keyof typeof inputs]])),
      ...Object.fromEntries(Object.entries(loop.encoderToStep).map(([from, to]) => [to, encoded[from]!])),
    }
    let carried: Record<string, T> = {}
    if (loop.initialSelfCaches) {
      const dims = loop.initialSelfCaches.shape.map((d) => (d === 'batch' ? 1 : (d as number)))
      carried = Object.fromEntries(loop.initialSelfCaches.names.map((name) => [name, runtime.floats(new Float32Array(0), dims)]))
    }
    const limit = Math.min(2 * ids.length + 10, loop.maxLength === undefined ? Infinity : loop.maxLength - 1)
    const tokens: number[] = []
    let previous = description.special.target.bos
    for (let t = 0; t < limit; t++) {
      const feeds: Record<string, T> = { ...fixed, ...carried, prev: runtime.ids([previous], [1]), ...(loop.positionInput ? { [loop.positionInput]: runtime.ids([t], [1]) } : {}) }
      const result = await runtime.step(feeds)
      const logits = await runtime.read(result['logits']!)
      let best = 0
      for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v
      if (best === description.special.target.eos) break
      tokens.push(best)
      previous = best
      carried = Object.fromEntries(Object.entries(loop.stepToStep).map(([from, to]) => [to, result[from]!]))
    }
    out.push(tgtSpm.decodeIds(Int32Array.from(tokens)))
  }
  await runtime.release()
  return out
}

const dir = tempDir({ after })
const dbPath = join(dir, 'kotoba.db')

test('a trained seq2seq and a trained Transformer, exported by `kotoba export model`, translate the test split outside the workbench as `kotoba translate --greedy` does', async () => {
  const engine = await Engine.open({ dbPath, loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
  try {
    await importReversalCorpus(engine, dir)
    const training = { maxSteps: 150, tokenBudget: 600, lr: 5e-3, labelSmoothing: 0, logEvery: 50, validEvery: 150, checkpointEvery: 150, validSentences: 20, probes: 1 }
    await engine.handle('runs.create', { name: 'rev-lstm', model: 'seq2seq', corpus: 'reverse', tokenizer: 'letters', seq2seq: { cell: 'lstm', embeddingSize: 32, hiddenSize: 64, dropout: 0 }, training })
    await waitForJob(engine, await engine.handle('runs.start', { name: 'rev-lstm' }))
    await engine.handle('runs.create', { name: 'rev-tf', model: 'transformer', corpus: 'reverse', tokenizer: 'letters', transformer: { dModel: 32, heads: 4, dFF: 64, encoderLayers: 1, decoderLayers: 1, dropout: 0, attentionDropout: 0, maxLength: 32 }, training: { ...training, lr: 2e-3 } })
    await waitForJob(engine, await engine.handle('runs.start', { name: 'rev-tf' }))
  } finally {
    await engine.close()
  }
  const db = openDatabase(dbPath)
  const texts = splitPairs(db, 'reverse', 'test').map((pair) => pair.src)
  db.close()
  assert.equal(texts.length, 40)
  for (const run of ['rev-lstm', 'rev-tf']) {
    const translated = runCli(['--db', dbPath, '--json', 'translate', '--run', run, '--greedy'], { input: `${texts.join('\n')}\n` })
    assert.equal(translated.status, 0, translated.stderr)
    const workbench = parseJsonOutput<TranslateResult>(translated).results.map((r) => r.hypotheses[0]!.text)
    assert.ok(workbench.filter((text, i) => text === texts[i]!.split(' ').reverse().join(' ')).length >= 10, `${run} learned something: ${workbench.slice(0, 5).join(' | ')}`)
    for (const format of ['onnx', 'tfjs'] as const) {
      const out = join(dir, `${run}-${format}`)
      const exported = runCli(['--db', dbPath, '--json', 'export', 'model', '--run', run, '--format', format, '--out', out])
      assert.equal(exported.status, 0, exported.stderr)
      const result = parseJsonOutput<{ files: string[]; checkpointStep: number }>(exported)
      const graphFiles = format === 'onnx' ? ['decoder_step.onnx', 'encoder.onnx'] : ['decoder_step/model.json', 'decoder_step/weights.bin', 'encoder/model.json', 'encoder/weights.bin']
      assert.deepEqual([...result.files].sort(), [...graphFiles, 'letters.model', 'model.json'].sort())
      assert.deepEqual(await translateOutside(out, texts), workbench, `${run}: ${format === 'onnx' ? "onnxruntime's" : "tfjs's"} greedy output is the workbench's`)
    }
  }
  // The tfjs encoder of a seq2seq run reads as far as it was unrolled: the default is the run's maxTokens, or as asked.
  const unrolled = JSON.parse(readFileSync(join(dir, 'rev-lstm-tfjs', 'model.json'), 'utf8')) as ExportDescription
  assert.equal(unrolled.maxSourceLength, 80)
  const shorter = runCli(['--db', dbPath, '--json', 'export', 'model', '--run', 'rev-lstm', '--format', 'tfjs', '--max-source-length', '12', '--out', join(dir, 'rev-lstm-tfjs-12')])
  assert.equal(shorter.status, 0, shorter.stderr)
  assert.equal((JSON.parse(readFileSync(join(dir, 'rev-lstm-tfjs-12', 'model.json'), 'utf8')) as ExportDescription).maxSourceLength, 12)
  const notRecurrent = runCli(['--db', dbPath, '--json', 'export', 'model', '--run', 'rev-tf', '--format', 'tfjs', '--max-source-length', '12', '--out', join(dir, 'x')])
  assert.match(parseJsonOutput<{ error: string }>(notRecurrent).error, /maxSourceLength applies to tfjs exports of seq2seq runs/)
  // A folder in use is not overwritten unless asked; a dialogue run or a missing checkpoint is refused plainly.
  const again = runCli(['--db', dbPath, '--json', 'export', 'model', '--run', 'rev-lstm', '--out', join(dir, 'rev-lstm-onnx')])
  assert.notEqual(again.status, 0)
  assert.match(parseJsonOutput<{ error: string }>(again).error, /is not empty; choose another folder, or replace the export's files there with --force/)
  const missing = runCli(['--db', dbPath, '--json', 'export', 'model', '--run', 'rev-lstm', '--checkpoint', '7', '--out', join(dir, 'x')])
  assert.match(parseJsonOutput<{ error: string }>(missing).error, /run 'rev-lstm' has no checkpoint at step 7/)
})
