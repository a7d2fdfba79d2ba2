// Padded tensors for (context turns → response) examples: every context turn as one row of an utterance
// matrix, which turns are real, and the teacher-forced response (BOS + response → response + EOS).
import * as tf from '@tensorflow/tfjs'

export interface DialogueExample {
  /** Position in the training set (stable across epochs). */
  index: number
  /** The context turns, oldest first (at most the model's context length). */
  turns: number[][]
  /** All context pieces in a row: what token-budget batching measures. */
  src: number[]
  tgt: number[]
}

export interface DialogueBatch {
  utterances: tf.Tensor2D // [B·K, L] int32, turn k of example b at row b·K + k
  utteranceMask: tf.Tensor2D // [B·K, L]
  turnMask: tf.Tensor2D // [B, K] 1 = a real turn (turns are left-aligned, padding turns after them)
  tgtIn: tf.Tensor2D // [B, T] int32, BOS + response
  tgtInMask: tf.Tensor2D // [B, T]
  tgtOut: tf.Tensor1D // [B·T] int32, response + EOS
  tgtOutMask: tf.Tensor1D // [B·T]
  targetTokens: number
  sourceTokens: number
}

/** A dialogue example from its turns: the last `maxContext` turns before the response. */
export function dialogueExample(index: number, context: number[][], response: number[], maxContext: number): DialogueExample {
  const turns = context.slice(-maxContext).map((turn) => (turn.length > 0 ? turn : []))
  return { index, turns, src: turns.flat(), tgt: response }
}

export function makeDialogueBatch(examples: readonly Pick<DialogueExample, 'turns' | 'tgt'>[], special: { pad: number; bos: number; eos: number }): DialogueBatch {
  const turnsPerExample = Math.max(1, ...examples.map((e) => e.turns.length))
  const turnLength = Math.max(1, ...examples.flatMap((e) => e.turns.map((t) => t.length)))
  const tgtLen = Math.max(...examples.map((e) => e.tgt.length)) + 1
  const pad = (row: number[], length: number, value: number) => [...row, ...new Array<number>(length - row.length).fill(value)]
  const ones = (length: number) => new Array<number>(length).fill(1)
  const rows = examples.flatMap((e) => Array.from({ length: turnsPerExample }, (_, k) => e.turns[k] ?? []))
  return {
    utterances: tf.tensor2d(rows.map((turn) => pad(turn, turnLength, special.pad)), [rows.length, turnLength], 'int32'),
    utteranceMask: tf.tensor2d(rows.map((turn) => pad(ones(turn.length), turnLength, 0)), [rows.length, turnLength]),
    turnMask: tf.tensor2d(examples.map((e) => pad(ones(e.turns.length), turnsPerExample, 0)), [examples.length, turnsPerExample]),
    tgtIn: tf.tensor2d(examples.map((e) => pad([special.bos, ...e.tgt], tgtLen, special.pad)), [examples.length, tgtLen], 'int32'),
    tgtInMask: tf.tensor2d(examples.map((e) => pad(ones(e.tgt.length + 1), tgtLen, 0)), [examples.length, tgtLen]),
    tgtOut: tf.tensor1d(examples.flatMap((e) => pad([...e.tgt, special.eos], tgtLen, special.pad)), 'int32'),
    tgtOutMask: tf.tensor1d(examples.flatMap((e) => pad(ones(e.tgt.length + 1), tgtLen, 0))),
    targetTokens: examples.reduce((sum, e) => sum + e.tgt.length + 1, 0),
    sourceTokens: examples.reduce((sum, e) => sum + e.turns.reduce((s, t) => s + t.length, 0), 0),
  }
}

export function disposeDialogueBatch(batch: DialogueBatch): void {
  tf.dispose([batch.utterances, batch.utteranceMask, batch.turnMask, batch.tgtIn, batch.tgtInMask, batch.tgtOut, batch.tgtOutMask])
}
