// What the training core and the decoders need from any translation model, and how each kind is built.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import type { StepDecoder } from '../decode/step-decoder.ts'
import { smoothedCrossEntropy } from '../losses/cross-entropy.ts'
import { Seq2SeqModel, type Seq2SeqConfig } from '../seq2seq/model.ts'
import { Seq2SeqStepDecoder } from '../seq2seq/step-decoder.ts'
import { TransformerModel, type TransformerConfig } from '../transformer/model.ts'
import { TransformerStepDecoder } from '../transformer/step-decoder.ts'
import type { TranslationBatch } from './batch.ts'

export type Seq2SeqSpec = Omit<Seq2SeqConfig, 'srcVocab' | 'tgtVocab' | 'seed'>
export type TransformerSpec = Omit<TransformerConfig, 'srcVocab' | 'tgtVocab' | 'seed'>

export type ModelSpec = { kind: 'seq2seq'; seq2seq: Seq2SeqSpec } | { kind: 'transformer'; transformer: TransformerSpec }

export interface TranslationModel {
  readonly params: ParameterStore
  /** Mean cross-entropy per real target token (label-smoothed when smoothing > 0). */
  loss(batch: TranslationBatch, training: boolean, smoothing: number): tf.Scalar
  /** Greedy, beam and sampling search over this model. */
  stepDecoder(): StepDecoder<unknown>
  parameterCount(): number
  dispose(): void
}

class Seq2SeqTranslation implements TranslationModel {
  private readonly model: Seq2SeqModel
  constructor(config: Seq2SeqConfig) {
    this.model = new Seq2SeqModel(config)
  }
  get params(): ParameterStore {
    return this.model.params
  }
  loss(batch: TranslationBatch, training: boolean, smoothing: number): tf.Scalar {
    return tf.tidy(() => {
      const { logits } = this.model.forward(batch.src, batch.srcMask, batch.tgtIn, training)
      return smoothedCrossEntropy(logits.reshape([-1, this.model.config.tgtVocab]) as tf.Tensor2D, batch.tgtOut, batch.tgtOutMask, smoothing)
    })
  }
  stepDecoder(): StepDecoder<unknown> {
    return new Seq2SeqStepDecoder(this.model) as StepDecoder<unknown>
  }
  parameterCount(): number {
    return this.model.parameterCount()
  }
  dispose(): void {
    this.model.dispose()
  }
}

class TransformerTranslation implements TranslationModel {
  private readonly model: TransformerModel
  constructor(config: TransformerConfig) {
    this.model = new TransformerModel(config)
  }
  get params(): ParameterStore {
    return this.model.params
  }
  loss(batch: TranslationBatch, training: boolean, smoothing: number): tf.Scalar {
    return tf.tidy(() => {
      const { logits } = this.model.forward(batch.src, batch.srcMask, batch.tgtIn, batch.tgtInMask, training)
      return smoothedCrossEntropy(logits.reshape([-1, this.model.config.tgtVocab]) as tf.Tensor2D, batch.tgtOut, batch.tgtOutMask, smoothing)
    })
  }
  stepDecoder(): StepDecoder<unknown> {
    return new TransformerStepDecoder(this.model) as StepDecoder<unknown>
  }
  parameterCount(): number {
    return this.model.parameterCount()
  }
  dispose(): void {
    this.model.dispose()
  }
}

export function createTranslationModel(spec: ModelSpec, vocab: { src: number; tgt: number }, seed: number): TranslationModel {
  return spec.kind === 'seq2seq'
    ? new Seq2SeqTranslation({ ...spec.seq2seq, srcVocab: vocab.src, tgtVocab: vocab.tgt, seed })
    : new TransformerTranslation({ ...spec.transformer, srcVocab: vocab.src, tgtVocab: vocab.tgt, seed })
}
