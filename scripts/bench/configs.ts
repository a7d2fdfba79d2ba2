// The reference training configurations of the compute benchmark (shared with the PyTorch twins).
import type { Seq2SeqConfig } from '../../models/seq2seq/model.ts'
import type { TransformerConfig } from '../../models/transformer/model.ts'

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

export type BenchModel = 'lstm' | 'transformer'
export const benchModels: BenchModel[] = ['lstm', 'transformer']
