// Multi-head scaled dot-product attention, Vaswani et al. 2017, eq. 1 and §3.2.2:
// Attention(Q, K, V) = softmax(QKᵀ / √d_k) V;  MultiHead = Concat(head_1..head_h) Wᴼ,  head_i = Attention(QWᵢ^Q, KWᵢ^K, VWᵢ^V).
import * as tf from '@tensorflow/tfjs'
import { dropout } from '../layers/dropout.ts'
import type { ParameterStore } from '../core/params.ts'
import { tidyResult } from '../core/tidy.ts'
import { fusedProjections, hasFusedProjections } from '../layers/affine.ts'
import { Linear } from '../layers/linear.ts'
import { hasInt8Form } from '../quantization/int8-matmul.ts'
import { fusedAttention, hasFusedAttention } from './fused-attention.ts'
import { maskedScore, maskScores } from './mask.ts'

export interface MultiHeadResult {
  output: tf.Tensor3D // [batch, queryLen, dModel]
  weights: tf.Tensor4D // [batch, heads, queryLen, keyLen]
}

export interface MultiHeadOptions {
  /** [batch, keyLen]: 1 = attend, 0 = padding. */
  keyMask?: tf.Tensor2D | null
  /** Query i may not see keys after position i (decoder self-attention). */
  causal?: boolean
  /** Dropout on the attention weights (training only). */
  dropout?: number
}

/** Keys and values split into heads, [batch, heads, keyLen, headSize] each. */
export interface ProjectedKeysValues {
  k: tf.Tensor4D
  v: tf.Tensor4D
}

/**
 * [Tq, Tk]: maskedScore where key j comes after query i, else 0 (the queries are the last Tq of the keys, as in
 * incremental decoding). Built on the host: one upload, where ones/bandPart/sub/mul are a kernel each on a GPU.
 */
function futureBias(queryLen: number, keyLen: number): tf.Tensor2D {
  const offset = keyLen - queryLen
  const values = new Float32Array(queryLen * keyLen)
  for (let i = 0; i < queryLen; i++) values.fill(maskedScore, i * keyLen + Math.max(0, i + offset + 1), (i + 1) * keyLen)
  return tf.tensor2d(values, [queryLen, keyLen])
}

export class MultiHeadAttention {
  readonly headSize: number
  private readonly query: Linear
  private readonly key: Linear
  private readonly value: Linear
  private readonly output: Linear

  constructor(
    params: ParameterStore,
    name: string,
    readonly dModel: number,
    readonly heads: number,
  ) {
    if (dModel % heads !== 0) throw new Error(`d_model ${dModel} is not divisible by ${heads} heads`)
    this.headSize = dModel / heads
    this.query = new Linear(params, `${name}/query`, dModel, dModel)
    this.key = new Linear(params, `${name}/key`, dModel, dModel)
    this.value = new Linear(params, `${name}/value`, dModel, dModel)
    this.output = new Linear(params, `${name}/output`, dModel, dModel)
  }

  /** Whether the fused kernels run this layer: the backend has them and no weight is in int8 form. */
  private fusable(): boolean {
    const layers = [this.query, this.key, this.value, this.output]
    return hasFusedAttention() && hasFusedProjections() && layers.every((l) => l.bias !== null && !hasInt8Form(l.kernel))
  }

  /** [B, T, dModel] → [B, heads, T, headSize] */
  private split(x: tf.Tensor3D): tf.Tensor4D {
    const [batch, length] = x.shape
    return x.reshape([batch, length, this.heads, this.headSize]).transpose([0, 2, 1, 3])
  }

  /** Keys and values of `keysValues` [B, T, d], split into heads: what incremental decoding caches. */
  project(keysValues: tf.Tensor3D): ProjectedKeysValues {
    return tidyResult(() => ({ k: this.split(this.key.apply(keysValues)), v: this.split(this.value.apply(keysValues)) }))
  }

  apply(queries: tf.Tensor3D, keysValues: tf.Tensor3D, options: MultiHeadOptions = {}): MultiHeadResult {
    if (this.fusable()) {
      return tidyResult(() => {
        const fusedOptions = { heads: this.heads, keyMask: options.keyMask ?? null, causal: options.causal ?? false, dropout: options.dropout ?? 0 }
        const project = (x: tf.Tensor3D, layers: Linear[]) => {
          const [batch, length] = x.shape
          const flat = x.reshape([-1, this.dModel]) as tf.Tensor2D // [B·T, d]
          const projected = fusedProjections(flat, layers.map((l) => l.kernel), layers.map((l) => l.bias!)) // [B·T, P·d]
          return projected.reshape([batch, length, layers.length * this.dModel]) as tf.Tensor3D
        }
        // Self-attention: q, k and v of one input in one product [B, T, 3d]; cross: q [B, Tq, d], then k and v [B, Tk, 2d].
        const { context, weights } =
          queries === keysValues
            ? fusedAttention(project(queries, [this.query, this.key, this.value]), null, fusedOptions)
            : fusedAttention(this.query.apply(queries), project(keysValues, [this.key, this.value]), fusedOptions) // [B, Tq, d], [B, h, Tq, Tk]
        return { output: this.output.apply(context), weights }
      })
    }
    return tidyResult(() => this.attend(queries, this.project(keysValues), options))
  }

  /** Attention of `queries` [B, Tq, d] over already projected keys and values [B, h, Tk, dk]. */
  attend(queries: tf.Tensor3D, { k, v }: ProjectedKeysValues, options: MultiHeadOptions = {}): MultiHeadResult {
    return tf.tidy(() => {
      const [batch, queryLen] = queries.shape
      const keyLen = k.shape[2]
      const q = this.split(this.query.apply(queries)) // [B, h, Tq, dk]
      let scores: tf.Tensor = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(this.headSize)) // [B, h, Tq, Tk]
      scores = maskScores(scores, options.keyMask ?? null)
      if (options.causal) scores = scores.add(futureBias(queryLen, keyLen))
      const weights = tf.softmax(scores) as tf.Tensor4D // [B, h, Tq, Tk]
      const attended = options.dropout ? dropout(weights, options.dropout) : weights
      const context = tf.matMul(attended, v) // [B, h, Tq, dk]
      const merged = context.transpose([0, 2, 1, 3]).reshape([batch, queryLen, this.dModel]) as tf.Tensor3D
      return { output: this.output.apply(merged), weights }
    })
  }
}
