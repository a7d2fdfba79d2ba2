// What both ONNX model graphs take from a checkpoint: a named parameter, and a Linear layer (x·W + b) as nodes.
import type { NamedArray } from '../../../models/train/checkpoint-codec.ts'
import type { OnnxGraph } from './onnx-graph.ts'

export type Weights = Map<string, NamedArray>

export function weight(weights: Weights, name: string): NamedArray {
  const array = weights.get(name)
  if (!array) throw new Error(`the checkpoint has no parameter '${name}'`)
  return array
}

/** x [..., in] · `name`/kernel (+ `name`/bias where the layer has one). */
export function linear(graph: OnnxGraph, weights: Weights, name: string, x: string): string {
  const kernel = weight(weights, `${name}/kernel`)
  const product = graph.op('MatMul', [x, graph.constant(`${name}/kernel`, 'float', kernel.shape, kernel.values)])
  const bias = weights.get(`${name}/bias`)
  return bias ? graph.op('Add', [product, graph.constant(`${name}/bias`, 'float', bias.shape, bias.values)]) : product
}
