// A small builder for ONNX models (onnx/onnx.proto, IR version 8, opset 17): named inputs, initializers, nodes and
// outputs, encoded as a ModelProto that onnxruntime and every ONNX tool load. Only what our exports use.
import { ProtoWriter } from './proto-writer.ts'

export type ElementType = 'float' | 'int32' | 'int64'
/** TensorProto.DataType */
const elementTypes: Record<ElementType, number> = { float: 1, int32: 6, int64: 7 }

export const OPSET = 17
const IR_VERSION = 8

/** A dimension: a size, or a name for one that varies (batch, source length). */
export type Dimension = number | string

export type Attribute = { int: number } | { float: number } | { ints: number[] } | { string: string } | { tensor: { type: ElementType; dims: number[]; values: ArrayLike<number> } }

export interface OnnxNode {
  op: string
  inputs: string[]
  outputs: string[]
  attributes: Record<string, Attribute>
}

export interface OnnxInitializer {
  name: string
  type: ElementType
  dims: number[]
  values: ArrayLike<number>
}

export interface ValueInfo {
  name: string
  type: ElementType
  shape: Dimension[]
}

function rawData(type: ElementType, values: ArrayLike<number>): Uint8Array {
  if (type === 'float') {
    const array = values instanceof Float32Array ? values : Float32Array.from(values)
    return new Uint8Array(array.buffer, array.byteOffset, array.byteLength)
  }
  if (type === 'int32') {
    const array = Int32Array.from(values)
    return new Uint8Array(array.buffer)
  }
  const array = BigInt64Array.from(Array.from(values, (v) => BigInt(v)))
  return new Uint8Array(array.buffer)
}

function writeTensor(writer: ProtoWriter, name: string, type: ElementType, dims: number[], values: ArrayLike<number>): void {
  const size = dims.reduce((a, b) => a * b, 1)
  if (values.length !== size) throw new Error(`onnx: tensor '${name}' has ${values.length} values for dims [${dims}]`)
  for (const dim of dims) writer.int64(1, dim) // dims
  writer.int64(2, elementTypes[type]) // data_type
  if (name) writer.string(8, name) // name
  writer.bytes(9, rawData(type, values)) // raw_data, little-endian
}

function writeValueInfo(writer: ProtoWriter, info: ValueInfo): void {
  writer.string(1, info.name)
  writer.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int64(1, elementTypes[info.type])
      tensor.message(2, (shape) => {
        for (const dim of info.shape) shape.message(1, (d) => (typeof dim === 'number' ? d.int64(1, dim) : d.string(2, dim)))
      })
    }),
  )
}

function writeAttribute(writer: ProtoWriter, name: string, attribute: Attribute): void {
  writer.string(1, name)
  // AttributeProto: f = 2, i = 3, s = 4, t = 5, ints = 8; type = 20 (FLOAT 1, INT 2, STRING 3, TENSOR 4, INTS 7)
  if ('int' in attribute) writer.int64(3, attribute.int).int64(20, 2)
  else if ('float' in attribute) writer.float(2, attribute.float).int64(20, 1)
  else if ('string' in attribute) writer.string(4, attribute.string).int64(20, 3)
  else if ('ints' in attribute) {
    for (const value of attribute.ints) writer.int64(8, value)
    writer.int64(20, 7)
  } else {
    const { type, dims, values } = attribute.tensor
    writer.message(5, (tensor) => writeTensor(tensor, '', type, dims, values)).int64(20, 4)
  }
}

export class OnnxGraph {
  private readonly nodes: OnnxNode[] = []
  private readonly initializers: OnnxInitializer[] = []
  private readonly inputs: ValueInfo[] = []
  private readonly outputs: ValueInfo[] = []
  private readonly names = new Set<string>()
  private counter = 0

  constructor(readonly name: string) {}

  private fresh(hint: string): string {
    let name = hint
    while (this.names.has(name)) name = `${hint}_${++this.counter}`
    this.names.add(name)
    return name
  }

  input(name: string, type: ElementType, shape: Dimension[]): string {
    if (this.names.has(name)) throw new Error(`onnx: '${name}' is already defined`)
    this.names.add(name)
    this.inputs.push({ name, type, shape })
    return name
  }

  /** A constant tensor (weights, shapes, axes). */
  constant(hint: string, type: ElementType, dims: number[], values: ArrayLike<number>): string {
    const name = this.fresh(hint)
    this.initializers.push({ name, type, dims, values })
    return name
  }

  ints(hint: string, values: number[]): string {
    return this.constant(hint, 'int64', [values.length], values)
  }

  scalar(hint: string, value: number): string {
    return this.constant(hint, 'float', [], [value])
  }

  /** One node; returns its outputs' names ('' in `inputs` skips an optional input). */
  node(op: string, inputs: string[], attributes: Record<string, Attribute> = {}, outputs = 1): string[] {
    const names = Array.from({ length: outputs }, (_, i) => this.fresh(`${op.toLowerCase()}${outputs > 1 ? `_out${i}` : ''}`))
    this.nodes.push({ op, inputs, outputs: names, attributes })
    return names
  }

  /** A node with one output. */
  op(op: string, inputs: string[], attributes: Record<string, Attribute> = {}): string {
    return this.node(op, inputs, attributes)[0]!
  }

  /** Makes `value` a graph output called `name`. */
  output(name: string, value: string, type: ElementType, shape: Dimension[]): void {
    if (this.names.has(name)) throw new Error(`onnx: '${name}' is already defined`)
    this.names.add(name)
    this.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attributes: {} })
    this.outputs.push({ name, type, shape })
  }

  /** The graph's inputs and outputs, as model.json describes them. */
  signature(): { inputs: ValueInfo[]; outputs: ValueInfo[] } {
    return { inputs: this.inputs.map((v) => ({ ...v })), outputs: this.outputs.map((v) => ({ ...v })) }
  }

  /** The graph as built, in node order (what other formats are converted from). */
  ir(): { nodes: readonly OnnxNode[]; initializers: readonly OnnxInitializer[]; inputs: readonly ValueInfo[]; outputs: readonly ValueInfo[] } {
    return { nodes: this.nodes, initializers: this.initializers, inputs: this.inputs, outputs: this.outputs }
  }

  /** The ModelProto's bytes. */
  encode(producer: { name: string; version: string }, docString = ''): Uint8Array {
    const model = new ProtoWriter()
    model.int64(1, IR_VERSION) // ir_version
    model.string(2, producer.name).string(3, producer.version) // producer_name, producer_version
    if (docString) model.string(6, docString)
    model.message(7, (graph) => {
      for (const node of this.nodes) {
        graph.message(1, (n) => {
          for (const input of node.inputs) n.string(1, input)
          for (const output of node.outputs) n.string(2, output)
          n.string(3, `${node.outputs[0]}_node`).string(4, node.op)
          for (const [name, attribute] of Object.entries(node.attributes)) n.message(5, (a) => writeAttribute(a, name, attribute))
        })
      }
      graph.string(2, this.name)
      for (const init of this.initializers) graph.message(5, (t) => writeTensor(t, init.name, init.type, init.dims, init.values))
      for (const input of this.inputs) graph.message(11, (v) => writeValueInfo(v, input))
      for (const output of this.outputs) graph.message(12, (v) => writeValueInfo(v, output))
    })
    model.message(8, (opset) => opset.string(1, '').int64(2, OPSET)) // opset_import
    return model.finish()
  }
}
