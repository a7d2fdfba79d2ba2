// The host's share of a webgpu training step (not part of `npm run bench`; a tool for kernel work): the reference
// models shrunk until the device's work is negligible (hidden 8, batch 2, 30 × 30 tokens), so the time to record one
// update's forward and backward — tfjs's engine, our kernels' JS, Dawn's calls — is what is left, per dispatch.
// usage: node --import tsx scripts/bench/webgpu-host-time.ts <lstm|lstm-feeding|transformer>; BENCH_STOCK_KERNELS=1
// runs stock ops; BENCH_SUBMIT_EVERY=n submits every n dispatches (tfjs: 15; a large n keeps a software device from
// running, and taking the CPU, while the host records). Prints one line: RESULT {json}. The first updates are not
// timed: until V8 has optimized the engine's code, recording takes up to twice as long.
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../../main/engine/compute/backends.ts'
import { webGpuFusedKernels } from '../../main/engine/compute/training-kernels.ts'
import { deviceUpdateWatch } from '../../main/engine/compute/webgpu-memory.ts'
import { Random } from '../../models/core/random.ts'
import { Seq2SeqModel } from '../../models/seq2seq/model.ts'
import { Adam } from '../../models/train/adam.ts'
import { trainUpdate } from '../../models/train/train-step.ts'
import { TransformerModel } from '../../models/transformer/model.ts'
import { benchIds, benchTranslationLoss, lstmConfig, lstmFeedingConfig, transformerConfig } from './configs.ts'
import { countGpuWork } from './gpu-counters.ts'

const kind = process.argv[2] ?? 'lstm'
const report = await selectBackend('webgpu')
if (report.active !== 'webgpu') throw new Error(`no webgpu here: ${report.error}`)
const stock = process.env['BENCH_STOCK_KERNELS'] === '1'
const submitEvery = Number(process.env['BENCH_SUBMIT_EVERY'] ?? tf.env().get('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE'))
tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', submitEvery)
if (stock) for (const name of webGpuFusedKernels) tf.unregisterKernel(name, 'webgpu')

const [vocab, batch, length] = [50, 2, 30]
const model =
  kind === 'transformer'
    ? new TransformerModel({ ...transformerConfig, srcVocab: vocab, tgtVocab: vocab, dModel: 16, heads: 2, dFF: 32 })
    : new Seq2SeqModel({ ...(kind === 'lstm-feeding' ? lstmFeedingConfig : lstmConfig), srcVocab: vocab, tgtVocab: vocab, embeddingSize: 8, hiddenSize: 8 })
const translationLoss = benchTranslationLoss({ batch, srcLen: length, tgtLen: length, vocab }, benchIds(batch, vocab, new Random(0)))
const lossOf = (): tf.Scalar => translationLoss(model)

const optimizer = new Adam()
const [warmup, steps] = [20, 20]
const recording: number[] = []
const whole: number[] = []
const update = () => trainUpdate(model.params, lossOf, [{ targetTokens: batch * length, sourceTokens: batch * length }], optimizer, 1e-3, Infinity, deviceUpdateWatch())
for (let i = 0; i < warmup + steps; i++) {
  const started = performance.now()
  // trainUpdate records the gradients synchronously and returns at its first await (the device watch's answer).
  const updated = update()
  const recorded = performance.now()
  await updated
  if (i >= warmup) {
    recording.push(recorded - started)
    whole.push(performance.now() - started)
  }
}
// Counted apart: the counters wrap the device's calls, which the timed updates should not pay for.
const stopCounting = countGpuWork()
await update()
const { byKernel: _byKernel, ...counts } = stopCounting()
const { dispatches } = counts
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const round = (value: number) => Number(value.toFixed(1))
console.log(`RESULT ${JSON.stringify({ model: kind, stock, submitEvery, ...counts, recordMs: round(median(recording)), updateMs: round(median(whole)), recordUsPerDispatch: round((1000 * median(recording)) / dispatches) })}`)
process.exit(0)
