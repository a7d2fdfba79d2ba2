// The reference training configurations of the compute benchmark (shared with the PyTorch twins).
import * as tf from '@tensorflow/tfjs'
import type { Random } from '../../models/core/random.ts'
import type { DialogueBatch } from '../../models/dialogue/batch.ts'
import type { DialogueModelConfig } from '../../models/dialogue/hred.ts'
import { smoothedCrossEntropy } from '../../models/losses/cross-entropy.ts'
import type { Seq2SeqConfig, Seq2SeqModel } from '../../models/seq2seq/model.ts'
import { TransformerModel, type TransformerConfig } from '../../models/transformer/model.ts'

export const batchShape = { batch: 64, srcLen: 30, tgtLen: 30, vocab: 8000 } as const

/** (a) 1-layer LSTM seq2seq with Luong ("general") attention, hidden 256. */
export const lstmConfig: Seq2SeqConfig = {
  srcVocab: batchShape.vocab,
  tgtVocab: batchShape.vocab,
  embeddingSize: 256,
  hiddenSize: 256,
  cell: 'lstm',
  encoderLayers: 1,
  decoderLayers: 1,
  bidirectional: false,
  attention: 'luong',
  inputFeeding: false,
  dropout: 0,
  seed: 1,
}

/** (a′) The workbench's seq2seq defaults (Seq2SeqModelConfig: bidirectional encoder, input feeding, dropout 0.2) at
 *  (a)'s sizes: with input feeding the decoder steps one target position at a time, in training too. */
export const lstmFeedingConfig: Seq2SeqConfig = { ...lstmConfig, bidirectional: true, inputFeeding: true, dropout: 0.2 }

/** (b) Transformer 2+2 layers, d_model 256, 4 heads, ff 1024, post-LN, dropout 0.1. */
export const transformerConfig: TransformerConfig = {
  srcVocab: batchShape.vocab,
  tgtVocab: batchShape.vocab,
  dModel: 256,
  heads: 4,
  dFF: 1024,
  encoderLayers: 2,
  decoderLayers: 2,
  dropout: 0.1,
  attentionDropout: 0.1,
  norm: 'post',
  positions: 'sinusoidal',
  shareEmbeddings: 'none',
  maxLength: 64,
  seed: 1,
}

/** (e) The GPU size (issue 21): d_model 512, 8 heads, ff 2048, 6+6 layers, vocabulary 32k, batches of 4,096 target
 *  tokens (128 × 32). On this 2-core machine's wasm path one step ran 20 minutes without finishing, at 4.4 GiB RSS
 *  (the wasm heap ends at 4 GiB). */
export const transformerBigConfig: TransformerConfig = { ...transformerConfig, srcVocab: 32000, tgtVocab: 32000, dModel: 512, heads: 8, dFF: 2048, encoderLayers: 6, decoderLayers: 6 }
export const bigBatchShape = { batch: 128, srcLen: 32, tgtLen: 32, vocab: 32000 } as const

/** (c) HRED as the 'small' preset builds it: GRU, bidirectional utterance encoder, embeddings and every state 256,
 *  dropout 0.2; batches of 64 dialogues × 3 context turns of 20 tokens, responses of 29 tokens (+ BOS/EOS: 30). */
export const hredConfig: DialogueModelConfig = {
  vocab: batchShape.vocab,
  cell: 'gru',
  embeddingSize: 256,
  utteranceHidden: 256,
  bidirectional: true,
  contextHidden: 256,
  decoderHidden: 256,
  latentSize: 0,
  dropout: 0.2,
  seed: 1,
}
/** (d) HRED as the 'tiny' preset builds it (embeddings 64, utterance encoder 64, context and decoder 128, dropout
 *  0.1), on the same batches: small products, where the cost per op counts more than the arithmetic. */
export const hredTinyConfig: DialogueModelConfig = { ...hredConfig, embeddingSize: 64, utteranceHidden: 64, contextHidden: 128, decoderHidden: 128, dropout: 0.1 }
export const hredBatchShape = { batch: 64, turns: 3, turnLength: 20, tgtLen: 30 } as const

export type BenchModel = 'lstm' | 'lstm-feeding' | 'transformer' | 'hred' | 'hred-tiny' | 'transformer-big'
export const benchModels: BenchModel[] = ['lstm', 'lstm-feeding', 'transformer', 'hred', 'hred-tiny']
/** Target tokens per step, the tokens/s of every model (each has 64 × 30). */
export const targetTokensPerStep = batchShape.batch * batchShape.tgtLen

/** Token ids for `batch` rows of a given length, drawn uniformly from `vocab` by `random`. */
export function benchIds(batch: number, vocab: number, random: Random): (length: number) => tf.Tensor2D {
  return (length) => tf.tensor2d(Int32Array.from({ length: batch * length }, () => random.integer(vocab)), [batch, length], 'int32')
}

/** The translation bench batch of `shape` (source, target in, target out, drawn from `ids` in that order; all tokens
 *  real) and the loss of one training step of a seq2seq or Transformer model on it. */
export function benchTranslationLoss(shape: { batch: number; srcLen: number; tgtLen: number; vocab: number }, ids: (length: number) => tf.Tensor2D): (model: Seq2SeqModel | TransformerModel) => tf.Scalar {
  const { batch, srcLen, tgtLen, vocab } = shape
  const src = ids(srcLen) // [B, S]
  const tgtIn = ids(tgtLen) // [B, T]
  const tgtOut = ids(tgtLen).reshape([-1]) as tf.Tensor1D // [B·T]
  const srcMask = tf.ones([batch, srcLen]) as tf.Tensor2D
  const tgtMask = tf.ones([batch, tgtLen]) as tf.Tensor2D
  const tokenMask = tf.ones([batch * tgtLen]) as tf.Tensor1D
  return (model) => {
    const logits = model instanceof TransformerModel ? model.forward(src, srcMask, tgtIn, tgtMask, true).logits : model.forward(src, srcMask, tgtIn, true).logits
    return smoothedCrossEntropy(logits.reshape([-1, vocab]) as tf.Tensor2D, tgtOut, tokenMask)
  }
}

/** The HRED bench batch: every context turn a row of the utterance matrix; all turns and tokens real. */
export function benchDialogueBatch(ids: (length: number) => tf.Tensor2D): DialogueBatch {
  const { batch, tgtLen } = batchShape
  const { turns, turnLength } = hredBatchShape
  return {
    utterances: ids(turns * turnLength).reshape([batch * turns, turnLength]) as tf.Tensor2D, // [B·K, L]
    utteranceMask: tf.ones([batch * turns, turnLength]) as tf.Tensor2D,
    turnMask: tf.ones([batch, turns]) as tf.Tensor2D,
    tgtIn: ids(tgtLen), // [B, T]
    tgtInMask: tf.ones([batch, tgtLen]) as tf.Tensor2D,
    tgtOut: ids(tgtLen).reshape([-1]) as tf.Tensor1D, // [B·T]
    tgtOutMask: tf.ones([batch * tgtLen]) as tf.Tensor1D,
    targetTokens: batch * tgtLen,
    sourceTokens: batch * turns * turnLength,
  }
}
