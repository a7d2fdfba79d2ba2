// HRED/VHRED as a StepDecoder, so greedy, beam and sampling search work unchanged. The context reaches `start`
// as src [rows, K·L]: K turns of L pieces each, flattened. VHRED draws z from the prior once per context (all
// beams share it); a different seed gives a different z, i.e. another reply to the same context.
import * as tf from '@tensorflow/tfjs'
import { tidyResult } from '../core/tidy.ts'
import type { StepDecoder, StepOutput } from '../decode/step-decoder.ts'
import type { RecurrentState } from '../rnn/cell.ts'
import { reparameterise } from './gaussian.ts'
import type { DialogueModel } from './hred.ts'

export interface DialogueDecoderState {
  condition: tf.Tensor2D // [rows, C + Z]
  layers: RecurrentState
}

/** Contexts (each a list of turns) as the flattened src the decoder's `start` takes. */
export function contextTensors(contexts: readonly (readonly number[][])[], pad: number): { src: tf.Tensor2D; srcMask: tf.Tensor2D; turnLength: number } {
  const turns = Math.max(1, ...contexts.map((c) => c.length))
  const turnLength = Math.max(1, ...contexts.flatMap((c) => c.map((t) => t.length)))
  const row = (context: readonly number[][], value: (turn: readonly number[], i: number) => number) =>
    Array.from({ length: turns }, (_, k) => Array.from({ length: turnLength }, (_, i) => (context[k] && i < context[k]!.length ? value(context[k]!, i) : -1))).flat()
  const ids = contexts.map((c) => row(c, (turn, i) => turn[i]!).map((v) => (v < 0 ? pad : v)))
  const mask = contexts.map((c) => row(c, () => 1).map((v) => (v < 0 ? 0 : 1)))
  return { src: tf.tensor2d(ids, [contexts.length, turns * turnLength], 'int32'), srcMask: tf.tensor2d(mask, [contexts.length, turns * turnLength]), turnLength }
}

export class DialogueStepDecoder implements StepDecoder<DialogueDecoderState> {
  constructor(
    private readonly model: DialogueModel,
    private readonly turnLength: number,
    /** Seed of the prior sample (VHRED); null decodes from the prior mean. */
    private readonly latentSeed: number | null = null,
  ) {}

  start(src: tf.Tensor2D, srcMask: tf.Tensor2D): DialogueDecoderState {
    return tidyResult(() => {
      const rows = src.shape[0]
      const turns = src.shape[1] / this.turnLength
      const utterances = src.reshape([rows * turns, this.turnLength]) as tf.Tensor2D // [rows·K, L]
      const utteranceMask = srcMask.reshape([rows * turns, this.turnLength]) as tf.Tensor2D
      const turnMask = srcMask.reshape([rows, turns, this.turnLength]).max(2) as tf.Tensor2D // [rows, K]
      const context = this.model.encodeContext(utterances, utteranceMask, turnMask) // [rows, C]
      const condition = this.model.condition(context, this.latent(context))
      return { condition, layers: this.model.initialState(condition) }
    })
  }

  /** VHRED: z drawn from the prior of each context [rows, C] → [rows, Z] (the mean without a seed); HRED: null. */
  latent(context: tf.Tensor2D): tf.Tensor2D | null {
    if (this.model.config.latentSize === 0) return null
    return tf.tidy(() => {
      const prior = this.model.priorOf(context)
      const epsilon = this.latentSeed === null ? tf.zerosLike(prior.mean) : (tf.randomNormal(prior.mean.shape, 0, 1, 'float32', this.latentSeed) as tf.Tensor2D)
      return reparameterise(prior, epsilon) // [rows, Z]
    })
  }

  step(previous: tf.Tensor1D, state: DialogueDecoderState): StepOutput<DialogueDecoderState> {
    const out = this.model.step(previous, state.condition, state.layers)
    return { logits: out.logits, attention: null, state: { condition: state.condition.clone(), layers: out.state } }
  }

  select(state: DialogueDecoderState, rows: number[]): DialogueDecoderState {
    return tidyResult(() => {
      const index = tf.tensor1d(rows, 'int32')
      return { condition: tf.gather(state.condition, index), layers: state.layers.map((t) => tf.gather(t, index)) }
    })
  }

  dispose(state: DialogueDecoderState): void {
    state.condition.dispose()
    tf.dispose(state.layers)
  }
}
