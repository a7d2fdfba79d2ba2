// The int8 matrix product (post-training quantisation) against the float product it replaces, on the wasm backend
// with the same threads, in the shapes inference runs: a beam of 5 through an 8k output layer, one decoder step
// through a recurrent and a feed-forward layer, and a 20-token encoder pass. Interleaved rounds, medians and spread.
// Writes bench-results/int8-gemm.json.   usage: node --import tsx scripts/bench/int8-gemm.ts [rounds]
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../../main/engine/compute/backends.ts'
import { wasmThreadCount } from '../../main/engine/compute/wasm-threads.ts'
import { packageRoot } from '../../main/engine/paths.ts'
import { Random } from '../../models/core/random.ts'
import { dequantizeChannels, quantizeChannels } from '../../models/quantization/int8.ts'
import { attachInt8, Int8Matrix, matMulWeights } from '../../models/quantization/int8-matmul.ts'

const rounds = Number(process.argv[2] ?? 15)
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const spread = (values: number[]) => `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`

const shapes: { name: string; m: number; k: number; n: number }[] = [
  { name: 'beam 5 × output layer 512→8000', m: 5, k: 512, n: 8000 },
  { name: 'beam 5 × LSTM step 512→2048', m: 5, k: 512, n: 2048 },
  { name: '1 row × feed-forward 512→2048', m: 1, k: 512, n: 2048 },
  { name: '20 tokens × feed-forward 512→2048', m: 20, k: 512, n: 2048 },
  { name: '256 tokens × feed-forward 512→2048', m: 256, k: 512, n: 2048 },
]

async function main(): Promise<void> {
  await selectBackend('wasm')
  const random = new Random(1)
  const results = []
  for (const { name, m, k, n } of shapes) {
    const weights = Float32Array.from({ length: k * n }, () => random.normal() * 0.05)
    const q = quantizeChannels(weights, [k, n], 1)
    const float = tf.variable(tf.tensor2d(weights, [k, n]))
    const quantized = tf.variable(tf.tensor2d(dequantizeChannels(q, 1), [k, n]))
    attachInt8(quantized, new Int8Matrix(q))
    const x = tf.tensor2d(Float32Array.from({ length: m * k }, () => random.normal()), [m, k])
    const repeats = Math.max(1, Math.round(2e8 / (m * k * n)))
    const time = (weight: tf.Variable) => {
      const started = performance.now()
      for (let r = 0; r < repeats; r++) tf.tidy(() => void matMulWeights(x, weight).dataSync())
      return (performance.now() - started) / repeats
    }
    time(float)
    time(quantized)
    const floatMs: number[] = []
    const int8Ms: number[] = []
    for (let round = 0; round < rounds; round++) {
      floatMs.push(time(float))
      int8Ms.push(time(quantized))
    }
    const row = { name, m, k, n, floatMs: median(floatMs), floatRange: spread(floatMs), int8Ms: median(int8Ms), int8Range: spread(int8Ms), speedup: median(floatMs) / median(int8Ms), bytesFloat: 4 * k * n, bytesInt8: q.values.length + 4 * n }
    results.push(row)
    console.log(`  ${name}: float ${row.floatMs.toFixed(3)} ms (${row.floatRange}), int8 ${row.int8Ms.toFixed(3)} ms (${row.int8Range}): ${row.speedup.toFixed(2)}×; weights ${(row.bytesFloat / row.bytesInt8).toFixed(1)}× smaller`)
    tf.dispose([float, quantized, x])
  }
  const threads = wasmThreadCount()
  const out = join(packageRoot(), 'bench-results')
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'int8-gemm.json'), JSON.stringify({ backend: 'wasm', threads, rounds, results }, null, 2))
}

console.log(`int8 vs float matrix product (wasm, ${rounds} interleaved rounds, median):`)
await main()
