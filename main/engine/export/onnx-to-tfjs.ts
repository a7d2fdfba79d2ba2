// Our ONNX graphs (onnx-seq2seq.ts, onnx-transformer.ts) as TensorFlow.js graph models: each ONNX node becomes the
// TensorFlow ops with its meaning (ONNX Operators.md, opset 17), int64 becomes int32 (tfjs has no int64), and the
// recurrent operators are unrolled (tfjs-recurrent.ts). Only the operators our exports emit are covered.
import type { Attribute, ElementType, OnnxGraph, OnnxInitializer, OnnxNode } from './onnx-graph.ts'
import { attr, TfGraphDef, type TfDtype, type TfjsGraphModel } from './tfjs-graph-def.ts'
import { unrollRecurrent, type RecurrentOp } from './tfjs-recurrent.ts'

export interface TfjsConversion {
  /** Steps the recurrent operators are unrolled to: the longest source the graph reads (with sequence_lens). */
  recurrentSteps: number
  /** The weights file's name, as model.json refers to it. */
  weightsPath: string
  producer: string
}

/** An ONNX element type as tfjs holds it (no int64 there). */
export const tfDtype = (type: ElementType): TfDtype => (type === 'float' ? 'float32' : 'int32')
/** ONNX TensorProto.DataType → ours (Cast's `to`). */
const castTargets: Record<number, TfDtype> = { 1: 'float32', 6: 'int32', 7: 'int32' }

/** A tfjs shape for an ONNX signature: named (varying) dimensions become -1. */
const tfShape = (shape: readonly (number | string)[]) => shape.map((d) => (typeof d === 'number' ? d : -1))

function intAttribute(node: OnnxNode, name: string, fallback?: number): number {
  const value = node.attributes[name]
  if (value && 'int' in value) return value.int
  if (fallback !== undefined) return fallback
  throw new Error(`tfjs export: ${node.op} needs the attribute '${name}'`)
}

/** The attribute `name` when it holds a value of `kind`. */
function attribute<K extends 'ints' | 'float' | 'string' | 'tensor'>(node: OnnxNode, name: string, kind: K): Extract<Attribute, Record<K, unknown>>[K] | undefined {
  const value: Attribute | undefined = node.attributes[name]
  return value && kind in value ? (value as unknown as Record<K, Extract<Attribute, Record<K, unknown>>[K]>)[kind] : undefined
}

export function onnxToTfjs(graph: OnnxGraph, options: TfjsConversion): TfjsGraphModel {
  const { nodes, initializers, inputs, outputs } = graph.ir()
  const g = new TfGraphDef()
  const constants = new Map<string, OnnxInitializer>(initializers.map((init) => [init.name, init]))
  const outputNames = new Set(outputs.map((o) => o.name))
  g.reserve([...inputs.map((i) => i.name), ...outputNames, ...initializers.map((i) => i.name)])
  const refs = new Map<string, string>() // ONNX value name → tfjs tensor reference
  for (const input of inputs) refs.set(input.name, g.placeholder(input.name, tfDtype(input.type), tfShape(input.shape)))
  for (const init of initializers) {
    if (init.type === 'int64' && Array.from(init.values).some((v) => Math.abs(v) > 2 ** 31 - 1)) throw new Error(`tfjs export: '${init.name}' does not fit int32`)
    refs.set(init.name, g.constant(init.name, tfDtype(init.type), init.dims, init.values, true))
  }
  const ref = (name: string): string => {
    const found = refs.get(name)
    if (found === undefined) throw new Error(`tfjs export: '${name}' is used before it is defined`)
    return found
  }
  /** An input that must be a constant of the graph (axes, shapes, starts). */
  const constantValues = (node: OnnxNode, index: number): number[] => {
    const init = constants.get(node.inputs[index]!)
    if (!init) throw new Error(`tfjs export: ${node.op}'s input ${index} must be a constant`)
    return Array.from(init.values)
  }

  for (const node of nodes) {
    const x = node.inputs[0] ? ref(node.inputs[0]) : ''
    const results = ((): string[] => {
      switch (node.op) {
        case 'Identity':
          if (outputNames.has(node.outputs[0]!)) {
            const info = outputs.find((o) => o.name === node.outputs[0])!
            g.output(info.name, x, tfDtype(info.type), tfShape(info.shape))
            return [info.name]
          }
          return [x]
        case 'Add':
          return [g.op('AddV2', [x, ref(node.inputs[1]!)])]
        case 'Sub':
        case 'Mul':
          return [g.op(node.op, [x, ref(node.inputs[1]!)])]
        case 'Tanh':
        case 'Relu':
        case 'Sigmoid':
        case 'Shape':
          return [g.op(node.op, [x])]
        case 'MatMul': // numpy-style broadcasting of the batch dimensions, as tf.matMul does
          return [g.op('BatchMatMulV2', [x, ref(node.inputs[1]!)])]
        case 'Softmax':
          if (intAttribute(node, 'axis', -1) !== -1) throw new Error('tfjs export: Softmax over another axis than the last')
          return [g.op('Softmax', [x])]
        case 'Gather':
          return [g.op('GatherV2', [x, ref(node.inputs[1]!), g.ints([intAttribute(node, 'axis', 0)], [])], { batch_dims: attr.int(0) })]
        case 'Transpose':
          return [g.op('Transpose', [x, g.ints(attribute(node, 'perm', 'ints') ?? [])])]
        case 'Cast': {
          const to = castTargets[intAttribute(node, 'to')]
          if (!to) throw new Error(`tfjs export: Cast to ONNX type ${intAttribute(node, 'to')}`)
          return [g.op('Cast', [x], { DstT: attr.dtype(to) })]
        }
        case 'ReduceSum':
          return [g.op('Sum', [x, g.ints(constantValues(node, 1))], { keep_dims: attr.bool(intAttribute(node, 'keepdims', 1) === 1) })]
        case 'Concat':
          return [g.op('ConcatV2', [...node.inputs.map(ref), g.ints([intAttribute(node, 'axis')], [])], { N: attr.int(node.inputs.length) })]
        case 'Unsqueeze': {
          let out = x
          for (const axis of [...constantValues(node, 1)].sort((a, b) => a - b)) out = g.op('ExpandDims', [out, g.ints([axis], [])])
          return [out]
        }
        case 'Squeeze':
          return [g.op('Squeeze', [x], { axis: attr.ints(constantValues(node, 1)) })]
        case 'Reshape': {
          const shape = constantValues(node, 1)
          if (!shape.includes(0)) return [g.op('Reshape', [x, ref(node.inputs[1]!)])]
          // ONNX's 0 keeps that dimension of the input: take it from the input's shape at run time.
          const dims = g.op('Shape', [x])
          const parts = shape.map((size, i) => (size === 0 ? g.op('StridedSlice', [dims, g.ints([i]), g.ints([i + 1]), g.ints([1])]) : g.ints([size])))
          return [g.op('Reshape', [x, g.op('ConcatV2', [...parts, g.ints([0], [])], { N: attr.int(parts.length) })])]
        }
        case 'Slice': {
          // Ours slice leading axes with step 1 (Shape's elements, the first rows of the position table).
          const starts = constantValues(node, 1)
          if (node.inputs[3]) {
            const axes = constantValues(node, 3)
            if (axes.some((axis, i) => axis !== i)) throw new Error('tfjs export: Slice over axes other than the leading ones')
          }
          if (node.inputs[4]) throw new Error('tfjs export: Slice with steps')
          return [g.op('StridedSlice', [x, g.ints(starts), ref(node.inputs[2]!), g.ints(starts.map(() => 1))])]
        }
        case 'ConstantOfShape': {
          const value = attribute(node, 'value', 'tensor')
          if (value && value.type !== 'float') throw new Error('tfjs export: ConstantOfShape of another type than float')
          return [g.op('Fill', [x, g.scalar(value ? value.values[0]! : 0)], { T: attr.dtype('float32') })]
        }
        case 'LayerNormalization': {
          // (x − mean) / sqrt(var + ε) · scale + bias over the last axis (Ba et al. 2016)
          if (intAttribute(node, 'axis', -1) !== -1) throw new Error('tfjs export: LayerNormalization over another axis than the last')
          const epsilon = attribute(node, 'epsilon', 'float') ?? 1e-5
          const last = g.ints([-1])
          const mean = g.op('Mean', [x, last], { keep_dims: attr.bool(true) })
          const variance = g.op('Mean', [g.op('SquaredDifference', [x, mean]), last], { keep_dims: attr.bool(true) })
          const normalized = g.op('Mul', [g.op('Sub', [x, mean]), g.op('Rsqrt', [g.op('AddV2', [variance, g.scalar(epsilon)])])])
          return [g.op('AddV2', [g.op('Mul', [normalized, ref(node.inputs[1]!)]), ref(node.inputs[2]!)])]
        }
        case 'LSTM':
        case 'GRU':
        case 'RNN': {
          const initializer = (index: number) => {
            const init = constants.get(node.inputs[index]!)
            if (!init) throw new Error(`tfjs export: ${node.op}'s weights must be constants`)
            return init
          }
          const optional = (index: number) => (node.inputs[index] ? ref(node.inputs[index]!) : null)
          const direction = attribute(node, 'direction', 'string') ?? 'forward'
          if (direction === 'reverse') throw new Error(`tfjs export: ${node.op} in reverse direction only`)
          return unrollRecurrent(
            g,
            {
              op: node.op as RecurrentOp,
              hidden: intAttribute(node, 'hidden_size'),
              directions: direction === 'bidirectional' ? 2 : 1,
              linearBeforeReset: intAttribute(node, 'linear_before_reset', 0) === 1,
              x,
              w: initializer(1),
              r: initializer(2),
              b: node.inputs[3] ? initializer(3) : null,
              sequenceLengths: optional(4),
              initialH: optional(5),
              initialC: optional(6),
            },
            node.inputs[4] ? options.recurrentSteps : 1,
          )
        }
        default:
          throw new Error(`tfjs export: no conversion for the ONNX operator ${node.op}`)
      }
    })()
    node.outputs.forEach((name, i) => refs.set(name, results[i]!))
  }
  return g.finish(options.weightsPath, options.producer)
}
