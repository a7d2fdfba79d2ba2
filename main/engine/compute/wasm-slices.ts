// Identity, same-type Cast, Slice, Unpack and SplitV for the wasm backend, reading the input in place. The stock
// 4.22 kernels copy the whole input out of the wasm heap (readSync) for every slice they cut, so unstacking a
// [30, 64, 1024] tensor into its 30 time steps copied 30 × 8 MB: half a second of every LSTM training step.
import * as tf from '@tensorflow/tfjs'
import { replaceWasmKernel, type WasmBackendLike, type WasmKernel } from './wasm-backend.ts'

type TensorInfo = tf.TensorInfo

/** Copies x[begin : begin + size] into out, one contiguous run of the innermost axes at a time. */
function copySlice(x: tf.TypedArray, shape: number[], begin: number[], size: number[], out: tf.TypedArray): void {
  const rank = shape.length
  // The innermost axes taken whole form one contiguous run with the first axis that is cut.
  let runAxis = rank - 1
  while (runAxis > 0 && begin[runAxis] === 0 && size[runAxis] === shape[runAxis]) runAxis--
  const strides = tf.util.computeStrides(shape)
  const runStride = runAxis === rank - 1 ? 1 : strides[runAxis]!
  const run = size[runAxis]! * runStride
  const outer = size.slice(0, runAxis)
  const runs = outer.reduce((a, b) => a * b, 1)
  const index = new Array<number>(runAxis).fill(0)
  let written = 0
  for (let r = 0; r < runs; r++) {
    let from = begin[runAxis]! * runStride
    for (let axis = 0; axis < runAxis; axis++) from += (begin[axis]! + index[axis]!) * strides[axis]!
    if (run >= 16) out.set(x.subarray(from, from + run), written)
    else for (let i = 0; i < run; i++) out[written + i] = x[from + i]!
    written += run
    for (let axis = runAxis - 1; axis >= 0; axis--) {
      if (++index[axis]! < outer[axis]!) break
      index[axis] = 0
    }
  }
}

function slice(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  // Allocate first: growing the heap detaches earlier views of it.
  const out = backend.makeOutput(size, x.dtype)
  if (tf.util.sizeFromShape(size) > 0) {
    copySlice(backend.typedArrayFromHeap(x), x.shape, begin, size, backend.typedArrayFromHeap(out))
  }
  return out
}

/** x itself, its data shared (tensors are immutable): for kernels whose output equals their input. */
export function share(backend: WasmBackendLike, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId)
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
}

export function registerWasmSliceKernels(): void {
  for (const [kernelName, kernelFunc] of [
    [
      // Tensors are immutable, so a clone shares its input's data. The stock kernel copies, and the engine clones
      // every input it saves for the backward pass: an RNN copied its recurrent matrix at every time step.
      'Identity',
      ({ inputs, backend }) => share(backend as unknown as WasmBackendLike, (inputs as { x: TensorInfo }).x),
    ],
    [
      // A cast to the same type is a clone too (ReLU's gradient casts its float32 input to float32).
      'Cast',
      (args, stock) => {
        const { x } = args.inputs as { x: TensorInfo }
        const { dtype } = args.attrs as unknown as { dtype: tf.DataType }
        return dtype === x.dtype ? share(args.backend as unknown as WasmBackendLike, x) : stock(args)
      },
    ],
    [
      'Slice',
      ({ inputs, backend, attrs }, stock) => {
        const { x } = inputs as { x: TensorInfo }
        if (x.dtype === 'string') return stock({ inputs, backend, attrs })
        const { begin, size } = attrs as unknown as { begin: number | number[]; size: number | number[] }
        const [from, extent] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size) as [number[], number[]]
        return slice(backend as unknown as WasmBackendLike, x, from, extent)
      },
    ],
    [
      'Unpack',
      ({ inputs, backend, attrs }, stock) => {
        const { value } = inputs as { value: TensorInfo }
        if (value.dtype === 'string') return stock({ inputs, backend, attrs })
        let axis = (attrs as unknown as { axis: number }).axis
        if (axis < 0) axis += value.shape.length
        const size = [...value.shape]
        size[axis] = 1
        const outShape = value.shape.filter((_, i) => i !== axis)
        const outs: TensorInfo[] = []
        for (let i = 0; i < value.shape[axis]!; i++) {
          const begin = value.shape.map((_, a) => (a === axis ? i : 0))
          const piece = slice(backend as unknown as WasmBackendLike, value, begin, size)
          outs.push({ ...piece, shape: outShape })
        }
        return outs
      },
    ],
    [
      'SplitV',
      ({ inputs, backend, attrs }, stock) => {
        const { x } = inputs as { x: TensorInfo }
        if (x.dtype === 'string') return stock({ inputs, backend, attrs })
        const { numOrSizeSplits, axis } = attrs as unknown as { numOrSizeSplits: number | number[]; axis: number }
        const at = tf.util.parseAxisParam(axis, x.shape)[0]!
        const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, at)
        const begin = x.shape.map(() => 0)
        return sizes.map((s) => {
          const size = [...x.shape]
          size[at] = s
          const piece = slice(backend as unknown as WasmBackendLike, x, [...begin], size)
          begin[at]! += s
          return piece
        })
      },
    ],
  ] as [string, WasmKernel][]) {
    replaceWasmKernel(kernelName, kernelFunc)
  }
}
