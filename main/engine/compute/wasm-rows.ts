// Kernels that work on whole rows, where the stock 4.22 wasm kernels are slow for training's shapes:
// GatherV2 on the first axis (every embedding lookup: 30 ms for 1,920 rows of 256) copies rows, and Sum over
// leading axes (every bias gradient: the stock kernel transposes the whole [N, V] input first) adds rows.
// Also Step (ReLU's derivative, 13 ms per 2 M elements on the stock kernel) as one SIMD pass.
import * as tf from '@tensorflow/tfjs'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'

type TensorInfo = tf.TensorInfo


export function registerWasmRowKernels(): void {
  replaceWasmKernel('GatherV2', (args, stock) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo }
    const { axis, batchDims } = args.attrs as unknown as { axis: number; batchDims: number }
    const firstAxis = tf.util.parseAxisParam(axis, x.shape)[0] === 0 && (batchDims ?? 0) === 0
    if (!firstAxis || x.dtype === 'string' || x.dtype === 'complex64' || indices.dtype !== 'int32') return stock(args)
    const backend = args.backend as unknown as WasmBackendLike
    const rowSize = tf.util.sizeFromShape(x.shape.slice(1))
    const rows = x.shape[0]!
    const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype)
    const ids = backend.typedArrayFromHeap(indices)
    const source = backend.typedArrayFromHeap(x)
    const target = backend.typedArrayFromHeap(out)
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!
      if (id < 0 || id >= rows) {
        backend.disposeData(out.dataId, true)
        throw new Error(`GatherV2: the index value ${id} is not in [0, ${rows - 1}]`)
      }
      target.set(source.subarray(id * rowSize, (id + 1) * rowSize), i * rowSize)
    }
    return out
  })

  replaceWasmKernel('Step', (args, stock) => {
    const { x } = args.inputs as { x: TensorInfo }
    if (x.dtype !== 'float32') return stock(args)
    const backend = args.backend as unknown as WasmBackendLike
    const out = backend.makeOutput(x.shape, 'float32')
    const { alpha } = args.attrs as unknown as { alpha: number }
    tensorKernels(backend).step(heapAddress(backend, x), heapAddress(backend, out), tf.util.sizeFromShape(x.shape), alpha)
    return out
  })

  replaceWasmKernel('Sum', (args, stock) => {
    const { x } = args.inputs as { x: TensorInfo }
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean }
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b)
    const leading = axes.length < x.shape.length && axes.every((a, i) => a === i)
    if (!leading || x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) === 0) return stock(args)
    const backend = args.backend as unknown as WasmBackendLike
    const kept = x.shape.slice(axes.length)
    const out = backend.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32')
    const summed = tf.util.sizeFromShape(x.shape.slice(0, axes.length))
    tensorKernels(backend).sumOuter(heapAddress(backend, x), heapAddress(backend, out), summed, tf.util.sizeFromShape(kept))
    return out
  })
}
