// One Transformer decoder layer, Vaswani et al. 2017 §3.1: masked self-attention, cross-attention over the
// encoder output, then the feed-forward network.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import { tidyResult } from '../core/tidy.ts'
import { MultiHeadAttention, type ProjectedKeysValues } from '../attention/multi-head.ts'
import { LayerNorm } from '../layers/layer-norm.ts'
import type { LayerOptions } from './encoder-layer.ts'
import { FeedForward } from './feed-forward.ts'
import { residual, type NormPosition } from './sublayer.ts'

/** What one layer keeps between decoding steps: its self-attention keys/values so far, and the encoder's. */
export interface LayerCache {
  self: ProjectedKeysValues | null // [B, h, t, dk], grows by one position per step
  cross: ProjectedKeysValues // [B, h, S, dk], projected once per sentence
}

export class DecoderLayer {
  private readonly selfAttention: MultiHeadAttention
  private readonly crossAttention: MultiHeadAttention
  private readonly feedForward: FeedForward
  private readonly norms: [LayerNorm, LayerNorm, LayerNorm]

  constructor(params: ParameterStore, name: string, dModel: number, heads: number, dFF: number, readonly norm: NormPosition) {
    this.selfAttention = new MultiHeadAttention(params, `${name}/self_attention`, dModel, heads)
    this.crossAttention = new MultiHeadAttention(params, `${name}/cross_attention`, dModel, heads)
    this.feedForward = new FeedForward(params, `${name}/feed_forward`, dModel, dFF)
    this.norms = [0, 1, 2].map((i) => new LayerNorm(params, `${name}/norm${i}`, dModel)) as [LayerNorm, LayerNorm, LayerNorm]
  }

  /** y [B, T, d]; memory [B, S, d]; tgtMask [B, T]; srcMask [B, S]. */
  apply(
    y: tf.Tensor3D,
    memory: tf.Tensor3D,
    tgtMask: tf.Tensor2D,
    srcMask: tf.Tensor2D,
    options: LayerOptions,
  ): { output: tf.Tensor3D; selfWeights: tf.Tensor4D; crossWeights: tf.Tensor4D } {
    return tidyResult(() => {
      let selfWeights: tf.Tensor4D | null = null
      let crossWeights: tf.Tensor4D | null = null
      const selfAttended = residual(y, this.norms[0], this.norm, options.dropout, (input) => {
        const result = this.selfAttention.apply(input, input, { keyMask: tgtMask, causal: true, dropout: options.attentionDropout })
        selfWeights = result.weights
        return result.output
      })
      const crossAttended = residual(selfAttended, this.norms[1], this.norm, options.dropout, (input) => {
        const result = this.crossAttention.apply(input, memory, { keyMask: srcMask, dropout: options.attentionDropout })
        crossWeights = result.weights
        return result.output
      })
      const output = residual(crossAttended, this.norms[2], this.norm, options.dropout, (input) => this.feedForward.apply(input, options.dropout))
      return { output, selfWeights: selfWeights!, crossWeights: crossWeights! }
    })
  }

  /** The encoder memory's keys and values for cross-attention, once per sentence. */
  startCache(memory: tf.Tensor3D): LayerCache {
    return { self: null, cross: this.crossAttention.project(memory) }
  }

  /**
   * One decoding step: y [B, 1, d] is the newest position only. Its keys/values join the cache, so the prefix
   * is never recomputed; the result equals `apply` on the whole prefix at its last position.
   */
  step(y: tf.Tensor3D, cache: LayerCache, srcMask: tf.Tensor2D): { output: tf.Tensor3D; cache: LayerCache; crossWeights: tf.Tensor4D } {
    return tidyResult(() => {
      let selfCache: ProjectedKeysValues | null = null
      let crossWeights: tf.Tensor4D | null = null
      const selfAttended = residual(y, this.norms[0], this.norm, 0, (input) => {
        const fresh = this.selfAttention.project(input) // [B, h, 1, dk]
        selfCache = cache.self ? { k: tf.concat([cache.self.k, fresh.k], 2) as tf.Tensor4D, v: tf.concat([cache.self.v, fresh.v], 2) as tf.Tensor4D } : fresh
        return this.selfAttention.attend(input, selfCache).output // the newest position may see every earlier one
      })
      const crossAttended = residual(selfAttended, this.norms[1], this.norm, 0, (input) => {
        const result = this.crossAttention.attend(input, cache.cross, { keyMask: srcMask })
        crossWeights = result.weights
        return result.output
      })
      const output = residual(crossAttended, this.norms[2], this.norm, 0, (input) => this.feedForward.apply(input, 0))
      return { output, cache: { self: selfCache!, cross: { k: cache.cross.k.clone(), v: cache.cross.v.clone() } }, crossWeights: crossWeights! }
    })
  }
}
