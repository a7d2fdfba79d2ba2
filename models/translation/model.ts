// What the training core and the decoders need from any translation model, and how each kind is built.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import type { StepDecoder } from '../decode/step-decoder.ts'
import { smoothedCrossEntropy } from '../losses/cross-entropy.ts'
import { Seq2SeqModel, type Seq2SeqConfig } from '../seq2seq/model.ts'
import { Seq2SeqStepDecoder } from '../seq2seq/step-decoder.ts'
import { TransformerModel, type TransformerConfig } from '../transformer/model.ts'
import { CachedTransformerStepDecoder } from '../transformer/step-decoder.ts'
import type { TranslationBatch } from './batch.ts'

export type Seq2SeqSpec = Omit<Seq2SeqConfig, 'srcVocab' | 'tgtVocab' | 'seed'>
export type TransformerSpec = Omit<TransformerConfig, 'srcVocab' | 'tgtVocab' | 'seed'>

/** Which attention a map shows: the encoder over the source, the decoder over its own prefix, or the decoder over the source. */
export type AttentionKind = 'encoder-self' | 'decoder-self' | 'cross'

/** One layer's attention, every head: [B, heads, rows (queries), cols (keys)]. RNN models have one layer and one head. */
export interface LayerAttention {
  kind: AttentionKind
  layer: number
  weights: tf.Tensor4D
}

export type ModelSpec = { kind: 'seq2seq'; seq2seq: Seq2SeqSpec } | { kind: 'transformer'; transformer: TransformerSpec }

export interface TranslationModel {
  readonly params: ParameterStore
  /** Longest sequence either side can hold (a Transformer's position table; unbounded for RNNs). */
  readonly maxPositions: number
  /** Mean cross-entropy per real target token (label-smoothed when smoothing > 0). */
  loss(batch: TranslationBatch, training: boolean, smoothing: number): tf.Scalar
  /** Teacher-forced output logits [B, T, tgtVocab] (dropout when training). */
  logits(batch: TranslationBatch, training: boolean): tf.Tensor3D
  /** Sets the output layer's bias (e.g. to the targets' log unigram distribution before training). */
  setOutputBias(values: Float32Array): void
  /** Greedy, beam and sampling search over this model. */
  stepDecoder(): StepDecoder<unknown>
  /** Every attention map of a teacher-forced pass over the batch (no dropout); the caller disposes the weights. */
  inspect(batch: TranslationBatch): LayerAttention[]
  parameterCount(): number
  dispose(): void
}

/** Any encoder-decoder with a teacher-forced forward pass and a step decoder, as a TranslationModel. */
class TranslationAdapter implements TranslationModel {
  constructor(
    readonly params: ParameterStore,
    readonly maxPositions: number,
    private readonly tgtVocab: number,
    /** Teacher-forced logits [B, T, tgtVocab]. */
    private readonly forward: (batch: TranslationBatch, training: boolean) => tf.Tensor3D,
    private readonly decoder: () => StepDecoder<unknown>,
    private readonly attention: (batch: TranslationBatch) => LayerAttention[],
    private readonly release: () => void,
  ) {}
  loss(batch: TranslationBatch, training: boolean, smoothing: number): tf.Scalar {
    return tf.tidy(() => smoothedCrossEntropy(this.forward(batch, training).reshape([-1, this.tgtVocab]) as tf.Tensor2D, batch.tgtOut, batch.tgtOutMask, smoothing))
  }
  logits(batch: TranslationBatch, training: boolean): tf.Tensor3D {
    return this.forward(batch, training)
  }
  setOutputBias(values: Float32Array): void {
    const bias = this.params.get('output/bias')
    if (values.length !== bias.size) throw new Error(`output bias needs ${bias.size} values, got ${values.length}`)
    tf.tidy(() => bias.assign(tf.tensor1d(values)))
  }
  stepDecoder(): StepDecoder<unknown> {
    return this.decoder()
  }
  inspect(batch: TranslationBatch): LayerAttention[] {
    return this.attention(batch)
  }
  parameterCount(): number {
    return this.params.count()
  }
  dispose(): void {
    this.release()
  }
}

export function createTranslationModel(spec: ModelSpec, vocab: { src: number; tgt: number }, seed: number): TranslationModel {
  if (spec.kind === 'seq2seq') {
    const model = new Seq2SeqModel({ ...spec.seq2seq, srcVocab: vocab.src, tgtVocab: vocab.tgt, seed })
    return new TranslationAdapter(
      model.params,
      Number.POSITIVE_INFINITY,
      vocab.tgt,
      // tidy frees the attention weights (logits alone were asked for), but not while a gradient needs them.
      (batch, training) => tf.tidy(() => model.forward(batch.src, batch.srcMask, batch.tgtIn, training).logits),
      () => new Seq2SeqStepDecoder(model) as StepDecoder<unknown>,
      (batch) =>
        tf.tidy(() => {
          const { logits, attention } = model.forward(batch.src, batch.srcMask, batch.tgtIn, false)
          logits.dispose()
          return attention ? [{ kind: 'cross' as const, layer: 0, weights: attention.expandDims(1) as tf.Tensor4D }] : [] // [B, 1, T, S]
        }),
      () => model.dispose(),
    )
  }
  const model = new TransformerModel({ ...spec.transformer, srcVocab: vocab.src, tgtVocab: vocab.tgt, seed })
  return new TranslationAdapter(
    model.params,
    spec.transformer.maxLength,
    vocab.tgt,
    (batch, training) => model.forward(batch.src, batch.srcMask, batch.tgtIn, batch.tgtInMask, training).logits,
    () => new CachedTransformerStepDecoder(model) as StepDecoder<unknown>,
    (batch) => {
      const { logits, attention } = model.forward(batch.src, batch.srcMask, batch.tgtIn, batch.tgtInMask, false, true)
      logits.dispose()
      const layers = (kind: AttentionKind, weights: tf.Tensor4D[]) => weights.map((w, layer) => ({ kind, layer, weights: w }))
      return [...layers('encoder-self', attention!.encoderSelf), ...layers('decoder-self', attention!.decoderSelf), ...layers('cross', attention!.cross)]
    },
    () => model.dispose(),
  )
}
