// A small builder for TensorFlow.js graph models (the `graph-model` format tfjs-converter writes: a GraphDef as JSON
// in model.json, constants as named weights in a binary file), which `tf.loadGraphModel` loads and runs on any
// backend. Only what our exports use.

export type TfDtype = 'float32' | 'int32'
const dataTypes: Record<TfDtype, 'DT_FLOAT' | 'DT_INT32'> = { float32: 'DT_FLOAT', int32: 'DT_INT32' }

/** A dimension: a size, or -1 for one that varies. */
type TensorShapeJson = { dim: { size: string }[] }

/** AttrValue as proto3 JSON (int64 as strings). */
export type TfAttr = { i: string } | { f: number } | { b: boolean } | { type: 'DT_FLOAT' | 'DT_INT32' } | { list: { i: string[] } } | { shape: TensorShapeJson } | { tensor: { dtype: string; tensorShape: TensorShapeJson } }

interface NodeDef {
  name: string
  op: string
  input: string[]
  attr: Record<string, TfAttr>
}

interface WeightSpec {
  name: string
  shape: number[]
  dtype: TfDtype
}

interface SignatureEntry {
  name: string
  dtype: 'DT_FLOAT' | 'DT_INT32'
  tensorShape: TensorShapeJson
}

/** model.json of a tfjs graph model, its weights in one file named by `weightsManifest[0].paths[0]`. */
export interface TfjsGraphModelJson {
  format: 'graph-model'
  generatedBy: string
  convertedBy: string
  modelTopology: { node: NodeDef[]; library: Record<string, never>; versions: Record<string, never> }
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[]
  signature: { inputs: Record<string, SignatureEntry>; outputs: Record<string, SignatureEntry> }
}

export interface TfjsGraphModel {
  json: TfjsGraphModelJson
  weights: Uint8Array
}

const shapeJson = (shape: readonly number[]): TensorShapeJson => ({ dim: shape.map((size) => ({ size: String(size) })) })

/** Attributes: ints, floats, booleans, dtypes and int lists, as GraphDef JSON writes them. */
export const attr = {
  int: (value: number): TfAttr => ({ i: String(value) }),
  float: (value: number): TfAttr => ({ f: value }),
  bool: (value: boolean): TfAttr => ({ b: value }),
  dtype: (dtype: TfDtype): TfAttr => ({ type: dataTypes[dtype] }),
  ints: (values: readonly number[]): TfAttr => ({ list: { i: values.map(String) } }),
}

export class TfGraphDef {
  private readonly nodes: NodeDef[] = []
  private readonly weights: { spec: WeightSpec; values: Float32Array | Int32Array }[] = []
  private readonly names = new Set<string>()
  private readonly smallConstants = new Map<string, string>()
  private readonly inputs: Record<string, SignatureEntry> = {}
  private readonly outputs: Record<string, SignatureEntry> = {}
  private counter = 0

  /** Names the graph must keep (its inputs, outputs and weights), so generated names never take them. */
  reserve(names: Iterable<string>): void {
    for (const name of names) this.names.add(name)
  }

  private fresh(hint: string): string {
    let name = hint
    while (this.names.has(name)) name = `${hint}_${++this.counter}`
    this.names.add(name)
    return name
  }

  /** A graph input; `shape` uses -1 for a size that varies. */
  placeholder(name: string, dtype: TfDtype, shape: readonly number[]): string {
    this.nodes.push({ name, op: 'Placeholder', input: [], attr: { dtype: attr.dtype(dtype), shape: { shape: shapeJson(shape) } } })
    this.inputs[name] = { name: `${name}:0`, dtype: dataTypes[dtype], tensorShape: shapeJson(shape) }
    return name
  }

  /** A constant kept in the weights file; `name` is used as given when it is reserved for it, else made unique. */
  constant(name: string, dtype: TfDtype, shape: readonly number[], values: ArrayLike<number>, reserved = false): string {
    const size = shape.reduce((a, b) => a * b, 1)
    if (values.length !== size) throw new Error(`tfjs: constant '${name}' has ${values.length} values for shape [${shape}]`)
    const unique = reserved ? name : this.fresh(name)
    const stored = dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values)
    this.weights.push({ spec: { name: unique, shape: [...shape], dtype }, values: stored })
    this.nodes.push({ name: unique, op: 'Const', input: [], attr: { dtype: attr.dtype(dtype), value: { tensor: { dtype: dataTypes[dtype], tensorShape: shapeJson(shape) } } } })
    return unique
  }

  /** A small int32 constant (shapes, axes, indices), shared by every node that uses the same values. */
  ints(values: readonly number[], shape: readonly number[] = [values.length]): string {
    const key = `${shape.join('x')}:${values.join(',')}`
    let name = this.smallConstants.get(key)
    if (!name) {
      name = this.constant(shape.length === 0 ? `const_${values[0]}` : 'const_ints', 'int32', shape, values)
      this.smallConstants.set(key, name)
    }
    return name
  }

  /** A float scalar, shared like `ints`. */
  scalar(value: number): string {
    const key = `f:${value}`
    let name = this.smallConstants.get(key)
    if (!name) {
      name = this.constant('const_scalar', 'float32', [], [value])
      this.smallConstants.set(key, name)
    }
    return name
  }

  /** One node; returns its name, which is also the reference to its first output (`name:1` is the second). */
  op(op: string, input: string[], attrs: Record<string, TfAttr> = {}, name?: string): string {
    const unique = name ?? this.fresh(op.toLowerCase())
    this.nodes.push({ name: unique, op, input, attr: attrs })
    return unique
  }

  /** Makes `value` a graph output called `name` (reserved beforehand). */
  output(name: string, value: string, dtype: TfDtype, shape: readonly number[]): void {
    this.op('Identity', [value], {}, name)
    this.outputs[name] = { name: `${name}:0`, dtype: dataTypes[dtype], tensorShape: shapeJson(shape) }
  }

  /** model.json and the weights file's bytes. */
  finish(weightsPath: string, producer: string): TfjsGraphModel {
    const specs = this.weights.map((w) => w.spec)
    const bytes = new Uint8Array(this.weights.reduce((total, w) => total + w.values.byteLength, 0))
    let offset = 0
    for (const { values } of this.weights) {
      bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset) // little-endian, as tfjs reads
      offset += values.byteLength
    }
    return {
      json: {
        format: 'graph-model',
        generatedBy: producer,
        convertedBy: producer,
        modelTopology: { node: this.nodes, library: {}, versions: {} },
        weightsManifest: [{ paths: [weightsPath], weights: specs }],
        signature: { inputs: this.inputs, outputs: this.outputs },
      },
      weights: bytes,
    }
  }
}
