// Post-training int8 quantisation: per-channel weights within half a step of their float values, checkpoints that
// carry int8 matrices and read back, and the int8 matrix product — the wasm SIMD kernel (one thread and the pool) and
// its JavaScript twin on cpu — equal to each other and to the float product of the dequantised weights within the
// activations' own rounding.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Random } from '../models/core/random.ts'
import { dequantizeChannels, quantizeChannels } from '../models/quantization/int8.ts'
import { attachInt8, detachInt8, hasInt8Form, Int8Matrix, int8MatMulKernel, matMulWeights } from '../models/quantization/int8-matmul.ts'
import { quantizeWeights } from '../models/quantization/quantize-weights.ts'
import { decodeTensors, encodeTensors } from '../models/train/checkpoint-codec.ts'
import { disposeTranslationBatch, makeTranslationBatch } from '../models/translation/batch.ts'
import { createTranslationModel, type ModelSpec } from '../models/translation/model.ts'
import { encodeWeights, restoreWeights } from '../main/engine/training/model-state.ts'

const randomValues = (random: Random, size: number, scale = 1) => Float32Array.from({ length: size }, () => random.normal() * scale)

test('per-channel int8: each weight within half its channel’s step, the largest exactly ±127 steps, zero channels stay zero', () => {
  const random = new Random(1)
  const [rows, cols] = [13, 6]
  const values = randomValues(random, rows * cols)
  values.fill(0, 0, cols) // row 0 all zeros
  for (let c = 0; c < cols; c++) values[rows * cols - cols + c]! *= 10 ** (c - 3) // channels of very different scales
  for (const axis of [0, 1] as const) {
    const q = quantizeChannels(values, [rows, cols], axis)
    assert.equal(q.stride % 8, 0)
    assert.equal(q.channels, axis === 0 ? rows : cols)
    const back = dequantizeChannels(q, axis)
    for (let i = 0; i < values.length; i++) {
      const channel = axis === 0 ? Math.floor(i / cols) : i % cols
      assert.ok(Math.abs(back[i]! - values[i]!) <= q.scales[channel]! / 2 + 1e-7, `axis ${axis}, element ${i}`)
    }
    for (let c = 0; c < q.channels; c++) {
      const row = q.values.subarray(c * q.stride, (c + 1) * q.stride)
      const largest = Math.max(...[...row].map(Math.abs))
      assert.ok(largest === 127 || largest === 0, `channel ${c} uses the full range`)
      assert.deepEqual([...row.subarray(q.inner)], new Array(q.stride - q.inner).fill(0), 'padding is zero')
    }
  }
})

test('a checkpoint with int8 matrices is about a quarter of the float one and reads back with its scales and channels', () => {
  const random = new Random(2)
  const arrays = [
    { name: 'src_embedding/table', shape: [40, 24], values: randomValues(random, 960) },
    { name: 'encoder/kernel', shape: [24, 96], values: randomValues(random, 2304, 0.1) },
    { name: 'encoder/bias', shape: [96], values: randomValues(random, 96) },
    { name: 'output/kernel', shape: [96, 40], values: randomValues(random, 3840) },
  ]
  const floatBlob = encodeTensors(arrays)
  const all = quantizeWeights(arrays, { embeddings: true, output: true })
  assert.deepEqual(all.layers.map((l) => l.name), ['src_embedding/table', 'encoder/kernel', 'output/kernel'], 'matrices only, never vectors')
  for (const layer of all.layers) assert.ok(layer.relativeError > 0 && layer.relativeError < 0.01, `${layer.name}: ‖W − Ŵ‖/‖W‖ ${layer.relativeError}`)
  const blob = encodeTensors(all.arrays)
  assert.ok(blob.byteLength < floatBlob.byteLength * 0.3, `${blob.byteLength} vs ${floatBlob.byteLength}`)
  const back = decodeTensors(blob)
  assert.deepEqual(back.map((a) => [a.name, a.shape, a.int8?.channelAxis ?? null]), [
    ['src_embedding/table', [40, 24], 0],
    ['encoder/kernel', [24, 96], 1],
    ['encoder/bias', [96], null],
    ['output/kernel', [96, 40], 1],
  ])
  assert.deepEqual(back[2]!.values, arrays[2]!.values, 'vectors stay exact')
  back.forEach((array, i) => {
    const original = all.arrays[i]!
    if (!original.int8) return
    assert.deepEqual(array.int8!.values, original.int8.values)
    assert.deepEqual(array.int8!.scales, original.int8.scales)
    assert.deepEqual(array.values, dequantizeChannels(original.int8, original.int8.channelAxis))
  })
  // Kept float on request: the embeddings and the output layer keep their exact values.
  const partial = quantizeWeights(arrays, { embeddings: false, output: false })
  assert.deepEqual(partial.layers.map((l) => l.name), ['encoder/kernel'])
  const partialBack = decodeTensors(encodeTensors(partial.arrays))
  assert.deepEqual(partialBack[0]!.values, arrays[0]!.values)
  assert.deepEqual(partialBack[3]!.values, arrays[3]!.values)
  // Truncation is an error, not garbage.
  assert.throws(() => decodeTensors(blob.subarray(0, blob.byteLength - 5)), /truncated/)
})

/** x·W through the int8 form of W [k, n] on the active backend, and the float product with the dequantised W. */
function products(x: Float32Array, w: Float32Array, m: number, k: number, n: number): { int8: Float32Array; float: Float32Array } {
  const q = quantizeChannels(w, [k, n], 1)
  const weight = tf.tidy(() => tf.variable(tf.tensor2d(dequantizeChannels(q, 1), [k, n])))
  const input = tf.tensor2d(x, [m, k])
  const float = tf.matMul(input, weight)
  attachInt8(weight, new Int8Matrix(q))
  assert.ok(hasInt8Form(weight))
  const int8 = matMulWeights(input, weight)
  const result = { int8: int8.dataSync() as Float32Array, float: float.dataSync() as Float32Array }
  detachInt8(weight)
  tf.dispose([weight, input, float, int8])
  return result
}

const shapes: [number, number, number][] = [
  [1, 8, 4],
  [1, 13, 1],
  [2, 64, 7],
  [3, 100, 33],
  [5, 256, 517], // beam 5 over an output layer: threaded
  [37, 200, 96],
  [64, 512, 1000], // a batch through a wide layer: threaded
]

test('the int8 product: wasm (SIMD, on the pool) equals its cpu twin, both within the activations’ rounding of the float product; no tensor leaks', async () => {
  const random = new Random(3)
  const cases = shapes.map(([m, k, n]) => ({ m, k, n, x: randomValues(random, m * k), w: randomValues(random, k * n, 0.2) }))
  const results = new Map<string, { int8: Float32Array; float: Float32Array }[]>()
  for (const backend of ['cpu', 'wasm'] as const) {
    await selectBackend(backend)
    const before = tf.memory().numTensors
    results.set(backend, cases.map(({ m, k, n, x, w }) => products(x, w, m, k, n)))
    assert.equal(tf.memory().numTensors, before, `${backend}: no tensor left behind`)
  }
  cases.forEach(({ m, k, n, x, w }, index) => {
    const cpu = results.get('cpu')![index]!
    const wasm = results.get('wasm')![index]!
    // Activations round by at most half a step of max|x_i|/127; the product's error is bounded by that times Σ|w|.
    for (let i = 0; i < m; i++) {
      const row = x.subarray(i * k, (i + 1) * k)
      const step = Math.max(...[...row].map(Math.abs)) / 127
      for (let j = 0; j < n; j++) {
        let absSum = 0
        for (let p = 0; p < k; p++) absSum += Math.abs(w[p * n + j]!)
        const bound = (step / 2) * absSum * 1.01 + 1e-4
        const at = i * n + j
        assert.ok(Math.abs(wasm.int8[at]! - cpu.int8[at]!) <= 1e-5 * (1 + Math.abs(cpu.int8[at]!)), `[${m}, ${k}, ${n}] (${i}, ${j}): wasm ${wasm.int8[at]} cpu ${cpu.int8[at]}`)
        assert.ok(Math.abs(wasm.int8[at]! - wasm.float[at]!) <= bound, `[${m}, ${k}, ${n}] (${i}, ${j}): int8 ${wasm.int8[at]} float ${wasm.float[at]} bound ${bound}`)
      }
    }
  })
  // Overall the int8 product is close: relative Frobenius error well under 1 %.
  const last = results.get('wasm')!.at(-1)!
  let error = 0
  let norm = 0
  last.float.forEach((value, i) => ((error += (last.int8[i]! - value) ** 2), (norm += value ** 2)))
  assert.ok(Math.sqrt(error / norm) < 0.01, `relative error ${Math.sqrt(error / norm)}`)
})

test('quantised models — a Transformer with a tied output layer, a bidirectional LSTM with attention — run their products in int8 and stay within about 1 % of their float logits', async () => {
  await selectBackend('wasm')
  const specs: ModelSpec[] = [
    { kind: 'transformer', transformer: { dModel: 32, heads: 4, dFF: 64, encoderLayers: 2, decoderLayers: 2, dropout: 0, attentionDropout: 0, norm: 'pre', positions: 'sinusoidal', shareEmbeddings: 'target-output', maxLength: 32 } },
    { kind: 'seq2seq', seq2seq: { cell: 'lstm', embeddingSize: 32, hiddenSize: 48, encoderLayers: 1, decoderLayers: 1, bidirectional: true, attention: 'luong', inputFeeding: true, dropout: 0 } },
  ]
  const random = new Random(5)
  const pairs = Array.from({ length: 6 }, () => ({ src: Array.from({ length: 3 + random.integer(6) }, () => 3 + random.integer(37)), tgt: Array.from({ length: 2 + random.integer(6) }, () => 3 + random.integer(37)) }))
  for (const spec of specs) {
    const float = createTranslationModel(spec, { src: 40, tgt: 40 }, 9)
    const quantized = createTranslationModel(spec, { src: 40, tgt: 40 }, 1)
    const { arrays } = quantizeWeights(decodeTensors(await encodeWeights(float)), { embeddings: true, output: true })
    restoreWeights(quantized, encodeTensors(arrays))
    const batch = makeTranslationBatch(pairs, { pad: 0, bos: 1, eos: 2 })
    const before = tf.memory().numTensors
    const reference = float.logits(batch, false)
    let logits: tf.Tensor3D | null = null
    const profile = await tf.profile(() => {
      logits = quantized.logits(batch, false)
      return logits
    })
    assert.ok(profile.kernelNames.includes(int8MatMulKernel), `${spec.kind}: products in int8`)
    const error = tf.tidy(() => logits!.sub(reference).norm().div(reference.norm()).dataSync()[0]!)
    assert.ok(error < 0.02, `${spec.kind}: ‖int8 − float‖/‖float‖ = ${error}`)
    tf.dispose([reference, logits!])
    assert.equal(tf.memory().numTensors, before, `${spec.kind}: no tensor left behind`)
    disposeTranslationBatch(batch)
    float.dispose()
    quantized.dispose()
  }
})
