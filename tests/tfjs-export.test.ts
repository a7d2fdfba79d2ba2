// TensorFlow.js export (kotoba export model --format tfjs): the ONNX graphs converted to tfjs graph models, loaded by
// tf.loadGraphModel from their model.json and weights bytes alone, give our models' logits step by step for every
// seq2seq variant (recurrent layers unrolled, a padded batch shorter than the unrolled length) and Transformer variant.
// The end-to-end check (a trained run exported by the CLI translates as `kotoba translate --greedy` does) is in
// model-export.test.ts, beside the ONNX one, so both share one trained run.
import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { seq2seqDecoderStep, seq2seqEncoder, seq2seqShapes } from '../main/engine/export/onnx-seq2seq.ts'
import { transformerDecoderStep, transformerEncoder, transformerShapes } from '../main/engine/export/onnx-transformer.ts'
import { onnxToTfjs } from '../main/engine/export/onnx-to-tfjs.ts'
import type { OnnxGraph } from '../main/engine/export/onnx-graph.ts'
import { assertClose, maskValues, padded, reference, seq2seqVariants, targets, transformerVariants } from './support/export-reference.ts'

type Feeds = Record<string, tf.Tensor>

/** The graph as its files would hold it (JSON text and weight bytes), loaded back as tfjs users load it. */
async function load(graph: OnnxGraph, recurrentSteps: number): Promise<tf.GraphModel> {
  const { json, weights } = onnxToTfjs(graph, { recurrentSteps, weightsPath: 'weights.bin', producer: 'kotoba-test' })
  const modelJson = JSON.parse(JSON.stringify(json)) as tf.io.ModelJSON
  const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => [manifest.flatMap((group) => group.weights), weights.slice().buffer])
  return await tf.loadGraphModel(tf.io.fromMemory(artifacts))
}

function run(model: tf.GraphModel, feeds: Feeds, outputs: string[]): Record<string, tf.Tensor> {
  const results = model.execute(feeds, outputs) as tf.Tensor | tf.Tensor[]
  const list = Array.isArray(results) ? results : [results]
  return Object.fromEntries(outputs.map((name, i) => [name, list[i]!]))
}

const batchFeeds = (): Feeds => ({ src: tf.tensor2d(padded, [2, 5], 'int32'), src_mask: tf.tensor2d(maskValues, [2, 5]) })
const column = (t: number) => tf.tensor1d(targets.map((row) => row[t]!), 'int32')

before(async () => {
  await selectBackend('wasm')
})

test('tfjs seq2seq: every cell, direction, depth and attention, unrolled to 7 steps, gives our logits on a padded batch of length 5', async () => {
  for (const config of seq2seqVariants) {
    const label = `${config.cell} ${config.bidirectional ? 'bi' : 'uni'} ${config.encoderLayers}/${config.decoderLayers} ${config.attention}${config.inputFeeding ? ' +feed' : ''}`
    const vocab = { src: 12, tgt: 10 }
    const ours = await reference({ kind: 'seq2seq', seq2seq: config }, vocab)
    const encoder = await load(seq2seqEncoder(config, ours.weights), 7)
    const step = await load(seq2seqDecoderStep(config, ours.weights, vocab.tgt), 7)
    assert.deepEqual(Object.keys(encoder.inputs.map((i) => i.name)).length, 2, label)
    const shapes = seq2seqShapes(config)
    const carried = [...shapes.states.flat(), ...(shapes.inputFeeding ? ['feed'] : [])]
    const inputs = batchFeeds()
    const encoded = run(encoder, inputs, [...(shapes.attention ? ['memory', 'keys'] : []), ...carried])
    if (shapes.attention) assert.deepEqual(encoded['memory']!.shape, [2, 5, shapes.memorySize], `${label}: memory is cut back to the batch's length`)
    let state: Feeds = Object.fromEntries(carried.map((name) => [name, encoded[name]!]))
    const fixed: Feeds = shapes.attention ? { memory: encoded['memory']!, keys: encoded['keys']!, src_mask: inputs['src_mask']! } : {}
    for (let t = 0; t < targets[0]!.length; t++) {
      const previous = column(t)
      const outputs = ['logits', ...(shapes.attention ? ['attention'] : []), ...carried.map((name) => `next_${name}`)]
      const out = run(step, { prev: previous, ...fixed, ...state }, outputs)
      assertClose((await out['logits']!.data()) as Float32Array, ours.logits[t]!, `${label}, step ${t}`)
      if (shapes.attention) {
        const weights = (await out['attention']!.data()) as Float32Array
        assert.ok(Math.abs(weights[5 + 3]!) < 1e-6 && Math.abs(weights[5 + 4]!) < 1e-6, `${label}: padding gets no attention`)
      }
      tf.dispose([previous, ...Object.values(state), out['logits']!, ...(out['attention'] ? [out['attention']] : [])])
      state = Object.fromEntries(carried.map((name) => [name, out[`next_${name}`]!]))
    }
    tf.dispose([...Object.values(state), ...Object.values(inputs), ...Object.values(encoded).filter((t) => !Object.values(state).includes(t))])
    encoder.dispose()
    step.dispose()
  }
})

test('tfjs seq2seq: a source longer than the unrolled length is refused, not silently cut', async () => {
  const config = seq2seqVariants[0]!
  const ours = await reference({ kind: 'seq2seq', seq2seq: config }, { src: 12, tgt: 10 })
  const encoder = await load(seq2seqEncoder(config, ours.weights), 4)
  const inputs = batchFeeds()
  assert.throws(() => run(encoder, inputs, ['memory']), /shape comprised of positive integers but got shape \[-1\]/)
  tf.dispose(Object.values(inputs))
  encoder.dispose()
})

test('tfjs Transformer: the decoder step with cache inputs gives our incremental decoding’s logits, pre- and post-LN, learned positions, shared embeddings', async () => {
  for (const config of transformerVariants) {
    const label = `${config.norm}-LN ${config.positions} share=${config.shareEmbeddings}`
    const vocab = config.shareEmbeddings === 'all' ? { src: 12, tgt: 12 } : { src: 12, tgt: 10 }
    const ours = await reference({ kind: 'transformer', transformer: config }, vocab)
    const encoder = await load(transformerEncoder(config, ours.weights), 1)
    const step = await load(transformerDecoderStep(config, ours.weights, vocab.tgt), 1)
    const shapes = transformerShapes(config)
    const inputs = batchFeeds()
    const encoded = run(encoder, inputs, shapes.crossCaches)
    const dk = config.dModel / config.heads
    const fixed: Feeds = { src_mask: inputs['src_mask']!, ...encoded }
    let caches: Feeds = Object.fromEntries(shapes.selfCaches.map((name) => [name, tf.zeros([2, config.heads, 0, dk])]))
    for (let t = 0; t < targets[0]!.length; t++) {
      const previous = column(t)
      const position = tf.tensor1d([t], 'int32')
      const out = run(step, { prev: previous, position, ...fixed, ...caches }, ['logits', ...shapes.selfCaches.map((name) => `next_${name}`)])
      assertClose((await out['logits']!.data()) as Float32Array, ours.logits[t]!, `${label}, step ${t}`)
      tf.dispose([previous, position, out['logits']!, ...Object.values(caches)])
      caches = Object.fromEntries(shapes.selfCaches.map((name) => [name, out[`next_${name}`]!]))
      assert.deepEqual(caches[shapes.selfCaches[0]!]!.shape, [2, config.heads, t + 1, dk])
    }
    tf.dispose([...Object.values(caches), ...Object.values(inputs), ...Object.values(encoded)])
    encoder.dispose()
    step.dispose()
  }
})
