import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { Seq2SeqModel } from '../models/seq2seq/model.ts'
import { TransformerModel } from '../models/transformer/model.ts'
import { Adam } from '../models/train/adam.ts'
import { trainUpdate } from '../models/train/train-step.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { smallModels, smallVocab, paddedBatch } from '../tests/support/kernel-cases.ts'
import { deviceUpdateWatch } from '../main/engine/compute/webgpu-memory.ts'
import { countGpuWork } from '../scripts/bench/gpu-counters.ts'
await selectBackend('webgpu')
for (const kind of ['lstm', 'lstmFeeding', 'transformer'] as const) {
  const { src, tgtIn, tgtOut, mask } = paddedBatch()
  const model = kind === 'transformer' ? new TransformerModel(smallModels.transformer) : new Seq2SeqModel(smallModels[kind])
  const adam = new Adam()
  const lossOf = () => {
    const logits = model instanceof TransformerModel ? model.forward(src, mask, tgtIn, mask, true).logits : model.forward(src, mask, tgtIn, true).logits
    return smoothedCrossEntropy(logits.reshape([-1, smallVocab]) as tf.Tensor2D, tgtOut, mask.reshape([-1]) as tf.Tensor1D, 0.1)
  }
  const created: number[] = []
  for (let step = 0; step < 5; step++) {
    const stop = countGpuWork()
    await trainUpdate(model.params, lossOf, [{ targetTokens: 25, sourceTokens: 25 }], adam, 1e-2, 0.25, deviceUpdateWatch())
    created.push((await stop()).buffersCreated)
  }
  console.log(kind, 'buffers created per update', created.join(' '))
}
