// What both model-export tests compare with: our model's logits, step by step, on a small padded batch, for every
// seq2seq and Transformer variant an export must cover; and the weights as a checkpoint holds them.
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs'
import type { Seq2SeqModelConfig, TransformerModelConfig } from '../../main/api/contract.ts'
import { encodeWeights } from '../../main/engine/training/model-state.ts'
import { decodeTensors } from '../../models/train/checkpoint-codec.ts'
import { createTranslationModel, type ModelSpec } from '../../models/translation/model.ts'

/** src rows (right-padded with 0) and their masks: one of length 5, one of length 3. */
export const sources = [
  [3, 7, 1, 9, 4],
  [8, 2, 6],
]
export const padded = sources.map((row) => [...row, ...new Array(5 - row.length).fill(0)])
export const maskValues = sources.flatMap((row) => [...row.map(() => 1), ...new Array(5 - row.length).fill(0)])
export const targets = [
  [1, 5, 2, 7],
  [1, 3, 3, 0],
]

/** Our model's logits at each teacher-forced step (through the search interface), and its weights as a checkpoint holds them. */
export async function reference(spec: ModelSpec, vocab: { src: number; tgt: number }): Promise<{ logits: Float32Array[]; weights: Map<string, ReturnType<typeof decodeTensors>[number]> }> {
  const model = createTranslationModel(spec, vocab, 7)
  // Non-zero biases and gains everywhere, so a misplaced bias or norm parameter shows.
  for (const [, variable] of model.params.entries()) tf.tidy(() => variable.assign(variable.add(tf.randomUniform(variable.shape, -0.1, 0.1, 'float32', 3))))
  const decoder = model.stepDecoder()
  const src = tf.tensor2d(padded, [2, 5], 'int32')
  const mask = tf.tensor2d(maskValues, [2, 5])
  let state = decoder.start(src, mask)
  const logits: Float32Array[] = []
  for (let t = 0; t < targets[0]!.length; t++) {
    const previous = tf.tensor1d(targets.map((row) => row[t]!), 'int32')
    const out = decoder.step(previous, state)
    logits.push((await out.logits.data()) as Float32Array)
    decoder.dispose(state)
    state = out.state
    tf.dispose([out.logits, previous])
    out.attention?.dispose()
  }
  decoder.dispose(state)
  tf.dispose([src, mask])
  const weights = new Map(decodeTensors(await encodeWeights(model)).map((a) => [a.name, a]))
  model.dispose()
  return { logits, weights }
}

export function assertClose(actual: Float32Array, expected: Float32Array, label: string): void {
  assert.equal(actual.length, expected.length, label)
  let worst = 0
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (1 + Math.abs(expected[i]!)))
  assert.ok(worst < 2e-4, `${label}: largest relative difference ${worst}`)
}

export const small = { embeddingSize: 6, hiddenSize: 8, dropout: 0 }
export const seq2seqVariants: Seq2SeqModelConfig[] = [
  { ...small, cell: 'lstm', encoderLayers: 2, decoderLayers: 2, bidirectional: true, attention: 'luong', inputFeeding: true },
  { ...small, cell: 'gru', encoderLayers: 1, decoderLayers: 2, bidirectional: false, attention: 'bahdanau', inputFeeding: false },
  { ...small, cell: 'gru', encoderLayers: 2, decoderLayers: 1, bidirectional: true, attention: 'bahdanau', inputFeeding: true },
  { ...small, cell: 'rnn', encoderLayers: 2, decoderLayers: 1, bidirectional: false, attention: 'luong-dot', inputFeeding: true },
  { ...small, cell: 'lstm', encoderLayers: 1, decoderLayers: 1, bidirectional: false, attention: 'none', inputFeeding: false },
]

export const tiny = { dModel: 8, heads: 2, dFF: 16, dropout: 0, attentionDropout: 0, maxLength: 16 }
export const transformerVariants: TransformerModelConfig[] = [
  { ...tiny, encoderLayers: 2, decoderLayers: 2, norm: 'pre', positions: 'sinusoidal', shareEmbeddings: 'none' },
  { ...tiny, encoderLayers: 1, decoderLayers: 2, norm: 'post', positions: 'learned', shareEmbeddings: 'all' },
  { ...tiny, encoderLayers: 2, decoderLayers: 1, norm: 'pre', positions: 'sinusoidal', shareEmbeddings: 'target-output' },
]
