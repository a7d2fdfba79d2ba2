// ONNX export (kotoba export model): the exported encoder and decoder step, run by onnxruntime-node, give our
// models' logits for every seq2seq variant (LSTM/GRU/RNN, uni- and bidirectional, stacked, each attention, with and
// without input feeding) and Transformer variant (pre/post-LN, sinusoidal/learned positions, shared embeddings),
// padded batches included; and a trained run exported from the CLI translates the test split, greedily, outside the
// workbench (onnxruntime-node, sentencepiece-js and model.json only) exactly as `kotoba translate --greedy` does.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import type { Seq2SeqModelConfig, TransformerModelConfig, TranslateResult } from '../main/api/contract.ts'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Engine } from '../main/engine/engine.ts'
import { seq2seqDecoderStep, seq2seqEncoder, seq2seqShapes } from '../main/engine/export/onnx-seq2seq.ts'
import { transformerDecoderStep, transformerEncoder, transformerShapes } from '../main/engine/export/onnx-transformer.ts'
import { encodeWeights } from '../main/engine/training/model-state.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { splitPairs } from '../main/engine/training/data.ts'
import { openDatabase } from '../main/engine/store/database.ts'
import { decodeTensors } from '../models/train/checkpoint-codec.ts'
import { createTranslationModel, type ModelSpec } from '../models/translation/model.ts'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'
import { importReversalCorpus, waitForJob } from './support/reversal-corpus.ts'

const producer = { name: 'kotoba-test', version: '0' }
type Feeds = Record<string, ort.Tensor>

const int64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims)
const float = (values: Float32Array | number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(values), dims)

/** src rows (right-padded with 0) and their masks: one of length 5, one of length 3. */
const sources = [
  [3, 7, 1, 9, 4],
  [8, 2, 6],
]
const padded = sources.map((row) => [...row, ...new Array(5 - row.length).fill(0)])
const maskValues = sources.flatMap((row) => [...row.map(() => 1), ...new Array(5 - row.length).fill(0)])
const targets = [
  [1, 5, 2, 7],
  [1, 3, 3, 0],
]

/** Our model's logits at each teacher-forced step (through the search interface), and its weights as a checkpoint holds them. */
async function reference(spec: ModelSpec, vocab: { src: number; tgt: number }): Promise<{ logits: Float32Array[]; weights: Map<string, ReturnType<typeof decodeTensors>[number]> }> {
  const model = createTranslationModel(spec, vocab, 7)
  // Non-zero biases and gains everywhere, so a misplaced bias or norm parameter shows.
  for (const [, variable] of model.params.entries()) tf.tidy(() => variable.assign(variable.add(tf.randomUniform(variable.shape, -0.1, 0.1, 'float32', 3))))
  const decoder = model.stepDecoder()
  const src = tf.tensor2d(padded, [2, 5], 'int32')
  const mask = tf.tensor2d(maskValues, [2, 5])
  let state = decoder.start(src, mask)
  const logits: Float32Array[] = []
  for (let t = 0; t < targets[0]!.length; t++) {
    const previous = tf.tensor1d(targets.map((row) => row[t]!), 'int32')
    const out = decoder.step(previous, state)
    logits.push((await out.logits.data()) as Float32Array)
    decoder.dispose(state)
    state = out.state
    tf.dispose([out.logits, previous])
    out.attention?.dispose()
  }
  decoder.dispose(state)
  tf.dispose([src, mask])
  const weights = new Map(decodeTensors(await encodeWeights(model)).map((a) => [a.name, a]))
  model.dispose()
  return { logits, weights }
}

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return await ort.InferenceSession.create(bytes)
}

function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label)
  let worst = 0
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)))
  assert.ok(worst < 2e-4, `${label}: largest relative difference ${worst}`)
}

const batchFeeds = (): Feeds => ({ src: int64(padded.flat(), [2, 5]), src_mask: float(maskValues, [2, 5]) })
const column = (t: number) => int64(targets.map((row) => row[t]!), [2])

before(async () => {
  await selectBackend('wasm')
})

const small = { embeddingSize: 6, hiddenSize: 8, dropout: 0 }
const seq2seqVariants: Seq2SeqModelConfig[] = [
  { ...small, cell: 'lstm', encoderLayers: 2, decoderLayers: 2, bidirectional: true, attention: 'luong', inputFeeding: true },
  { ...small, cell: 'gru', encoderLayers: 1, decoderLayers: 2, bidirectional: false, attention: 'bahdanau', inputFeeding: false },
  { ...small, cell: 'gru', encoderLayers: 2, decoderLayers: 1, bidirectional: true, attention: 'bahdanau', inputFeeding: true },
  { ...small, cell: 'rnn', encoderLayers: 2, decoderLayers: 1, bidirectional: false, attention: 'luong-dot', inputFeeding: true },
  { ...small, cell: 'lstm', encoderLayers: 1, decoderLayers: 1, bidirectional: false, attention: 'none', inputFeeding: false },
]

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

const tiny = { dModel: 8, heads: 2, dFF: 16, dropout: 0, attentionDropout: 0, maxLength: 16 }
const transformerVariants: TransformerModelConfig[] = [
  { ...tiny, encoderLayers: 2, decoderLayers: 2, norm: 'pre', positions: 'sinusoidal', shareEmbeddings: 'none' },
  { ...tiny, encoderLayers: 1, decoderLayers: 2, norm: 'post', positions: 'learned', shareEmbeddings: 'all' },
  { ...tiny, encoderLayers: 2, decoderLayers: 1, norm: 'pre', positions: 'sinusoidal', shareEmbeddings: 'target-output' },
]

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
  tokenizers: { source: string; target: string }
  special: { target: { bos: number; eos: number } }
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

/** Greedy translation with nothing but onnxruntime-node, sentencepiece-js and the exported folder's model.json. */
async function translateOutside(dir: string, texts: string[]): Promise<string[]> {
  const description = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ExportDescription
  const { SentencePieceProcessor } = await import('@sctg/sentencepiece-js')
  const processor = async (file: string) => {
    const spm = new SentencePieceProcessor()
    await spm.loadFromB64StringModel(readFileSync(join(dir, file)).toString('base64'))
    return spm
  }
  const [srcSpm, tgtSpm] = [await processor(description.tokenizers.source), await processor(description.tokenizers.target)]
  const encoder = await ort.InferenceSession.create(join(dir, 'encoder.onnx'))
  const step = await ort.InferenceSession.create(join(dir, 'decoder_step.onnx'))
  const { loop } = description
  const out: string[] = []
  for (const text of texts) {
    const ids = srcSpm.encodeIds(text)
    const inputs: Feeds = { src: int64(ids, [1, ids.length]), src_mask: float(ids.map(() => 1), [1, ids.length]) }
    const encoded = await encoder.run(inputs)
    const fixed: Feeds = {
      ...Object.fromEntries(Object.entries(loop.passThrough).map(([from, to]) => [to, inputs[from]!])),
      ...Object.fromEntries(Object.entries(loop.encoderToStep).filter(([from, to]) => !(to in loop.stepToStep) || true).map(([from, to]) => [to, encoded[from]!])),
    }
    let carried: Feeds = {}
    if (loop.initialSelfCaches) {
      const dims = loop.initialSelfCaches.shape.map((d) => (d === 'batch' ? 1 : (d as number)))
      carried = Object.fromEntries(loop.initialSelfCaches.names.map((name) => [name, float(new Float32Array(0), dims)]))
    }
    const limit = Math.min(2 * ids.length + 10, loop.maxLength === undefined ? Infinity : loop.maxLength - 1)
    const tokens: number[] = []
    let previous = description.special.target.bos
    for (let t = 0; t < limit; t++) {
      const feeds: Feeds = { ...fixed, ...carried, prev: int64([previous], [1]), ...(loop.positionInput ? { [loop.positionInput]: int64([t], [1]) } : {}) }
      const result = await step.run(feeds)
      const logits = result['logits']!.data as Float32Array
      let best = 0
      for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v
      if (best === description.special.target.eos) break
      tokens.push(best)
      previous = best
      carried = Object.fromEntries(Object.entries(loop.stepToStep).map(([from, to]) => [to, result[from]!]))
    }
    out.push(tgtSpm.decodeIds(Int32Array.from(tokens)))
  }
  await Promise.all([encoder.release(), step.release()])
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
    const out = join(dir, `${run}-onnx`)
    const exported = runCli(['--db', dbPath, '--json', 'export', 'model', '--run', run, '--format', 'onnx', '--out', out])
    assert.equal(exported.status, 0, exported.stderr)
    const result = parseJsonOutput<{ files: string[]; checkpointStep: number }>(exported)
    assert.deepEqual([...result.files].sort(), ['decoder_step.onnx', 'encoder.onnx', 'letters.model', 'model.json'])
    const translated = runCli(['--db', dbPath, '--json', 'translate', '--run', run, '--greedy'], { input: `${texts.join('\n')}\n` })
    assert.equal(translated.status, 0, translated.stderr)
    const workbench = parseJsonOutput<TranslateResult>(translated).results.map((r) => r.hypotheses[0]!.text)
    assert.ok(workbench.filter((text, i) => text === texts[i]!.split(' ').reverse().join(' ')).length >= 10, `${run} learned something: ${workbench.slice(0, 5).join(' | ')}`)
    assert.deepEqual(await translateOutside(out, texts), workbench, `${run}: onnxruntime's greedy output is the workbench's`)
  }
  // A folder in use is not overwritten unless asked; a dialogue run or a missing checkpoint is refused plainly.
  const again = runCli(['--db', dbPath, '--json', 'export', 'model', '--run', 'rev-lstm', '--out', join(dir, 'rev-lstm-onnx')])
  assert.notEqual(again.status, 0)
  assert.match(parseJsonOutput<{ error: string }>(again).error, /is not empty; choose another folder, or replace the export's files there with --force/)
  const missing = runCli(['--db', dbPath, '--json', 'export', 'model', '--run', 'rev-lstm', '--checkpoint', '7', '--out', join(dir, 'x')])
  assert.match(parseJsonOutput<{ error: string }>(missing).error, /run 'rev-lstm' has no checkpoint at step 7/)
})
