// Where a training step's time goes, kernel by kernel (not part of `npm run bench`; a tool for kernel work):
// node --import tsx scripts/bench/profile-step.ts <lstm|transformer|transformer-big|hred|hred-tiny> [backend]; DETAIL=1 splits by
// input shapes (and matmul transposes), TOP=n rows, LAYERS=n gives transformer-big n + n layers (a step of all 6 + 6 takes minutes on
// wasm), WARMUP=n warm-up steps (2). Kernel times are wall times on the calling thread.
import * as tf from '@tensorflow/tfjs'
import { parseBackendName, selectBackend } from '../../main/engine/compute/backends.ts'
import { Random } from '../../models/core/random.ts'
import { Seq2SeqModel } from '../../models/seq2seq/model.ts'
import { Adam } from '../../models/train/adam.ts'
import { trainUpdate } from '../../models/train/train-step.ts'
import { TransformerModel } from '../../models/transformer/model.ts'
import { batchShape, benchDialogueBatch, benchIds, benchTranslationLoss, bigBatchShape, hredConfig, hredTinyConfig, lstmConfig, transformerBigConfig, transformerConfig } from './configs.ts'
import { DialogueModel } from '../../models/dialogue/hred.ts'

const [modelName = 'lstm', backendName = 'wasm'] = process.argv.slice(2)
await selectBackend(parseBackendName(backendName))
const { batch, srcLen, tgtLen, vocab } = modelName === 'transformer-big' ? bigBatchShape : batchShape
const ids = benchIds(batch, vocab, new Random(0))
const translationLoss = benchTranslationLoss({ batch, srcLen, tgtLen, vocab }, ids)
const model =
  modelName === 'transformer'
    ? new TransformerModel(transformerConfig)
    : modelName === 'transformer-big'
      ? new TransformerModel({ ...transformerBigConfig, ...(process.env.LAYERS ? { encoderLayers: Number(process.env.LAYERS), decoderLayers: Number(process.env.LAYERS) } : {}) })
      : modelName.startsWith('hred') ? new DialogueModel(modelName === 'hred' ? hredConfig : hredTinyConfig) : new Seq2SeqModel(lstmConfig)
const dialogueBatch = modelName.startsWith('hred') ? benchDialogueBatch(ids) : null
const optimizer = new Adam()
const lossOf = (): tf.Scalar => (model instanceof DialogueModel ? model.losses(dialogueBatch!, true, 0).total : translationLoss(model))
const step = () => trainUpdate(model.params, lossOf, [{ targetTokens: batch * tgtLen, sourceTokens: batch * srcLen }], optimizer, 1e-3, Infinity)
// Two warm-up steps: the second still grows the wasm heap (fresh pages fault on first touch).
for (let warmUp = 0; warmUp < Number(process.env.WARMUP ?? 2); warmUp++) await step()
// Time each kernel: wrap every kernel registered for the backend.
const totals = new Map<string, { ms: number; calls: number }>()
const backend = tf.getBackend()
const keyOf = (kernel: tf.KernelConfig, args: Parameters<tf.KernelFunc>[0]): string => {
  if (!process.env.DETAIL) return kernel.kernelName
  const shapes = Object.values(args.inputs).map((input) => (input as tf.TensorInfo).shape.join('x')).join(',')
  const { transposeA, transposeB } = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean }
  return `${kernel.kernelName} ${shapes}${transposeA === undefined ? '' : ` [${transposeA},${transposeB}]`}`
}
for (const kernel of tf.getKernelsForBackend(backend)) {
  const run = kernel.kernelFunc
  tf.unregisterKernel(kernel.kernelName, backend)
  tf.registerKernel({
    ...kernel,
    kernelFunc: (args) => {
      const started = performance.now()
      const out = run(args)
      const entry = totals.get(keyOf(kernel, args)) ?? { ms: 0, calls: 0 }
      entry.ms += performance.now() - started
      entry.calls++
      totals.set(keyOf(kernel, args), entry)
      return out
    },
  })
}
const t0 = performance.now()
await step()
const total = performance.now() - t0
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms)
const inKernels = rows.reduce((sum, [, { ms }]) => sum + ms, 0)
console.log(`step ${total.toFixed(0)} ms, in kernels ${inKernels.toFixed(0)} ms`)
for (const [key, { ms, calls }] of rows.slice(0, Number(process.env.TOP ?? 30))) console.log(`${ms.toFixed(1).padStart(8)} ms ${String(calls).padStart(5)}×  ${key}`)
process.exit(0)
