// One benchmark process: times Adam training steps of a reference model on one TensorFlow.js backend.
// usage: node --import tsx scripts/bench/tfjs-train.ts <lstm|lstm-feeding|transformer|transformer-big|hred|hred-tiny> <backend> [steps] [warmup]
// Prints one line: RESULT {json}.
import * as tf from '@tensorflow/tfjs'
import { parseBackendName, selectBackend } from '../../main/engine/compute/backends.ts'
import { webGpuFusedKernels } from '../../main/engine/compute/training-kernels.ts'
import { deviceUpdateWatch } from '../../main/engine/compute/webgpu-memory.ts'
import { subgroupsUsable } from '../../main/engine/compute/webgpu-backend.ts'
import { Random } from '../../models/core/random.ts'
import { seedDropout } from '../../models/layers/dropout.ts'
import { DialogueModel } from '../../models/dialogue/hred.ts'
import { Seq2SeqModel } from '../../models/seq2seq/model.ts'
import { Adam } from '../../models/train/adam.ts'
import { trainUpdate } from '../../models/train/train-step.ts'
import { TransformerModel } from '../../models/transformer/model.ts'
import { countGpuWork, timeGpuKernels, type GpuCounts } from './gpu-counters.ts'
import { batchShape, benchDialogueBatch, benchIds, benchTranslationLoss, bigBatchShape, hredConfig, hredTinyConfig, lstmConfig, lstmFeedingConfig, transformerBigConfig, transformerConfig, type BenchModel } from './configs.ts'

const [modelName = 'lstm', backendName = 'wasm', stepsArg = '5', warmupArg = '1'] = process.argv.slice(2)
const steps = Number(stepsArg)
const warmup = Number(warmupArg)
const report = await selectBackend(parseBackendName(backendName))
if (report.active === null) {
  console.log(`RESULT ${JSON.stringify({ model: modelName, backend: backendName, error: report.error })}`)
  process.exit(0)
}
const detail = report.attempts.find((a) => a.status === 'active')!.detail
// BENCH_STOCK_KERNELS=1: hide our fused webgpu kernels, so the models run stock ops (the before of a comparison).
// BENCH_SUBMIT_EVERY=n: submit the recorded work every n dispatches (tfjs's default 15), to weigh submits against an early start.
if (process.env['BENCH_SUBMIT_EVERY']) tf.env().set('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', Number(process.env['BENCH_SUBMIT_EVERY']))
if (process.env['BENCH_STOCK_KERNELS'] === '1' && report.active === 'webgpu') for (const name of webGpuFusedKernels) tf.unregisterKernel(name, 'webgpu')
console.error(`bench: ${modelName} on ${report.active} (${detail})`)

// The same dropout masks in every run of a backend with the fused dropout (losses comparable across code versions).
seedDropout(1)
const name = modelName as BenchModel
const { batch, srcLen, tgtLen, vocab } = name === 'transformer-big' ? bigBatchShape : batchShape
const ids = benchIds(batch, vocab, new Random(0))
const translationLoss = benchTranslationLoss({ batch, srcLen, tgtLen, vocab }, ids)
const dialogueBatch = name.startsWith('hred') ? benchDialogueBatch(ids) : null

const model = name === 'transformer' ? new TransformerModel(transformerConfig) : name === 'transformer-big' ? new TransformerModel(transformerBigConfig) : name === 'hred' ? new DialogueModel(hredConfig) : name === 'hred-tiny' ? new DialogueModel(hredTinyConfig) : new Seq2SeqModel(name === 'lstm-feeding' ? lstmFeedingConfig : lstmConfig)
const lossOf = (): tf.Scalar => (model instanceof DialogueModel ? model.losses(dialogueBatch!, true, 0).total : translationLoss(model))
// The workbench's own update, as its trainer runs it (our Adam, the device's errors watched; no clipping, like the
// PyTorch twin).
const optimizer = new Adam()
const wholeBatch = { targetTokens: batch * tgtLen, sourceTokens: batch * srcLen }
const times: number[] = []
const losses: number[] = []
let stopCounting: (() => GpuCounts) | null = null
for (let i = 0; i < warmup + steps; i++) {
  // On webgpu, what the measured steps ask of the GPU (docs/benchmarks.md reads dispatches per step from it).
  if (i === warmup && report.active === 'webgpu') stopCounting = countGpuWork()
  const started = performance.now()
  const { loss } = await trainUpdate(model.params, lossOf, [wholeBatch], optimizer, 1e-3, Infinity, deviceUpdateWatch())
  const elapsed = performance.now() - started
  losses.push(Number(loss.toFixed(4)))
  if (i >= warmup) times.push(elapsed)
}
const counts = stopCounting?.()
const perStep = (total: number) => Number((total / steps).toFixed(1))
const gpuPerStep = counts ? Object.fromEntries(Object.entries(counts).flatMap(([name, total]) => (typeof total === 'number' ? [[name, perStep(total)]] : []))) : undefined
// BENCH_PROFILE=1: the dispatches per step of each kernel, most first (to stderr: RESULT stays one line).
if (counts && process.env['BENCH_PROFILE'] === '1') {
  for (const [kernel, total] of Object.entries(counts.byKernel).sort((a, b) => b[1] - a[1])) console.error(`  ${String(perStep(total)).padStart(8)}  ${kernel}`)
}
// BENCH_KERNEL_TIMES=1 (webgpu): one more update with every dispatch timed on the GPU, printed as one KERNELS line:
// how long the GPU was busy (against the step's wall time: is the step the host's or the device's?), by kernel.
if (process.env['BENCH_KERNEL_TIMES'] === '1' && report.active === 'webgpu') {
  const stopTiming = timeGpuKernels()
  await trainUpdate(model.params, lossOf, [wholeBatch], optimizer, 1e-3, Infinity, deviceUpdateWatch())
  const timed = stopTiming ? await stopTiming() : null
  const byKernel = timed ? Object.entries(timed.byKernel).sort((a, b) => b[1].ms - a[1].ms).map(([kernel, { dispatches, ms }]) => [kernel, dispatches, Number(ms.toFixed(2))]) : []
  console.log(`KERNELS ${JSON.stringify(timed ? { model: modelName, busyMs: Number(timed.busyMs.toFixed(2)), dispatches: timed.dispatches, untimed: timed.untimed, byKernel } : { model: modelName, error: 'no timestamp queries on this device' })}`)
}
const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!
const tokensPerStep = batch * tgtLen
console.log(
  `RESULT ${JSON.stringify({
    model: modelName,
    backend: report.active,
    detail,
    params: model.parameterCount(),
    steps,
    msPerStepMedian: Number(median.toFixed(1)),
    msPerStep: times.map((t) => Number(t.toFixed(1))),
    tokensPerSec: Number(((tokensPerStep * 1000) / median).toFixed(1)),
    losses,
    peakRssMiB: Number((process.resourceUsage().maxRSS / 1024).toFixed(0)),
    tensors: tf.memory().numTensors,
    ...(gpuPerStep ? { gpuPerStep, wallMsPerDispatch: Number((median / gpuPerStep['dispatches']!).toFixed(3)) } : {}),
    // Whether the row shaders reduced in subgroups (KOTOBA_WEBGPU_SUBGROUPS=0 or a device without them: no).
    ...(report.active === 'webgpu' ? { subgroups: subgroupsUsable((tf.backend() as unknown as { device: Parameters<typeof subgroupsUsable>[0] }).device) } : {}),
  })}`,
)
process.exit(0)
