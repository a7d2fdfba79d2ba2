// Synthetic sequence tasks (copy, reverse) for training tests: padded batches with BOS/EOS.
import * as tf from '@tensorflow/tfjs'
import { Random } from '../../models/core/random.ts'

export const PAD = 0
export const BOS = 1
export const EOS = 2
export const FIRST_SYMBOL = 3

export interface ToyBatch {
  src: tf.Tensor2D // [B, S] int32
  srcMask: tf.Tensor2D // [B, S]
  tgtIn: tf.Tensor2D // [B, T] BOS + target
  tgtOut: tf.Tensor1D // [B·T] target + EOS, flattened
  tgtMask: tf.Tensor1D // [B·T]
  sequences: number[][]
  targets: number[][]
}

export function makeToyBatch(random: Random, task: 'copy' | 'reverse', batch: number, symbols: number, minLength: number, maxLength: number): ToyBatch {
  const sequences = Array.from({ length: batch }, () =>
    Array.from({ length: minLength + random.integer(maxLength - minLength + 1) }, () => FIRST_SYMBOL + random.integer(symbols)),
  )
  const targets = sequences.map((s) => (task === 'copy' ? [...s] : [...s].reverse()))
  const srcLen = Math.max(...sequences.map((s) => s.length))
  const tgtLen = srcLen + 1
  const pad = (row: number[], length: number) => [...row, ...new Array<number>(length - row.length).fill(PAD)]
  return {
    src: tf.tensor2d(sequences.map((s) => pad(s, srcLen)), undefined, 'int32'),
    srcMask: tf.tensor2d(sequences.map((s) => pad(s.map(() => 1), srcLen))),
    tgtIn: tf.tensor2d(targets.map((t) => pad([BOS, ...t], tgtLen)), undefined, 'int32'),
    tgtOut: tf.tensor1d(targets.flatMap((t) => pad([...t, EOS], tgtLen)), 'int32'),
    tgtMask: tf.tensor1d(targets.flatMap((t) => pad([...t, EOS].map(() => 1), tgtLen))),
    sequences,
    targets,
  }
}

export function disposeBatch(batch: ToyBatch): void {
  for (const tensor of [batch.src, batch.srcMask, batch.tgtIn, batch.tgtOut, batch.tgtMask]) tensor.dispose()
}
