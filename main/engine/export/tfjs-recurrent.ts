// ONNX's LSTM, GRU and RNN operators (onnx/docs/Operators.md, default activations) as TensorFlow.js graph nodes,
// unrolled over a fixed number of steps: tfjs graph models have no recurrent operator. With sequence_lens, the input
// is padded to that many steps and each row's states stop changing after its length (outputs there are zero, as
// ONNX's); without, the input must have exactly that many steps.
import type { OnnxInitializer } from './onnx-graph.ts'
import { attr, type TfGraphDef } from './tfjs-graph-def.ts'

export type RecurrentOp = 'LSTM' | 'GRU' | 'RNN'
const gateCount: Record<RecurrentOp, number> = { LSTM: 4, GRU: 3, RNN: 1 }

export interface RecurrentNode {
  op: RecurrentOp
  hidden: number
  directions: 1 | 2
  /** GRU: the reset gate applies after the recurrent product (ONNX linear_before_reset = 1). */
  linearBeforeReset: boolean
  x: string
  w: OnnxInitializer
  r: OnnxInitializer
  b: OnnxInitializer | null
  sequenceLengths: string | null
  initialH: string | null
  initialC: string | null
}

/** Direction `d` of an ONNX matrix [dirs, G·H, cols], transposed to [cols, G·H] for x·W. */
function transposedBlock(matrix: OnnxInitializer, d: number): Float32Array {
  const [, rows, cols] = matrix.dims as [number, number, number]
  const out = new Float32Array(rows * cols)
  const base = d * rows * cols
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = matrix.values[base + r * cols + c]!
  return out
}

/** Direction `d`'s input bias Wb and recurrent bias Rb, each [G·H]. */
function biases(node: RecurrentNode, d: number): [Float32Array, Float32Array] {
  const size = gateCount[node.op] * node.hidden
  if (!node.b) return [new Float32Array(size), new Float32Array(size)]
  const all = Float32Array.from(node.b.values)
  return [all.slice(2 * d * size, (2 * d + 1) * size), all.slice((2 * d + 1) * size, (2 * d + 2) * size)]
}

/** Y [T, dirs, B, H], Y_h [dirs, B, H] and, for LSTM, Y_c [dirs, B, H]. */
export function unrollRecurrent(g: TfGraphDef, node: RecurrentNode, steps: number): string[] {
  const H = node.hidden
  const gates = gateCount[node.op] * H
  const inputSize = node.w.dims[2]!
  const shape = g.op('Shape', [node.x]) // [3]: T, B, in
  const batch = g.op('StridedSlice', [shape, g.ints([1]), g.ints([2]), g.ints([1])]) // [1]
  let x = node.x
  let mask: string | null = null // [steps, B, 1]: 1 while t < length
  let length: string | null = null // [1]
  if (node.sequenceLengths) {
    length = g.op('StridedSlice', [shape, g.ints([0]), g.ints([1]), g.ints([1])])
    // Fill refuses a negative size, so a source longer than `steps` fails here rather than being cut by Pad.
    const padAfter = g.op('Shape', [g.op('Fill', [g.op('Sub', [g.ints([steps]), length]), g.scalar(0)], { T: attr.dtype('float32') })]) // [1]: steps − T
    const paddings = g.op('Reshape', [g.op('ConcatV2', [g.ints([0]), padAfter, g.ints([0, 0, 0, 0]), g.ints([0], [])], { N: attr.int(3) }), g.ints([3, 2])])
    x = g.op('Pad', [node.x, paddings]) // [steps, B, in]
    const times = g.ints(Array.from({ length: steps }, (_, t) => t), [steps, 1])
    const lengths = g.op('ExpandDims', [g.op('Cast', [node.sequenceLengths], { DstT: attr.dtype('int32') }), g.ints([0], [])]) // [1, B]
    mask = g.op('ExpandDims', [g.op('Cast', [g.op('Less', [times, lengths])], { DstT: attr.dtype('float32') }), g.ints([2], [])])
  }
  const zeros = g.op('Fill', [g.op('ConcatV2', [batch, g.ints([H]), g.ints([0], [])], { N: attr.int(2) }), g.scalar(0)], { T: attr.dtype('float32') }) // [B, H]
  const flat = g.op('Reshape', [x, g.ints([-1, inputSize])]) // [steps·B, in]
  const split = (value: string, parts: number) => {
    const name = g.op('Split', [g.ints([1], []), value], { num_split: attr.int(parts) })
    return Array.from({ length: parts }, (_, i) => (i === 0 ? name : `${name}:${i}`))
  }
  const sigmoid = (value: string) => g.op('Sigmoid', [value])
  const tanh = (value: string) => g.op('Tanh', [value])
  const add = (a: string, b: string) => g.op('AddV2', [a, b])
  const mul = (a: string, b: string) => g.op('Mul', [a, b])
  const one = g.scalar(1)

  const ys: string[] = []
  const finalH: string[] = []
  const finalC: string[] = []
  for (let d = 0; d < node.directions; d++) {
    const wt = g.constant(`${node.w.name}_${d}_transposed`, 'float32', [inputSize, gates], transposedBlock(node.w, d))
    const rt = g.constant(`${node.r.name}_${d}_transposed`, 'float32', [H, gates], transposedBlock(node.r, d))
    const [wb, rb] = biases(node, d)
    // GRU with linear_before_reset keeps Rb inside the reset product; elsewhere both biases simply add.
    const separate = node.op === 'GRU'
    const inputBias = g.constant(`${node.b?.name ?? 'B'}_${d}_input`, 'float32', [gates], separate ? wb : wb.map((v, i) => v + rb[i]!))
    const recurrentBias = separate ? g.constant(`${node.b?.name ?? 'B'}_${d}_recurrent`, 'float32', [gates], rb) : null
    const projected = g.op('Reshape', [add(g.op('MatMul', [flat, wt]), inputBias), g.op('ConcatV2', [g.ints([steps]), batch, g.ints([gates]), g.ints([0], [])], { N: attr.int(3) })]) // [steps, B, G·H]
    const initial = (state: string | null) => (state ? g.op('GatherV2', [state, g.ints([d], []), g.ints([0], [])]) : zeros) // [B, H]
    let h = initial(node.initialH)
    let c = node.op === 'LSTM' ? initial(node.initialC) : ''
    const outputs: string[] = new Array<string>(steps)
    for (let i = 0; i < steps; i++) {
      const t = d === 0 ? i : steps - 1 - i
      const xw = g.op('GatherV2', [projected, g.ints([t], []), g.ints([0], [])]) // [B, G·H]
      let hr = g.op('MatMul', [h, rt]) // [B, G·H]
      if (recurrentBias) hr = add(hr, recurrentBias)
      let nextH: string
      let nextC = ''
      if (node.op === 'LSTM') {
        const [i_, o, f, cell] = split(add(xw, hr), 4) // ONNX gate order i, o, f, c
        nextC = add(mul(sigmoid(f!), c), mul(sigmoid(i_!), tanh(cell!)))
        nextH = mul(sigmoid(o!), tanh(nextC))
      } else if (node.op === 'GRU') {
        if (!node.linearBeforeReset) throw new Error('tfjs export: GRU with linear_before_reset = 0 is not supported')
        const [xz, xr, xh] = split(xw, 3) // ONNX gate order z, r, h
        const [hz, hr_, hh] = split(hr, 3)
        const z = sigmoid(add(xz!, hz!))
        const candidate = tanh(add(xh!, mul(sigmoid(add(xr!, hr_!)), hh!)))
        nextH = add(mul(g.op('Sub', [one, z]), candidate), mul(z, h)) // (1 − z) ⊙ n + z ⊙ h
      } else {
        nextH = tanh(add(xw, hr))
      }
      if (mask) {
        // m ∈ {0, 1}: m·new + (1 − m)·old is exactly one of them.
        const m = g.op('GatherV2', [mask, g.ints([t], []), g.ints([0], [])]) // [B, 1]
        const keep = g.op('Sub', [one, m])
        outputs[t] = mul(m, nextH)
        h = add(outputs[t]!, mul(keep, h))
        if (node.op === 'LSTM') c = add(mul(m, nextC), mul(keep, c))
      } else {
        outputs[t] = nextH
        h = nextH
        c = nextC
      }
    }
    ys.push(g.op('Pack', [...outputs], { axis: attr.int(0), N: attr.int(steps) })) // [steps, B, H]
    finalH.push(h)
    finalC.push(c)
  }
  let y = g.op('Pack', ys, { axis: attr.int(1), N: attr.int(ys.length) }) // [steps, dirs, B, H]
  if (length) y = g.op('StridedSlice', [y, g.ints([0]), length, g.ints([1])]) // [T, dirs, B, H]
  const pack = (states: string[]) => g.op('Pack', states, { axis: attr.int(0), N: attr.int(states.length) })
  return node.op === 'LSTM' ? [y, pack(finalH), pack(finalC)] : [y, pack(finalH)]
}
