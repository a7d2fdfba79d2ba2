// One Transformer encoder layer, Vaswani et al. 2017 §3.1: self-attention, then the feed-forward network.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import { tidyResult } from '../core/tidy.ts'
import { MultiHeadAttention } from '../attention/multi-head.ts'
import { LayerNorm } from '../layers/layer-norm.ts'
import { FeedForward } from './feed-forward.ts'
import { residual, type NormPosition } from './sublayer.ts'

export interface LayerOptions {
  dropout: number
  attentionDropout: number
}

export class EncoderLayer {
  private readonly selfAttention: MultiHeadAttention
  private readonly feedForward: FeedForward
  private readonly norms: [LayerNorm, LayerNorm]

  constructor(params: ParameterStore, name: string, dModel: number, heads: number, dFF: number, readonly norm: NormPosition) {
    this.selfAttention = new MultiHeadAttention(params, `${name}/self_attention`, dModel, heads)
    this.feedForward = new FeedForward(params, `${name}/feed_forward`, dModel, dFF)
    this.norms = [new LayerNorm(params, `${name}/norm0`, dModel), new LayerNorm(params, `${name}/norm1`, dModel)]
  }

  /** x [B, S, d]; srcMask [B, S] → output [B, S, d] and self-attention weights [B, heads, S, S]. */
  apply(x: tf.Tensor3D, srcMask: tf.Tensor2D, options: LayerOptions): { output: tf.Tensor3D; weights: tf.Tensor4D } {
    return tidyResult(() => {
      let weights: tf.Tensor4D | null = null
      const attended = residual(x, this.norms[0], this.norm, options.dropout, (input) => {
        const result = this.selfAttention.apply(input, input, { keyMask: srcMask, dropout: options.attentionDropout })
        weights = result.weights
        return result.output
      })
      const output = residual(attended, this.norms[1], this.norm, options.dropout, (input) => this.feedForward.apply(input, options.dropout))
      return { output, weights: weights! }
    })
  }
}
