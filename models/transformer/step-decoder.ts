// The Transformer as a StepDecoder without a key/value cache: each step re-runs the decoder over the whole
// prefix and keeps the last position (simple and exact; the cached version belongs with the inspection work).
import * as tf from '@tensorflow/tfjs'
import { tidyResult } from '../core/tidy.ts'
import type { StepDecoder, StepOutput } from '../decode/step-decoder.ts'
import type { LayerCache } from './decoder-layer.ts'
import type { TransformerModel } from './model.ts'

export interface TransformerDecodeState {
  memory: tf.Tensor3D // [rows, S, d]
  srcMask: tf.Tensor2D // [rows, S]
  prefix: tf.Tensor2D | null // [rows, T] int32, the tokens fed so far (BOS first); null before the first step
}

export class TransformerStepDecoder implements StepDecoder<TransformerDecodeState> {
  constructor(private readonly model: TransformerModel) {}

  start(src: tf.Tensor2D, srcMask: tf.Tensor2D): TransformerDecodeState {
    const encoded = this.model.encode(src, srcMask)
    tf.dispose(encoded.attention)
    return { memory: encoded.memory, srcMask: srcMask.clone(), prefix: null }
  }

  step(previous: tf.Tensor1D, state: TransformerDecodeState): StepOutput<TransformerDecodeState> {
    const prefix = tf.tidy(() => {
      const column = previous.cast('int32').expandDims(1) as tf.Tensor2D // [rows, 1]
      return state.prefix ? (tf.concat([state.prefix, column], 1) as tf.Tensor2D) : column
    })
    const length = prefix.shape[1]
    const out = tidyResult(() => {
      const tgtIn = prefix
      const decoded = this.model.decode(tgtIn, tf.onesLike(tgtIn).cast('float32') as tf.Tensor2D, state.memory, state.srcMask)
      const logits = decoded.logits.slice([0, length - 1, 0], [-1, 1, -1]).squeeze([1]) as tf.Tensor2D // [rows, V]
      const cross = decoded.crossAttention.at(-1)! // [rows, heads, T, S]: the top layer, averaged over heads
      const attention = cross.slice([0, 0, length - 1, 0], [-1, -1, 1, -1]).mean(1).squeeze([1]) as tf.Tensor2D // [rows, S]
      return { logits, attention }
    })
    return { ...out, state: { memory: state.memory.clone(), srcMask: state.srcMask.clone(), prefix } }
  }

  select(state: TransformerDecodeState, rows: number[]): TransformerDecodeState {
    return tidyResult(() => {
      const index = tf.tensor1d(rows, 'int32')
      return { memory: tf.gather(state.memory, index), srcMask: tf.gather(state.srcMask, index), prefix: state.prefix ? tf.gather(state.prefix, index) : null }
    })
  }

  dispose(state: TransformerDecodeState): void {
    state.memory.dispose()
    state.srcMask.dispose()
    state.prefix?.dispose()
  }
}

/** The cached state: per layer the self-attention keys/values so far and the memory's, and the next position. */
export interface CachedDecodeState {
  caches: LayerCache[]
  srcMask: tf.Tensor2D // [rows, S]
  position: number
}

function disposeCaches(caches: LayerCache[]): void {
  for (const cache of caches) tf.dispose([cache.cross.k, cache.cross.v, ...(cache.self ? [cache.self.k, cache.self.v] : [])])
}

/**
 * Incremental decoding with cached keys and values (what beam search wants: each step costs one position, not
 * the whole prefix). Gives the same outputs as TransformerStepDecoder.
 */
export class CachedTransformerStepDecoder implements StepDecoder<CachedDecodeState> {
  constructor(private readonly model: TransformerModel) {}

  start(src: tf.Tensor2D, srcMask: tf.Tensor2D): CachedDecodeState {
    const encoded = this.model.encode(src, srcMask)
    tf.dispose(encoded.attention)
    const caches = this.model.startDecoding(encoded.memory)
    encoded.memory.dispose()
    return { caches, srcMask: srcMask.clone(), position: 0 }
  }

  step(previous: tf.Tensor1D, state: CachedDecodeState): StepOutput<CachedDecodeState> {
    const out = this.model.decodeStep(previous, state.position, state.caches, state.srcMask)
    const attention = tf.tidy(() => out.crossAttention.mean(1)) as tf.Tensor2D // [rows, S], averaged over heads
    out.crossAttention.dispose()
    return { logits: out.logits, attention, state: { caches: out.caches, srcMask: state.srcMask.clone(), position: state.position + 1 } }
  }

  select(state: CachedDecodeState, rows: number[]): CachedDecodeState {
    return tidyResult(() => {
      const index = tf.tensor1d(rows, 'int32')
      const pick = <T extends tf.Tensor>(t: T): T => tf.gather(t, index) as T
      return {
        caches: state.caches.map((cache) => ({ self: cache.self ? { k: pick(cache.self.k), v: pick(cache.self.v) } : null, cross: { k: pick(cache.cross.k), v: pick(cache.cross.v) } })),
        srcMask: pick(state.srcMask),
        position: state.position,
      }
    })
  }

  dispose(state: CachedDecodeState): void {
    disposeCaches(state.caches)
    state.srcMask.dispose()
  }
}
