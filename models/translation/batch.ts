// Padded tensors for a batch of (source ids, target ids): the encoder input, the teacher-forced decoder
// input (BOS + target) and the decoder output (target + EOS), with masks of real tokens.
import * as tf from '@tensorflow/tfjs'

export interface TranslationBatch {
  src: tf.Tensor2D // [B, S] int32
  srcMask: tf.Tensor2D // [B, S] 1 = token, 0 = padding
  tgtIn: tf.Tensor2D // [B, T] int32, BOS + target
  tgtInMask: tf.Tensor2D // [B, T]
  tgtOut: tf.Tensor1D // [B·T] int32, target + EOS, flattened
  tgtOutMask: tf.Tensor1D // [B·T]
  /** Real target tokens (EOS included): what the loss averages over. */
  targetTokens: number
  sourceTokens: number
}

export function makeTranslationBatch(pairs: readonly { src: number[]; tgt: number[] }[], special: { pad: number; bos: number; eos: number }): TranslationBatch {
  const srcLen = Math.max(1, ...pairs.map((p) => p.src.length))
  const tgtLen = Math.max(...pairs.map((p) => p.tgt.length)) + 1
  const pad = (row: number[], length: number, value: number) => [...row, ...new Array<number>(length - row.length).fill(value)]
  const ones = (length: number) => new Array<number>(length).fill(1)
  return {
    src: tf.tensor2d(pairs.map((p) => pad(p.src, srcLen, special.pad)), [pairs.length, srcLen], 'int32'),
    srcMask: tf.tensor2d(pairs.map((p) => pad(ones(p.src.length), srcLen, 0)), [pairs.length, srcLen]),
    tgtIn: tf.tensor2d(pairs.map((p) => pad([special.bos, ...p.tgt], tgtLen, special.pad)), [pairs.length, tgtLen], 'int32'),
    tgtInMask: tf.tensor2d(pairs.map((p) => pad(ones(p.tgt.length + 1), tgtLen, 0)), [pairs.length, tgtLen]),
    tgtOut: tf.tensor1d(pairs.flatMap((p) => pad([...p.tgt, special.eos], tgtLen, special.pad)), 'int32'),
    tgtOutMask: tf.tensor1d(pairs.flatMap((p) => pad(ones(p.tgt.length + 1), tgtLen, 0))),
    targetTokens: pairs.reduce((sum, p) => sum + p.tgt.length + 1, 0),
    sourceTokens: pairs.reduce((sum, p) => sum + p.src.length, 0),
  }
}

export function disposeTranslationBatch(batch: TranslationBatch): void {
  tf.dispose([batch.src, batch.srcMask, batch.tgtIn, batch.tgtInMask, batch.tgtOut, batch.tgtOutMask])
}
