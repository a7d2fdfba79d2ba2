// An update that runs out of memory part-way must leave nothing behind: the same check on every backend, given how
// that backend caps and measures its memory.
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs'
import { isOutOfMemory } from '../../main/engine/compute/out-of-memory.ts'
import { Random } from '../../models/core/random.ts'
import { smoothedCrossEntropy } from '../../models/losses/cross-entropy.ts'
import { Seq2SeqModel } from '../../models/seq2seq/model.ts'
import { Adam } from '../../models/train/adam.ts'
import { trainUpdate, UpdateNotAppliedError, type DeviceErrorWatch } from '../../models/train/train-step.ts'
import { disposeBatch, makeToyBatch } from './toy-tasks.ts'

export interface MemoryControl {
  /** Bytes the backend holds now, and at most since resetPeak. */
  usage(): { heldBytes: number; peakBytes: number }
  resetPeak(): void
  /** Caps what the backend may hold (null: no cap). */
  setLimit(bytes: number | null): void
  watch?: () => DeviceErrorWatch | undefined
}

/**
 * Runs updates of an LSTM seq2seq (bidirectional two-layer encoder, input-feeding decoder: the fused layers, stock
 * kernels around them) under caps at six points of one update's measured need, from the first products to the
 * backward pass: each fails unapplied, and leaves the tensors and the bytes held as they were. Then one trains.
 */
export async function assertFailedUpdatesLeaveNothing(memory: MemoryControl): Promise<void> {
  const model = new Seq2SeqModel({ srcVocab: 12, tgtVocab: 12, embeddingSize: 16, hiddenSize: 24, cell: 'lstm', encoderLayers: 2, decoderLayers: 1, bidirectional: true, attention: 'luong', inputFeeding: true, dropout: 0.1, seed: 3 })
  const adam = new Adam()
  const batch = makeToyBatch(new Random(12), 'reverse', 16, 6, 2, 5)
  const lossOf = () => {
    const { logits } = model.forward(batch.src, batch.srcMask, batch.tgtIn, true)
    return smoothedCrossEntropy(logits.reshape([-1, 12]) as tf.Tensor2D, batch.tgtOut, batch.tgtMask, 0.1)
  }
  const update = () => trainUpdate(model.params, lossOf, [{ targetTokens: 80, sourceTokens: 80 }], adam, 1e-3, 1, memory.watch?.())
  try {
    await update() // Adam's state made
    const held = memory.usage().heldBytes
    const tensors = tf.memory().numTensors
    memory.resetPeak()
    await update()
    const needed = memory.usage().peakBytes - held
    for (const share of [0.05, 0.2, 0.4, 0.6, 0.8, 0.95]) {
      memory.setLimit(held + Math.floor(share * needed))
      await assert.rejects(update(), (error: unknown) => error instanceof UpdateNotAppliedError && isOutOfMemory(error.cause), `out of memory at ${share} of the update's need`)
      memory.setLimit(null)
      assert.equal(tf.memory().numTensors, tensors, `tensors left by the pass that failed at ${share} of its need`)
      assert.equal(memory.usage().heldBytes, held, `bytes left held by the pass that failed at ${share} of its need`)
    }
    assert.ok(Number.isFinite((await update()).loss), 'and the next update trains')
  } finally {
    memory.setLimit(null)
    disposeBatch(batch)
    adam.dispose()
    model.dispose()
  }
}
