import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { TransformerModel } from '../models/transformer/model.ts'
import { Adam } from '../models/train/adam.ts'
import { trainUpdate } from '../models/train/train-step.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { Random } from '../models/core/random.ts'
import { smallModels, smallVocab } from '../tests/support/kernel-cases.ts'
import { deviceUpdateWatch } from '../main/engine/compute/webgpu-memory.ts'
await selectBackend('webgpu')
const manager = (tf.backend() as unknown as { bufferManager: { numBytesAllocated: number; numBytesUsed: number; freeBuffers: Map<string, unknown[]> } }).bufferManager
const vocab = 2000
const model = new TransformerModel({ ...smallModels.transformer, srcVocab: vocab, tgtVocab: vocab, dModel: 32, dFF: 64 })
const adam = new Adam()
const random = new Random(3)
const budget = 600
for (let step = 1; step <= 40; step++) {
  const length = 4 + random.integer(40)
  const batch = Math.max(1, Math.floor(budget / length))
  const ids = () => tf.tensor2d(Int32Array.from({ length: batch * length }, () => 1 + random.integer(vocab - 1)), [batch, length], 'int32')
  const src = ids(), tgtIn = ids(), tgtOut = ids().reshape([-1]) as tf.Tensor1D
  const mask = tf.ones([batch, length]) as tf.Tensor2D
  const lossOf = () => smoothedCrossEntropy(model.forward(src, mask, tgtIn, mask, true).logits.reshape([-1, vocab]) as tf.Tensor2D, tgtOut, mask.reshape([-1]) as tf.Tensor1D, 0.1)
  const { loss } = await trainUpdate(model.params, lossOf, [{ targetTokens: batch * length, sourceTokens: batch * length }], adam, 1e-3, 1, deviceUpdateWatch())
  tf.dispose([src, tgtIn, tgtOut, mask])
  if (step % 5 === 0) console.log(step, `[${batch}×${length}]`, loss.toFixed(3), "peak", (0).toFixed(0), 'allocated MiB', (manager.numBytesAllocated / 2 ** 20).toFixed(1), 'used MiB', (manager.numBytesUsed / 2 ** 20).toFixed(1), 'sizes', manager.freeBuffers.size)
}
