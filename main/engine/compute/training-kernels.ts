// Kernels that training needs and a backend lacks or runs pathologically slowly. Each is checked
// against the stock cpu kernels (tests/compute-kernels.test.ts), forward and gradient.
import * as tf from '@tensorflow/tfjs'

type KernelArgs = Parameters<tf.KernelFunc>[0]
type TensorInfo = tf.TensorInfo

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array
  disposeData(dataId: object): void
}
interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array | Int32Array } }
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo
}

const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1)

/** out[segmentIds[i]] += x[i]: O(N·D), unlike the stock cpu kernel's O(V·N·D) (V = number of segments). */
function segmentSum(x: Float32Array | Int32Array, segmentIds: Float32Array | Int32Array, inner: number, out: Float32Array | Int32Array): void {
  out.fill(0)
  const numSegments = out.length / inner
  for (let i = 0; i < segmentIds.length; i++) {
    const segment = segmentIds[i]!
    if (segment < 0 || segment >= numSegments) continue
    const to = segment * inner
    const from = i * inner
    for (let j = 0; j < inner; j++) out[to + j]! += x[from + j]!
  }
}

/** The output shape of UnsortedSegmentSum and the size of one segment row. */
function segmentSumShape(x: TensorInfo, segmentIds: TensorInfo, numSegments: number): { shape: number[]; inner: number } {
  const innerShape = x.shape.slice(segmentIds.shape.length)
  return { shape: [numSegments, ...innerShape], inner: product(innerShape) }
}

function replaceKernel(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): void {
  if (tf.getKernel(kernelName, backendName)) tf.unregisterKernel(kernelName, backendName)
  tf.registerKernel({ kernelName, backendName, kernelFunc })
}

/** UnsortedSegmentSum is the gradient of tf.gather, i.e. of every embedding lookup. */
export function registerCpuTrainingKernels(): void {
  replaceKernel('UnsortedSegmentSum', 'cpu', ({ inputs, backend, attrs }: KernelArgs) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo }
    const numSegments = (attrs as { numSegments: number }).numSegments
    const cpu = backend as unknown as CpuBackendLike
    const { shape, inner } = segmentSumShape(x, segmentIds, numSegments)
    const out = new Float32Array(product(shape))
    segmentSum(cpu.data.get(x.dataId).values, cpu.data.get(segmentIds.dataId).values, inner, out)
    return cpu.makeTensorInfo(shape, x.dtype, out)
  })
}

const transposeLastTwo = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2]

export function registerWasmTrainingKernels(): void {
  // Missing in tfjs-backend-wasm 4.22 altogether.
  replaceKernel('UnsortedSegmentSum', 'wasm', ({ inputs, backend, attrs }: KernelArgs) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo }
    const numSegments = (attrs as { numSegments: number }).numSegments
    const wasm = backend as unknown as WasmBackendLike
    const { shape, inner } = segmentSumShape(x, segmentIds, numSegments)
    // Allocate first: growing the heap detaches earlier views of it.
    const out = wasm.makeOutput(shape, x.dtype)
    segmentSum(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(segmentIds), inner, wasm.typedArrayFromHeap(out))
    return out
  })
  // The stock wasm BatchMatMul is fast only untransposed; the transposed forms every backward pass uses run
  // 10× slower. Transpose explicitly (a fast kernel), then multiply untransposed.
  const original = tf.getKernel('BatchMatMul', 'wasm')
  const transpose = tf.getKernel('Transpose', 'wasm')
  if (!original || !transpose || (original as { patched?: boolean }).patched) return
  tf.unregisterKernel('BatchMatMul', 'wasm')
  tf.registerKernel({
    ...original,
    patched: true,
    kernelFunc: (args: KernelArgs) => {
      const { inputs, backend, attrs } = args
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean }
      if (!transposeA && !transposeB) return original.kernelFunc(args)
      let { a, b } = inputs as { a: TensorInfo; b: TensorInfo }
      const temporary: TensorInfo[] = []
      if (transposeA) {
        a = transpose.kernelFunc({ inputs: { x: a }, backend, attrs: { perm: transposeLastTwo(a.shape.length) } }) as TensorInfo
        temporary.push(a)
      }
      if (transposeB) {
        b = transpose.kernelFunc({ inputs: { x: b }, backend, attrs: { perm: transposeLastTwo(b.shape.length) } }) as TensorInfo
        temporary.push(b)
      }
      const out = original.kernelFunc({ inputs: { a, b }, backend, attrs: { ...attrs, transposeA: false, transposeB: false } })
      for (const info of temporary) (backend as unknown as WasmBackendLike).disposeData(info.dataId)
      return out
    },
  } as tf.KernelConfig)
}
