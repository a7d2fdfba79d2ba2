// A seq2seq run (models/seq2seq/model.ts) as two ONNX graphs: the encoder (source ids → memory, attention keys, the
// decoder's initial states) and one decoder step (previous token and states → logits, attention, next states).
// The recurrent layers use ONNX's own LSTM/GRU/RNN operators, their gate blocks reordered (ours: LSTM i f g o,
// GRU r z n; ONNX: i o f c, z r h) and their matrices transposed; GRU's reset gate after the recurrent product is
// ONNX's linear_before_reset = 1. Padded sources run with sequence_lens, as our masked unroll does.
import type { Seq2SeqModelConfig } from '../../api/contract.ts'
import type { NamedArray } from '../../../models/train/checkpoint-codec.ts'
import { maskedScore } from '../../../models/attention/mask.ts'
import { OnnxGraph } from './onnx-graph.ts'
import { linear, weight, type Weights } from './onnx-weights.ts'

/** Our gate order as ONNX's: for each ONNX gate block, the index of ours. */
const gateOrder = { lstm: [0, 3, 1, 2], gru: [1, 0, 2], rnn: [0] } as const
const gateCount = { lstm: 4, gru: 3, rnn: 1 } as const

/** kernel [rows, G·H] (ours) → [G·H, rows] with the gate blocks in ONNX's order. */
function onnxMatrix(kernel: NamedArray, cell: Seq2SeqModelConfig['cell'], hidden: number): Float32Array {
  const [rows, cols] = kernel.shape as [number, number]
  const out = new Float32Array(rows * cols)
  gateOrder[cell].forEach((ours, block) => {
    for (let u = 0; u < hidden; u++) {
      const from = ours * hidden + u
      const to = (block * hidden + u) * rows
      for (let r = 0; r < rows; r++) out[to + r] = kernel.values[r * cols + from]!
    }
  })
  return out
}

function onnxBias(bias: Float32Array | null, cell: Seq2SeqModelConfig['cell'], hidden: number): Float32Array {
  const out = new Float32Array(gateCount[cell] * hidden)
  if (bias) gateOrder[cell].forEach((ours, block) => out.set(bias.subarray(ours * hidden, (ours + 1) * hidden), block * hidden))
  return out
}

/** W [dirs, G·H, in], R [dirs, G·H, H], B [dirs, 2·G·H] for the cells under `prefixes` (forward, then backward). */
function recurrentWeights(graph: OnnxGraph, weights: Weights, prefixes: string[], cell: Seq2SeqModelConfig['cell'], hidden: number): [string, string, string] {
  const gates = gateCount[cell] * hidden
  const inputSize = weight(weights, `${prefixes[0]}/input_kernel`).shape[0]!
  const w = new Float32Array(prefixes.length * gates * inputSize)
  const r = new Float32Array(prefixes.length * gates * hidden)
  const b = new Float32Array(prefixes.length * 2 * gates)
  prefixes.forEach((prefix, d) => {
    w.set(onnxMatrix(weight(weights, `${prefix}/input_kernel`), cell, hidden), d * gates * inputSize)
    r.set(onnxMatrix(weight(weights, `${prefix}/recurrent_kernel`), cell, hidden), d * gates * hidden)
    const inputBias = weight(weights, cell === 'gru' ? `${prefix}/input_bias` : `${prefix}/bias`).values
    b.set(onnxBias(inputBias, cell, hidden), d * 2 * gates)
    b.set(onnxBias(cell === 'gru' ? weight(weights, `${prefix}/recurrent_bias`).values : null, cell, hidden), d * 2 * gates + gates)
  })
  const dirs = prefixes.length
  const name = prefixes[0]!.replace(/\/forward$/, '')
  return [
    graph.constant(`${name}/W`, 'float', [dirs, gates, inputSize], w),
    graph.constant(`${name}/R`, 'float', [dirs, gates, hidden], r),
    graph.constant(`${name}/B`, 'float', [dirs, 2 * gates], b),
  ]
}

const rnnOp = { lstm: 'LSTM', gru: 'GRU', rnn: 'RNN' } as const

/** One recurrent layer over x [T, B, in] → Y [T, dirs, B, H], Y_h [dirs, B, H] (and Y_c for LSTM). */
function recurrentLayer(graph: OnnxGraph, cell: Seq2SeqModelConfig['cell'], hidden: number, w: [string, string, string], x: string, sequenceLengths: string, initial: string[], bidirectional: boolean): string[] {
  const attributes = { hidden_size: { int: hidden }, direction: { string: bidirectional ? 'bidirectional' : 'forward' }, ...(cell === 'gru' ? { linear_before_reset: { int: 1 } } : {}) }
  return graph.node(rnnOp[cell], [x, ...w, sequenceLengths, ...initial], attributes, cell === 'lstm' ? 3 : 2)
}

export interface Seq2SeqShapes {
  hidden: number
  memorySize: number
  keySize: number
  /** Per decoder layer: 'h', or 'h' and 'c'. */
  states: string[][]
  inputFeeding: boolean
  attention: boolean
}

export function seq2seqShapes(config: Seq2SeqModelConfig): Seq2SeqShapes {
  const memorySize = (config.bidirectional ? 2 : 1) * config.hiddenSize
  const attention = config.attention !== 'none'
  return {
    hidden: config.hiddenSize,
    memorySize,
    keySize: config.attention === 'luong' || config.attention === 'bahdanau' ? config.hiddenSize : memorySize,
    states: Array.from({ length: config.decoderLayers }, (_, l) => (config.cell === 'lstm' ? [`h${l}`, `c${l}`] : [`h${l}`])),
    inputFeeding: attention && config.inputFeeding,
    attention,
  }
}

/** src [B, S] int64, src_mask [B, S] → memory [B, S, enc], keys [B, S, q], the decoder's states [B, H], feed [B, H]. */
export function seq2seqEncoder(config: Seq2SeqModelConfig, weights: Weights): OnnxGraph {
  const graph = new OnnxGraph('encoder')
  const shapes = seq2seqShapes(config)
  const H = config.hiddenSize
  const src = graph.input('src', 'int64', ['batch', 'src_len'])
  const mask = graph.input('src_mask', 'float', ['batch', 'src_len'])
  const table = weight(weights, 'src_embedding/table')
  const embedded = graph.op('Gather', [graph.constant('src_embedding/table', 'float', table.shape, table.values), src]) // [B, S, E]
  let x = graph.op('Transpose', [embedded], { perm: { ints: [1, 0, 2] } }) // [S, B, E]
  const lengths = graph.op('Cast', [graph.op('ReduceSum', [mask, graph.ints('axis1', [1])], { keepdims: { int: 0 } })], { to: { int: 6 } }) // [B] int32
  const finals: string[][] = [] // per layer, per state component: [B, dirs·H]
  const flattenTail = graph.ints('keep_keep_flatten', [0, 0, -1])
  const flattenFinal = graph.ints('keep_flatten', [0, -1])
  for (let layer = 0; layer < config.encoderLayers; layer++) {
    const prefixes = [`encoder/layer${layer}/forward`, ...(config.bidirectional ? [`encoder/layer${layer}/backward`] : [])]
    const [y, ...states] = recurrentLayer(graph, config.cell, H, recurrentWeights(graph, weights, prefixes, config.cell, H), x, lengths, [], config.bidirectional)
    x = graph.op('Reshape', [graph.op('Transpose', [y!], { perm: { ints: [0, 2, 1, 3] } }), flattenTail]) // [S, B, dirs·H]
    finals.push(states.map((state) => graph.op('Reshape', [graph.op('Transpose', [state], { perm: { ints: [1, 0, 2] } }), flattenFinal]))) // [B, dirs·H]
  }
  const memory = graph.op('Transpose', [x], { perm: { ints: [1, 0, 2] } }) // [B, S, enc]
  graph.output('memory', memory, 'float', ['batch', 'src_len', shapes.memorySize])
  if (config.attention === 'luong') graph.output('keys', linear(graph, weights, 'attention/weight', memory), 'float', ['batch', 'src_len', shapes.keySize])
  else if (config.attention === 'bahdanau') graph.output('keys', linear(graph, weights, 'attention/key', memory), 'float', ['batch', 'src_len', shapes.keySize])
  else if (config.attention === 'luong-dot') graph.output('keys', memory, 'float', ['batch', 'src_len', shapes.keySize])
  shapes.states.forEach((components, layer) => {
    const source = finals[Math.min(layer, finals.length - 1)]!
    components.forEach((name, c) => graph.output(name, graph.op('Tanh', [linear(graph, weights, `bridge/layer${layer}/state${c}`, source[c]!)]), 'float', ['batch', H]))
  })
  if (shapes.inputFeeding) {
    const batch = graph.op('Slice', [graph.op('Shape', [src]), graph.ints('zero', [0]), graph.ints('one', [1])]) // [1]
    const shape = graph.op('Concat', [batch, graph.ints('hidden', [H])], { axis: { int: 0 } })
    graph.output('feed', graph.op('ConstantOfShape', [shape], { value: { tensor: { type: 'float', dims: [1], values: [0] } } }), 'float', ['batch', H])
  }
  return graph
}

/** prev [B] int64 and the encoder's outputs and states → logits [B, V], attention [B, S], next states and feed. */
export function seq2seqDecoderStep(config: Seq2SeqModelConfig, weights: Weights, tgtVocab: number): OnnxGraph {
  const graph = new OnnxGraph('decoder_step')
  const shapes = seq2seqShapes(config)
  const H = config.hiddenSize
  const previous = graph.input('prev', 'int64', ['batch'])
  const memory = shapes.attention ? graph.input('memory', 'float', ['batch', 'src_len', shapes.memorySize]) : null
  const keys = shapes.attention ? graph.input('keys', 'float', ['batch', 'src_len', shapes.keySize]) : null
  const mask = shapes.attention ? graph.input('src_mask', 'float', ['batch', 'src_len']) : null
  const states = shapes.states.map((components) => components.map((name) => graph.input(name, 'float', ['batch', H])))
  const feed = shapes.inputFeeding ? graph.input('feed', 'float', ['batch', H]) : null
  const table = weight(weights, 'tgt_embedding/table')
  let input = graph.op('Gather', [graph.constant('tgt_embedding/table', 'float', table.shape, table.values), previous]) // [B, E]
  if (feed) input = graph.op('Concat', [input, feed], { axis: { int: 1 } }) // [B, E + H]
  const axis0 = graph.ints('axis0', [0])
  const next: string[][] = []
  states.forEach((state, layer) => {
    const w = recurrentWeights(graph, weights, [`decoder/layer${layer}`], config.cell, H)
    const initial = state.map((s) => graph.op('Unsqueeze', [s, axis0])) // [1, B, H]
    const [, ...finals] = recurrentLayer(graph, config.cell, H, w, graph.op('Unsqueeze', [input, axis0]), '', initial, false)
    const squeezed = finals.map((f) => graph.op('Squeeze', [f, axis0])) // [B, H]
    next.push(squeezed)
    input = squeezed[0]!
  })
  const top = input
  let attentional = top
  if (memory && keys && mask) {
    const axis1 = graph.ints('axis1', [1])
    const axis2 = graph.ints('axis2', [2])
    let scores: string
    if (config.attention === 'bahdanau') {
      const query = graph.op('Unsqueeze', [linear(graph, weights, 'attention/query', top), axis1]) // [B, 1, U]
      const v = weight(weights, 'attention/v')
      const hidden = graph.op('Tanh', [graph.op('Add', [keys, query])]) // [B, S, U]
      scores = graph.op('Squeeze', [graph.op('MatMul', [hidden, graph.constant('attention/v', 'float', [v.shape[0]!, 1], v.values)]), axis2]) // [B, S]
    } else {
      scores = graph.op('Squeeze', [graph.op('MatMul', [keys, graph.op('Unsqueeze', [top, axis2])]), axis2]) // [B, S, q]·[B, q, 1] → [B, S]
    }
    const penalty = graph.op('Mul', [graph.op('Sub', [graph.scalar('one', 1), mask]), graph.scalar('masked_score', maskedScore)])
    const weightsOut = graph.op('Softmax', [graph.op('Add', [scores, penalty])], { axis: { int: -1 } }) // [B, S]
    const context = graph.op('Squeeze', [graph.op('MatMul', [graph.op('Unsqueeze', [weightsOut, axis1]), memory]), axis1]) // [B, enc]
    attentional = graph.op('Tanh', [linear(graph, weights, 'combine', graph.op('Concat', [top, context], { axis: { int: 1 } }))]) // Luong eq. 5
    graph.output('attention', weightsOut, 'float', ['batch', 'src_len'])
  }
  graph.output('logits', linear(graph, weights, 'output', attentional), 'float', ['batch', tgtVocab])
  shapes.states.forEach((components, layer) => components.forEach((name, c) => graph.output(`next_${name}`, next[layer]![c]!, 'float', ['batch', H])))
  if (feed) graph.output('next_feed', attentional, 'float', ['batch', H])
  return graph
}
