// The RNN encoder-decoder as a StepDecoder: the state is the decoder's recurrent state plus the encoded source.
import * as tf from '@tensorflow/tfjs'
import { tidyResult } from '../core/tidy.ts'
import type { StepDecoder, StepOutput } from '../decode/step-decoder.ts'
import type { DecoderState, Seq2SeqModel } from './model.ts'

export class Seq2SeqStepDecoder implements StepDecoder<DecoderState> {
  constructor(private readonly model: Seq2SeqModel) {}

  start(src: tf.Tensor2D, srcMask: tf.Tensor2D): DecoderState {
    return this.model.encode(src, srcMask)
  }

  step(previous: tf.Tensor1D, state: DecoderState): StepOutput<DecoderState> {
    const out = this.model.step(previous, state)
    // The step shares the encoder tensors with `state`; give the new state its own copies so each state is disposable alone.
    return {
      logits: out.logits,
      attention: out.attention,
      state: { ...out.state, memory: state.memory.clone(), keys: state.keys?.clone() ?? null, srcMask: state.srcMask.clone() },
    }
  }

  select(state: DecoderState, rows: number[]): DecoderState {
    return tidyResult(() => {
      const index = tf.tensor1d(rows, 'int32')
      const pick = <T extends tf.Tensor>(t: T): T => tf.gather(t, index) as T
      return {
        memory: pick(state.memory),
        keys: state.keys ? pick(state.keys) : null,
        srcMask: pick(state.srcMask),
        layers: state.layers.map((layer) => layer.map(pick)),
        feed: state.feed ? pick(state.feed) : null,
      }
    })
  }

  dispose(state: DecoderState): void {
    state.memory.dispose()
    state.keys?.dispose()
    state.srcMask.dispose()
    for (const layer of state.layers) for (const tensor of layer) tensor.dispose()
    state.feed?.dispose()
  }
}
