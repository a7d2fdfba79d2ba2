// A Transformer run (models/transformer/model.ts) as two ONNX graphs: the encoder (source ids → each decoder
// layer's cross-attention keys and values) and one incremental decoder step with cache inputs (the previous token at
// its position and every layer's self-attention keys/values so far → logits and the grown caches), as our
// `decodeStep` runs it. Layer norms are ONNX LayerNormalization (opset 17).
import type { TransformerModelConfig } from '../../api/contract.ts'
import { maskedScore } from '../../../models/attention/mask.ts'
import { sinusoidalValues } from '../../../models/transformer/positional-encoding.ts'
import { OnnxGraph } from './onnx-graph.ts'
import { linear, weight, type Weights } from './onnx-weights.ts'

export function transformerShapes(config: TransformerModelConfig): { selfCaches: string[]; crossCaches: string[] } {
  const layers = Array.from({ length: config.decoderLayers }, (_, l) => l)
  return { selfCaches: layers.flatMap((l) => [`self_k${l}`, `self_v${l}`]), crossCaches: layers.flatMap((l) => [`cross_k${l}`, `cross_v${l}`]) }
}

/** The same table as models/transformer/positional-encoding.ts, or the learned one. */
function positionTable(graph: OnnxGraph, config: TransformerModelConfig, weights: Weights): string {
  if (config.positions === 'learned') {
    const table = weight(weights, 'positions')
    return graph.constant('positions', 'float', table.shape, table.values)
  }
  return graph.constant('positions', 'float', [config.maxLength, config.dModel], sinusoidalValues(config.maxLength, config.dModel))
}

/** Shared pieces of both graphs. */
class TransformerOps {
  readonly headSize: number
  private readonly splitShape: string
  private readonly mergeShape: string

  constructor(
    readonly graph: OnnxGraph,
    readonly config: TransformerModelConfig,
    readonly weights: Weights,
  ) {
    this.headSize = config.dModel / config.heads
    this.splitShape = graph.ints('split_heads', [0, 0, config.heads, this.headSize])
    this.mergeShape = graph.ints('merge_heads', [0, 0, config.dModel])
  }

  linear(name: string, x: string): string {
    return linear(this.graph, this.weights, name, x)
  }

  layerNorm(name: string, x: string): string {
    const gamma = weight(this.weights, `${name}/gamma`)
    const beta = weight(this.weights, `${name}/beta`)
    const scale = this.graph.constant(`${name}/gamma`, 'float', gamma.shape, gamma.values)
    return this.graph.op('LayerNormalization', [x, scale, this.graph.constant(`${name}/beta`, 'float', beta.shape, beta.values)], { axis: { int: -1 }, epsilon: { float: 1e-5 } })
  }

  /** [B, T, d] → [B, h, T, dk] */
  splitHeads(x: string): string {
    return this.graph.op('Transpose', [this.graph.op('Reshape', [x, this.splitShape])], { perm: { ints: [0, 2, 1, 3] } })
  }

  /** Keys and values of x [B, T, d] for the attention `name`, split into heads. */
  project(name: string, x: string): [string, string] {
    return [this.splitHeads(this.linear(`${name}/key`, x)), this.splitHeads(this.linear(`${name}/value`, x))]
  }

  /** softmax(QKᵀ/√dk + mask) V Wᴼ for queries [B, Tq, d] over projected k, v [B, h, Tk, dk]; keyMask [B, Tk] or null. */
  attend(name: string, queries: string, k: string, v: string, keyMask: string | null): { output: string; weights: string } {
    const g = this.graph
    const q = this.splitHeads(this.linear(`${name}/query`, queries))
    let scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: { ints: [0, 1, 3, 2] } })]), g.scalar('inverse_sqrt_dk', 1 / Math.sqrt(this.headSize))]) // [B, h, Tq, Tk]
    if (keyMask) {
      const penalty = g.op('Mul', [g.op('Sub', [g.scalar('one', 1), keyMask]), g.scalar('masked_score', maskedScore)]) // [B, Tk]
      scores = g.op('Add', [scores, g.op('Unsqueeze', [penalty, g.ints('axes12', [1, 2])])]) // broadcast over heads and queries
    }
    const weights = g.op('Softmax', [scores], { axis: { int: -1 } })
    const merged = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [weights, v])], { perm: { ints: [0, 2, 1, 3] } }), this.mergeShape]) // [B, Tq, d]
    return { output: this.linear(`${name}/output`, merged), weights }
  }

  /** x + f(LN(x)) (pre-LN) or LN(x + f(x)) (post-LN), as models/transformer/sublayer.ts. */
  residual(norm: string, x: string, sublayer: (input: string) => string): string {
    if (this.config.norm === 'pre') return this.graph.op('Add', [x, sublayer(this.layerNorm(norm, x))])
    return this.layerNorm(norm, this.graph.op('Add', [x, sublayer(x)]))
  }

  feedForward(name: string, x: string): string {
    return this.linear(`${name}/outer`, this.graph.op('Relu', [this.linear(`${name}/inner`, x)]))
  }

  embeddingTable(name: string): string {
    const table = weight(this.weights, `${name}/table`)
    return this.graph.constant(`${name}/table`, 'float', table.shape, table.values)
  }
}

/** src [B, S] int64, src_mask [B, S] → memory [B, S, d] and every decoder layer's cross-attention keys and values. */
export function transformerEncoder(config: TransformerModelConfig, weights: Weights): OnnxGraph {
  const graph = new OnnxGraph('encoder')
  const ops = new TransformerOps(graph, config, weights)
  const src = graph.input('src', 'int64', ['batch', 'src_len'])
  const mask = graph.input('src_mask', 'float', ['batch', 'src_len'])
  const table = ops.embeddingTable(config.shareEmbeddings === 'all' ? 'tgt_embedding' : 'src_embedding')
  const length = graph.op('Slice', [graph.op('Shape', [src]), graph.ints('one', [1]), graph.ints('two', [2])]) // [1]
  const positions = graph.op('Slice', [positionTable(graph, config, weights), graph.ints('zero', [0]), length, graph.ints('zero_axis', [0])]) // [S, d]
  let x = graph.op('Add', [graph.op('Mul', [graph.op('Gather', [table, src]), graph.scalar('sqrt_d', Math.sqrt(config.dModel))]), positions]) // [B, S, d]
  for (let layer = 0; layer < config.encoderLayers; layer++) {
    const name = `encoder/layer${layer}`
    x = ops.residual(`${name}/norm0`, x, (input) => {
      const [k, v] = ops.project(`${name}/self_attention`, input)
      return ops.attend(`${name}/self_attention`, input, k, v, mask).output
    })
    x = ops.residual(`${name}/norm1`, x, (input) => ops.feedForward(`${name}/feed_forward`, input))
  }
  const memory = config.norm === 'pre' ? ops.layerNorm('encoder/final_norm', x) : x
  graph.output('memory', memory, 'float', ['batch', 'src_len', config.dModel])
  for (let layer = 0; layer < config.decoderLayers; layer++) {
    const [k, v] = ops.project(`decoder/layer${layer}/cross_attention`, memory)
    graph.output(`cross_k${layer}`, k, 'float', ['batch', config.heads, 'src_len', ops.headSize])
    graph.output(`cross_v${layer}`, v, 'float', ['batch', config.heads, 'src_len', ops.headSize])
  }
  return graph
}

/**
 * prev [B] int64 at `position` [1] int64 (0 = BOS), the self-attention caches [B, h, t, dk] (t = position; empty at
 * the first step), the cross caches and src_mask → logits [B, V], the top layer's cross-attention [B, h, S] and the
 * caches grown by one position.
 */
export function transformerDecoderStep(config: TransformerModelConfig, weights: Weights, tgtVocab: number): OnnxGraph {
  const graph = new OnnxGraph('decoder_step')
  const ops = new TransformerOps(graph, config, weights)
  const dk = ops.headSize
  const previous = graph.input('prev', 'int64', ['batch'])
  const position = graph.input('position', 'int64', [1])
  const mask = graph.input('src_mask', 'float', ['batch', 'src_len'])
  const selfCaches = Array.from({ length: config.decoderLayers }, (_, l) => [graph.input(`self_k${l}`, 'float', ['batch', config.heads, 'step', dk]), graph.input(`self_v${l}`, 'float', ['batch', config.heads, 'step', dk])] as const)
  const crossCaches = Array.from({ length: config.decoderLayers }, (_, l) => [graph.input(`cross_k${l}`, 'float', ['batch', config.heads, 'src_len', dk]), graph.input(`cross_v${l}`, 'float', ['batch', config.heads, 'src_len', dk])] as const)
  const table = ops.embeddingTable('tgt_embedding')
  const at = graph.op('Gather', [positionTable(graph, config, weights), position]) // [1, d]
  const embedded = graph.op('Add', [graph.op('Mul', [graph.op('Gather', [table, previous]), graph.scalar('sqrt_d', Math.sqrt(config.dModel))]), at]) // [B, d]
  let y = graph.op('Unsqueeze', [embedded, graph.ints('axis1', [1])]) // [B, 1, d]
  let cross = ''
  for (let layer = 0; layer < config.decoderLayers; layer++) {
    const name = `decoder/layer${layer}`
    y = ops.residual(`${name}/norm0`, y, (input) => {
      const [k, v] = ops.project(`${name}/self_attention`, input) // [B, h, 1, dk]
      const grownK = graph.op('Concat', [selfCaches[layer]![0], k], { axis: { int: 2 } })
      const grownV = graph.op('Concat', [selfCaches[layer]![1], v], { axis: { int: 2 } })
      graph.output(`next_self_k${layer}`, grownK, 'float', ['batch', config.heads, 'step_plus_1', dk])
      graph.output(`next_self_v${layer}`, grownV, 'float', ['batch', config.heads, 'step_plus_1', dk])
      return ops.attend(`${name}/self_attention`, input, grownK, grownV, null).output // the newest position sees every earlier one
    })
    y = ops.residual(`${name}/norm1`, y, (input) => {
      const result = ops.attend(`${name}/cross_attention`, input, crossCaches[layer]![0], crossCaches[layer]![1], mask)
      cross = result.weights
      return result.output
    })
    y = ops.residual(`${name}/norm2`, y, (input) => ops.feedForward(`${name}/feed_forward`, input))
  }
  const normed = config.norm === 'pre' ? ops.layerNorm('decoder/final_norm', y) : y
  const top = graph.op('Squeeze', [normed, graph.ints('axis1_out', [1])]) // [B, d]
  let logits: string
  if (config.shareEmbeddings === 'none') logits = ops.linear('output', top)
  else {
    const bias = weight(weights, 'output/bias')
    const tied = graph.op('MatMul', [top, graph.op('Transpose', [table], { perm: { ints: [1, 0] } })]) // x·Eᵀ (Press & Wolf 2017)
    logits = graph.op('Add', [tied, graph.constant('output/bias', 'float', bias.shape, bias.values)])
  }
  graph.output('logits', logits, 'float', ['batch', tgtVocab])
  graph.output('attention', graph.op('Squeeze', [cross, graph.ints('axis2', [2])]), 'float', ['batch', config.heads, 'src_len'])
  return graph
}
