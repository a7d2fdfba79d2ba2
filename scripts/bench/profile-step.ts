// Profiles one training step of a reference model by kernel: node --import tsx scripts/bench/profile-step.ts <lstm|transformer> [backend]
import * as tf from '@tensorflow/tfjs'
import { parseBackendName, selectBackend } from '../../main/engine/compute/backends.ts'
import { Random } from '../../models/core/random.ts'
import { smoothedCrossEntropy } from '../../models/losses/cross-entropy.ts'
import { Seq2SeqModel } from '../../models/seq2seq/model.ts'
import { Adam } from '../../models/train/adam.ts'
import { trainUpdate } from '../../models/train/train-step.ts'
import { TransformerModel } from '../../models/transformer/model.ts'
import { batchShape, lstmConfig, transformerConfig } from './configs.ts'

const [modelName = 'lstm', backendName = 'wasm'] = process.argv.slice(2)
await selectBackend(parseBackendName(backendName))
const { batch, srcLen, tgtLen, vocab } = batchShape
const random = new Random(0)
const ids = (length: number) => tf.tensor2d(Int32Array.from({ length: batch * length }, () => random.integer(vocab)), [batch, length], 'int32')
const src = ids(srcLen), tgtIn = ids(tgtLen), tgtOut = ids(tgtLen).reshape([-1]) as tf.Tensor1D
const srcMask = tf.ones([batch, srcLen]) as tf.Tensor2D, tgtMask = tf.ones([batch, tgtLen]) as tf.Tensor2D, tokenMask = tf.ones([batch * tgtLen]) as tf.Tensor1D
const model = modelName === 'transformer' ? new TransformerModel(transformerConfig) : new Seq2SeqModel(lstmConfig)
const logits = (): tf.Tensor3D => model instanceof TransformerModel ? model.forward(src, srcMask, tgtIn, tgtMask, true).logits : model.forward(src, srcMask, tgtIn, true).logits
const optimizer = new Adam()
const lossOf = () => smoothedCrossEntropy(logits().reshape([-1, vocab]) as tf.Tensor2D, tgtOut, tokenMask)
const step = () => trainUpdate(model.params, lossOf, [{ targetTokens: batch * tgtLen, sourceTokens: batch * srcLen }], optimizer, 1e-3, Infinity)
await step()
// Time each kernel: wrap every registered kernel of the backend.
const totals = new Map<string, { ms: number; n: number }>()
const backend = tf.getBackend()
for (const k of tf.getKernelsForBackend(backend)) {
  const f = k.kernelFunc
  tf.unregisterKernel(k.kernelName, backend)
  tf.registerKernel({ ...k, kernelFunc: (args) => {
    const t = performance.now(); const out = f(args); const dt = performance.now() - t
    const shapes = Object.values(args.inputs).map((i) => (i as tf.TensorInfo).shape.join('x')).join(',')
    const attrs = k.kernelName === 'BatchMatMul' || k.kernelName === '_FusedMatMul' ? JSON.stringify([(args.attrs as any).transposeA, (args.attrs as any).transposeB]) : ''
    const key = process.env.DETAIL ? `${k.kernelName} ${shapes} ${attrs}` : k.kernelName
    const e = totals.get(key) ?? { ms: 0, n: 0 }; e.ms += dt; e.n++; totals.set(key, e); return out } })
}
const t0 = performance.now()
await step()
const total = performance.now() - t0
const rows = [...totals].sort((a, b) => b[1].ms - a[1].ms)
let sum = 0
for (const [, v] of rows) sum += v.ms
console.log(`step ${total.toFixed(0)} ms, kernels ${sum.toFixed(0)} ms`)
for (const [k, v] of rows.slice(0, Number(process.env.TOP ?? 30))) console.log(`${v.ms.toFixed(1).padStart(8)} ms ${String(v.n).padStart(5)}x  ${k}`)
process.exit(0)
