// Transformer encoder-decoder, Vaswani et al. 2017 (as in the Annotated Transformer): embeddings scaled
// by √d_model plus positions, N encoder and N decoder layers, a linear output over the target vocabulary.
import * as tf from '@tensorflow/tfjs'
import { ParameterStore } from '../core/params.ts'
import { Random } from '../core/random.ts'
import { tidyResult } from '../core/tidy.ts'
import { Embedding } from '../layers/embedding.ts'
import { LayerNorm } from '../layers/layer-norm.ts'
import { Linear } from '../layers/linear.ts'
import { TiedOutput } from '../layers/tied-output.ts'
import { DecoderLayer, type LayerCache } from './decoder-layer.ts'
import { EncoderLayer, type LayerOptions } from './encoder-layer.ts'
import { inputEmbedding } from './input-embedding.ts'
import { sinusoidalPositions } from './positional-encoding.ts'
import type { NormPosition } from './sublayer.ts'

export type EmbeddingSharing = 'none' | 'target-output' | 'all'

export interface TransformerConfig {
  srcVocab: number
  tgtVocab: number
  dModel: number
  heads: number
  dFF: number
  encoderLayers: number
  decoderLayers: number
  dropout: number
  attentionDropout: number
  norm: NormPosition
  positions: 'sinusoidal' | 'learned'
  /** 'target-output' ties the target embedding to the output layer; 'all' also shares it with the source (a joint vocabulary). */
  shareEmbeddings: EmbeddingSharing
  maxLength: number
  seed: number
}

export interface TransformerAttention {
  encoderSelf: tf.Tensor4D[] // per layer [B, heads, S, S]
  decoderSelf: tf.Tensor4D[] // per layer [B, heads, T, T]
  cross: tf.Tensor4D[] // per layer [B, heads, T, S]
}

export class TransformerModel {
  readonly params: ParameterStore
  private readonly srcEmbedding: Embedding
  private readonly tgtEmbedding: Embedding
  private readonly positions: tf.Tensor2D | tf.Variable // [maxLength, dModel]
  private readonly encoderLayers: EncoderLayer[]
  private readonly decoderLayers: DecoderLayer[]
  private readonly finalNorms: [LayerNorm, LayerNorm] | null // pre-LN stacks end with a norm
  private readonly output: Linear | TiedOutput

  constructor(readonly config: TransformerConfig) {
    this.params = new ParameterStore(new Random(config.seed))
    const p = this.params
    if (config.shareEmbeddings === 'all' && config.srcVocab !== config.tgtVocab) {
      throw new Error(`sharing source and target embeddings needs one joint vocabulary (source ${config.srcVocab}, target ${config.tgtVocab})`)
    }
    this.tgtEmbedding = new Embedding(p, 'tgt_embedding', config.tgtVocab, config.dModel)
    this.srcEmbedding = config.shareEmbeddings === 'all' ? this.tgtEmbedding : new Embedding(p, 'src_embedding', config.srcVocab, config.dModel)
    this.positions =
      config.positions === 'learned'
        ? p.create('positions', [config.maxLength, config.dModel], { kind: 'normal', std: 0.02 })
        : sinusoidalPositions(config.maxLength, config.dModel)
    this.encoderLayers = Array.from({ length: config.encoderLayers }, (_, i) => new EncoderLayer(p, `encoder/layer${i}`, config.dModel, config.heads, config.dFF, config.norm))
    this.decoderLayers = Array.from({ length: config.decoderLayers }, (_, i) => new DecoderLayer(p, `decoder/layer${i}`, config.dModel, config.heads, config.dFF, config.norm))
    this.finalNorms = config.norm === 'pre' ? [new LayerNorm(p, 'encoder/final_norm', config.dModel), new LayerNorm(p, 'decoder/final_norm', config.dModel)] : null
    this.output = config.shareEmbeddings === 'none' ? new Linear(p, 'output', config.dModel, config.tgtVocab) : new TiedOutput(p, 'output', this.tgtEmbedding)
  }

  /** ids [B, L] at positions offset … offset + L − 1. */
  private embed(embedding: Embedding, ids: tf.Tensor2D, training: boolean, offset = 0): tf.Tensor3D {
    const length = ids.shape[1]
    if (offset + length > this.config.maxLength) throw new Error(`sequence of ${offset + length} tokens exceeds maxLength ${this.config.maxLength}`)
    return inputEmbedding(embedding, ids, this.positions, offset, training ? this.config.dropout : 0)
  }

  private layerOptions(training: boolean): LayerOptions {
    return { dropout: training ? this.config.dropout : 0, attentionDropout: training ? this.config.attentionDropout : 0 }
  }

  /** src [B, S] int32; srcMask [B, S] → memory [B, S, d] and each layer's self-attention. */
  encode(src: tf.Tensor2D, srcMask: tf.Tensor2D, training = false): { memory: tf.Tensor3D; attention: tf.Tensor4D[] } {
    return tidyResult(() => {
      let x = this.embed(this.srcEmbedding, src, training)
      const attention: tf.Tensor4D[] = []
      for (const layer of this.encoderLayers) {
        const out = layer.apply(x, srcMask, this.layerOptions(training))
        x = out.output
        attention.push(out.weights)
      }
      return { memory: this.finalNorms ? this.finalNorms[0].apply(x) : x, attention }
    })
  }

  /** tgtIn [B, T] (BOS + target) → logits [B, T, vocab], with decoder self- and cross-attention per layer. */
  decode(
    tgtIn: tf.Tensor2D,
    tgtMask: tf.Tensor2D,
    memory: tf.Tensor3D,
    srcMask: tf.Tensor2D,
    training = false,
  ): { logits: tf.Tensor3D; selfAttention: tf.Tensor4D[]; crossAttention: tf.Tensor4D[] } {
    return tidyResult(() => {
      let y = this.embed(this.tgtEmbedding, tgtIn, training)
      const selfAttention: tf.Tensor4D[] = []
      const crossAttention: tf.Tensor4D[] = []
      for (const layer of this.decoderLayers) {
        const out = layer.apply(y, memory, tgtMask, srcMask, this.layerOptions(training))
        y = out.output
        selfAttention.push(out.selfWeights)
        crossAttention.push(out.crossWeights)
      }
      const normed = this.finalNorms ? this.finalNorms[1].apply(y) : y
      return { logits: this.output.apply(normed), selfAttention, crossAttention }
    })
  }

  /** Per decoder layer, the cache incremental decoding starts from (the memory's cross-attention keys/values). */
  startDecoding(memory: tf.Tensor3D): LayerCache[] {
    return this.decoderLayers.map((layer) => layer.startCache(memory))
  }

  /**
   * One incremental decoding step: tokens [B] int32 at `position` (0 = BOS), the layers' caches → logits
   * [B, vocab], the top layer's cross-attention [B, heads, S] and the grown caches. Equals `decode` on the whole
   * prefix at its last position, without recomputing the prefix.
   */
  decodeStep(tokens: tf.Tensor1D, position: number, caches: LayerCache[], srcMask: tf.Tensor2D): { logits: tf.Tensor2D; crossAttention: tf.Tensor3D; caches: LayerCache[] } {
    return tidyResult(() => {
      let y = this.embed(this.tgtEmbedding, tokens.expandDims(1) as tf.Tensor2D, false, position) // [B, 1, d]
      const next: LayerCache[] = []
      let cross: tf.Tensor4D | null = null
      this.decoderLayers.forEach((layer, i) => {
        const out = layer.step(y, caches[i]!, srcMask)
        y = out.output
        next.push(out.cache)
        cross = out.crossWeights
      })
      const normed = this.finalNorms ? this.finalNorms[1].apply(y) : y
      return { logits: this.output.apply(normed).squeeze([1]) as tf.Tensor2D, crossAttention: cross!.squeeze([2]) as tf.Tensor3D, caches: next }
    })
  }

  /** Teacher-forced pass; attention weights are returned only when asked for (they cost memory). */
  forward(
    src: tf.Tensor2D,
    srcMask: tf.Tensor2D,
    tgtIn: tf.Tensor2D,
    tgtMask: tf.Tensor2D,
    training = false,
    withAttention = false,
  ): { logits: tf.Tensor3D; attention: TransformerAttention | null } {
    return tidyResult(() => {
      const encoded = this.encode(src, srcMask, training)
      const decoded = this.decode(tgtIn, tgtMask, encoded.memory, srcMask, training)
      return {
        logits: decoded.logits,
        attention: withAttention ? { encoderSelf: encoded.attention, decoderSelf: decoded.selfAttention, cross: decoded.crossAttention } : null,
      }
    })
  }

  parameterCount(): number {
    return this.params.count()
  }

  dispose(): void {
    this.params.dispose()
    if (!(this.positions instanceof tf.Variable)) this.positions.dispose()
  }
}
