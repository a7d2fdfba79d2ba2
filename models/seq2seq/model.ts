// RNN encoder-decoder with attention (Sutskever et al. 2014; Bahdanau et al. 2015; Luong et al. 2015),
// laid out like JoeyNMT's RecurrentEncoder/RecurrentDecoder: a bridge initialises the decoder from the
// encoder's final states, and input feeding passes the previous attentional vector to the next step.
import * as tf from '@tensorflow/tfjs'
import { dropout } from '../layers/dropout.ts'
import { ParameterStore } from '../core/params.ts'
import { tidyResult } from '../core/tidy.ts'
import { Random } from '../core/random.ts'
import type { AttentionResult, StepAttention } from '../attention/attention.ts'
import { BahdanauAttention } from '../attention/bahdanau.ts'
import { LuongAttention } from '../attention/luong.ts'
import { Embedding } from '../layers/embedding.ts'
import { Linear } from '../layers/linear.ts'
import type { CellType, RecurrentCell, RecurrentState } from '../rnn/cell.ts'
import { createCell, StackedRnn } from '../rnn/stacked-rnn.ts'
import { GruCell } from '../rnn/gru-cell.ts'
import { LstmCell } from '../rnn/lstm-cell.ts'
import { unroll } from '../rnn/unroll.ts'
import { hasInt8Form } from '../quantization/int8-matmul.ts'
import { feedingDecoder, hasFeedingDecoder } from './feeding-decoder.ts'

export type AttentionType = 'none' | 'bahdanau' | 'luong' | 'luong-dot'

export interface Seq2SeqConfig {
  srcVocab: number
  tgtVocab: number
  embeddingSize: number
  hiddenSize: number
  cell: CellType
  encoderLayers: number
  decoderLayers: number
  bidirectional: boolean
  attention: AttentionType
  /** Feed the previous attentional vector h̃ into the next decoder step (Luong et al. 2015, §3.3). */
  inputFeeding: boolean
  dropout: number
  seed: number
}

/** Everything one decoder step needs, for a batch (or a beam) of sentences. */
export interface DecoderState {
  memory: tf.Tensor3D // encoder outputs [batch, srcLen, encSize]
  keys: tf.Tensor3D | null // attention keys prepared once per sentence
  srcMask: tf.Tensor2D // [batch, srcLen]
  layers: RecurrentState[] // per decoder layer
  feed: tf.Tensor2D | null // previous attentional vector h̃ [batch, hidden] (input feeding)
}

export interface StepOutput {
  logits: tf.Tensor2D // [batch, tgtVocab]
  attention: tf.Tensor2D | null // [batch, srcLen]
  state: DecoderState
}

export function disposeDecoderState(state: DecoderState, keepEncoder = false): void {
  if (!keepEncoder) {
    state.memory.dispose()
    state.keys?.dispose()
    state.srcMask.dispose()
  }
  for (const layer of state.layers) for (const tensor of layer) tensor.dispose()
  state.feed?.dispose()
}

/** [B, T, n] → T × [B, n]. One step is a squeeze: tfjs's Unpack gradient fails for a single output. */
function timeSteps(x: tf.Tensor3D): tf.Tensor2D[] {
  return x.shape[1] === 1 ? [x.squeeze([1]) as tf.Tensor2D] : (tf.unstack(x, 1) as tf.Tensor2D[])
}

/** The decoder's first layer at one step: the embedded token, or its projection made before the loop (see advance). */
type FirstLayerInput = { embedded: tf.Tensor2D } | { projected: tf.Tensor2D; feedKernel: tf.Tensor2D | null }

export class Seq2SeqModel {
  readonly params: ParameterStore
  private readonly srcEmbedding: Embedding
  private readonly tgtEmbedding: Embedding
  private readonly encoder: StackedRnn
  private readonly bridge: Linear[] // per decoder layer and state component
  private readonly decoderCells: RecurrentCell[]
  private readonly attention: StepAttention<tf.Tensor3D> | null
  private readonly combine: Linear | null // W_c in h̃ = tanh(W_c [h; c])
  private readonly output: Linear // h̃ → logits

  constructor(readonly config: Seq2SeqConfig) {
    this.params = new ParameterStore(new Random(config.seed))
    const p = this.params
    this.srcEmbedding = new Embedding(p, 'src_embedding', config.srcVocab, config.embeddingSize)
    this.tgtEmbedding = new Embedding(p, 'tgt_embedding', config.tgtVocab, config.embeddingSize)
    this.encoder = new StackedRnn(p, 'encoder', {
      cell: config.cell,
      layers: config.encoderLayers,
      inputSize: config.embeddingSize,
      hiddenSize: config.hiddenSize,
      bidirectional: config.bidirectional,
      dropout: config.dropout,
    })
    const encSize = this.encoder.outputSize
    const components = config.cell === 'lstm' ? 2 : 1
    this.bridge = []
    for (let layer = 0; layer < config.decoderLayers; layer++) {
      for (let c = 0; c < components; c++) this.bridge.push(new Linear(p, `bridge/layer${layer}/state${c}`, encSize, config.hiddenSize))
    }
    const feedSize = config.inputFeeding && config.attention !== 'none' ? config.hiddenSize : 0
    this.decoderCells = []
    for (let layer = 0; layer < config.decoderLayers; layer++) {
      const inputSize = layer === 0 ? config.embeddingSize + feedSize : config.hiddenSize
      this.decoderCells.push(createCell(config.cell, p, `decoder/layer${layer}`, inputSize, config.hiddenSize))
    }
    switch (config.attention) {
      case 'none':
        this.attention = null
        break
      case 'bahdanau':
        this.attention = new BahdanauAttention(p, 'attention', config.hiddenSize, encSize, config.hiddenSize)
        break
      case 'luong':
        this.attention = new LuongAttention(p, 'attention', 'general', config.hiddenSize, encSize)
        break
      case 'luong-dot':
        this.attention = new LuongAttention(p, 'attention', 'dot', config.hiddenSize, encSize)
        break
    }
    this.combine = this.attention ? new Linear(p, 'combine', config.hiddenSize + encSize, config.hiddenSize, { bias: false }) : null
    this.output = new Linear(p, 'output', config.hiddenSize, config.tgtVocab)
  }

  /** Encodes a padded source batch and prepares the decoder: src [batch, srcLen] int32, srcMask [batch, srcLen]. */
  encode(src: tf.Tensor2D, srcMask: tf.Tensor2D, training = false): DecoderState {
    return tidyResult(() => {
      let embedded = this.srcEmbedding.apply(src) // [B, S, E]
      if (training && this.config.dropout > 0) embedded = dropout(embedded, this.config.dropout) as tf.Tensor3D
      const { outputs, finals } = this.encoder.apply(embedded, srcMask, training) // [B, S, encSize]
      const components = this.config.cell === 'lstm' ? 2 : 1
      const layers: RecurrentState[] = []
      for (let layer = 0; layer < this.config.decoderLayers; layer++) {
        const source = finals[Math.min(layer, finals.length - 1)]! // the matching encoder layer, or the top one
        const state: tf.Tensor2D[] = []
        for (let c = 0; c < components; c++) state.push(this.bridge[layer * components + c]!.apply(source[c]!, { activation: 'tanh' }))
        layers.push(state)
      }
      const batch = src.shape[0]
      const feed = this.combine && this.config.inputFeeding ? (tf.zeros([batch, this.config.hiddenSize]) as tf.Tensor2D) : null
      return { memory: outputs, keys: this.attention ? this.attention.prepare(outputs) : null, srcMask: srcMask.clone(), layers, feed }
    })
  }

  /** One decoder step from the previous target tokens [batch] int32. Does not dispose `state`. */
  step(previous: tf.Tensor1D, state: DecoderState, training = false): StepOutput {
    return tidyResult(() => {
      let embedded: tf.Tensor2D = this.tgtEmbedding.apply(previous.expandDims(1) as tf.Tensor2D).squeeze([1]) // [B, E]
      if (training && this.config.dropout > 0) embedded = dropout(embedded, this.config.dropout) as tf.Tensor2D
      const { attentional, attention, state: next } = this.advance({ embedded }, state, training)
      const dropped = training && this.config.dropout > 0 ? (dropout(attentional, this.config.dropout) as tf.Tensor2D) : attentional
      return { logits: this.output.apply(dropped), attention, state: next } // logits [B, V]
    })
  }

  /**
   * The decoder from one target token to the attentional vector h̃ [batch, H] that the output layer reads: the RNN
   * layers, attention and the combination. The first layer reads the embedded token [batch, E] (dropout applied), or
   * its projection made for all steps before a loop, [batch, gates·H], with the kernel rows that multiply the feed.
   * Does not dispose `state`.
   */
  private advance(first: FirstLayerInput, state: DecoderState, training: boolean): { attentional: tf.Tensor2D; attention: tf.Tensor2D | null; state: DecoderState } {
    const [firstCell, ...upperCells] = this.decoderCells
    const layers: RecurrentState[] = [
      'projected' in first
        ? firstCell!.stepProjected(state.feed && first.feedKernel ? (first.projected.add(tf.matMul(state.feed, first.feedKernel)) as tf.Tensor2D) : first.projected, state.layers[0]!) // [B, gates·H] in
        : firstCell!.step(state.feed ? (tf.concat([first.embedded, state.feed], 1) as tf.Tensor2D) : first.embedded, state.layers[0]!), // [B, E (+ H)] in
    ]
    let input = layers[0]![0]!
    upperCells.forEach((cell, i) => {
      if (training && this.config.dropout > 0) input = dropout(input, this.config.dropout) as tf.Tensor2D
      layers.push(cell.step(input, state.layers[i + 1]!))
      input = layers[i + 1]![0]!
    })
    const top = input // [B, H]
    let attended: AttentionResult | null = null
    let attentional = top // h̃
    if (this.attention && this.combine) {
      attended = this.attention.attend(top, state.keys!, state.memory, state.srcMask)
      attentional = this.combine.apply(tf.concat([top, attended.context], 1) as tf.Tensor2D, { activation: 'tanh' }) // Luong eq. 5
    }
    return {
      attentional,
      attention: attended?.weights ?? null,
      state: { memory: state.memory, keys: state.keys, srcMask: state.srcMask, layers, feed: state.feed ? attentional : null },
    }
  }

  /**
   * Teacher-forced pass: tgtIn [batch, tgtLen] (BOS + target without its last token) →
   * logits [batch, tgtLen, vocab] and attention [batch, tgtLen, srcLen] (or null).
   */
  forward(src: tf.Tensor2D, srcMask: tf.Tensor2D, tgtIn: tf.Tensor2D, training = false, options: { stepwise?: boolean } = {}): { logits: tf.Tensor3D; attention: tf.Tensor3D | null } {
    const parallel = !options.stepwise && !(this.config.inputFeeding && this.attention) && (!this.attention || this.attention.attendAll)
    return parallel ? this.forwardParallel(src, srcMask, tgtIn, training) : this.forwardStepwise(src, srcMask, tgtIn, training)
  }

  /**
   * Without input feeding no step depends on the previous step's attention, so the decoder RNN runs as one
   * layer-wise unroll and attention, combination and output run once over all steps (the same function,
   * with a few large matrix products instead of many small ones).
   */
  private forwardParallel(src: tf.Tensor2D, srcMask: tf.Tensor2D, tgtIn: tf.Tensor2D, training: boolean): { logits: tf.Tensor3D; attention: tf.Tensor3D | null } {
    return tidyResult(() => {
      const state = this.encode(src, srcMask, training)
      const drop = (t: tf.Tensor3D) => (training && this.config.dropout > 0 ? dropout(t, this.config.dropout) : t)
      let input = drop(this.tgtEmbedding.apply(tgtIn)) // [B, T, E]
      this.decoderCells.forEach((cell, layer) => {
        if (layer > 0) input = drop(input)
        input = unroll(cell, input, null, state.layers[layer]!).outputs // [B, T, H]
      })
      const top = input
      let attentional = top // h̃ [B, T, H]
      let weights: tf.Tensor3D | null = null
      if (this.attention?.attendAll && this.combine) {
        const attended = this.attention.attendAll(top, state.keys!, state.memory, state.srcMask)
        weights = attended.weights
        attentional = this.combine.apply(tf.concat([top, attended.context], 2) as tf.Tensor3D, { activation: 'tanh' }) // Luong eq. 5
      }
      return { logits: this.output.apply(drop(attentional)), attention: weights }
    })
  }

  /**
   * Step by step (input feeding: each step reads the previous step's h̃). Only the recurrence is stepped: the target
   * embedding (with its dropout) and the first layer's product with it run once over all steps before the loop, the
   * output layer once after it; each step multiplies only the fed h̃ and the recurrent state.
   */
  private forwardStepwise(src: tf.Tensor2D, srcMask: tf.Tensor2D, tgtIn: tf.Tensor2D, training: boolean): { logits: tf.Tensor3D; attention: tf.Tensor3D | null } {
    return tidyResult(() => {
      const drop = <T extends tf.Tensor>(t: T): T => (training && this.config.dropout > 0 ? (dropout(t, this.config.dropout) as T) : t)
      let state = this.encode(src, srcMask, training)
      const embedded = drop(this.tgtEmbedding.apply(tgtIn)) // [B, T, E]
      const leading = this.decoderCells[0]!.projectLeading(embedded) // [B, T, gates·H]; null for a quantised model
      const whole = leading && this.feedingDecoderOver(leading, state)
      if (whole) return { logits: this.output.apply(drop(whole.attentional)), attention: whole.attention }
      const steps: FirstLayerInput[] = leading
        ? timeSteps(leading.projected).map((projected) => ({ projected, feedKernel: leading.restKernel }))
        : timeSteps(embedded).map((input) => ({ embedded: input }))
      const attentional: tf.Tensor2D[] = []
      const attention: tf.Tensor2D[] = []
      for (const first of steps) {
        const out = this.advance(first, state, training)
        attentional.push(out.attentional) // h̃_t [B, H]
        if (out.attention) attention.push(out.attention)
        state = out.state
      }
      return {
        logits: this.output.apply(drop(tf.stack(attentional, 1) as tf.Tensor3D)), // [B, T, V]
        attention: attention.length > 0 ? (tf.stack(attention, 1) as tf.Tensor3D) : null,
      }
    })
  }

  /**
   * The decoder over all steps as one op with its own backpropagation through time (feeding-decoder.ts), where the
   * backend has its kernels and the model is what they run: one LSTM or GRU layer fed its previous h̃, Luong
   * attention over keys packed beside the values. null otherwise (the caller steps).
   */
  private feedingDecoderOver(leading: { projected: tf.Tensor3D; restKernel: tf.Tensor2D | null }, state: DecoderState): { attentional: tf.Tensor3D; attention: tf.Tensor3D } | null {
    const [cell] = this.decoderCells
    const packed = state.keys !== null && state.keys.shape[2] === this.config.hiddenSize + state.memory.shape[2]
    const runs = (cell instanceof LstmCell || cell instanceof GruCell) && this.decoderCells.length === 1 && this.attention instanceof LuongAttention && packed
    if (!runs || !this.combine || !leading.restKernel || !state.feed || hasInt8Form(cell.recurrentKernel) || hasInt8Form(this.combine.kernel) || !hasFeedingDecoder()) return null
    const [h0, c0] = state.layers[0]!
    return feedingDecoder({
      cell: cell instanceof LstmCell ? { type: 'lstm', c0: c0! } : { type: 'gru', recurrentBias: cell.recurrentBias },
      projected: leading.projected,
      feedKernel: leading.restKernel,
      recurrentKernel: cell.recurrentKernel,
      h0: h0!,
      feed0: state.feed,
      packed: state.keys!,
      keyMask: state.srcMask,
      combine: this.combine.kernel,
    })
  }

  parameterCount(): number {
    return this.params.count()
  }

  dispose(): void {
    this.params.dispose()
  }
}
