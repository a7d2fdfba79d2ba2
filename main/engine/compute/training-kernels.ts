// Kernels that training needs and a backend lacks or runs pathologically slowly, and the fused kernels the models
// use where a backend has them (cross-entropy, dropout, LSTM and GRU gates, layer norm, Adam; attention on webgpu). Each is checked against the stock cpu
// kernels or the plain-op formula (tests/compute-kernels.test.ts), forward and gradient.
import * as tf from '@tensorflow/tfjs'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { registerWebGpuAddNormKernels } from './add-norm-kernels.ts'
import { registerWebGpuAttentionKernels } from './attention-kernels.ts'
import { registerWebGpuAffineKernels, registerWebGpuProjectionKernels } from './affine-kernels.ts'
import { registerWebGpuEmbeddingGradKernel } from './embedding-kernels.ts'
import { registerWebGpuFeedingDecoderKernels } from './feeding-decoder-kernels.ts'
import { registerCpuAdamKernel, registerWasmAdamKernel, registerWebGpuAdamKernel, registerWebGpuUnflattenKernel } from './adam-kernels.ts'
import { registerCpuCrossEntropyKernels, registerWasmCrossEntropyKernels, registerWebGpuCrossEntropyKernels } from './cross-entropy-kernels.ts'
import { registerCpuDropoutKernel, registerWasmDropoutKernel, registerWebGpuDropoutKernel } from './dropout-kernels.ts'
import { registerCpuInt8Kernel, registerWasmInt8Kernel } from './int8-kernels.ts'
import { registerCpuLayerNormKernels, registerWasmLayerNormKernels, registerWebGpuLayerNormKernels } from './layer-norm-kernels.ts'
import { registerCpuGruKernels, registerWasmGruKernels, registerWebGpuGruKernels } from './gru-kernels.ts'
import { registerWebGpuGruLayerKernels } from './gru-layer-kernels.ts'
import { registerCpuLstmKernels, registerWasmLstmKernels, registerWebGpuLstmKernels } from './lstm-kernels.ts'
import { registerWebGpuLstmLayerKernels } from './lstm-layer-kernels.ts'
import { replaceWasmKernel, type WasmBackendLike } from './wasm-backend.ts'
import { registerWasmMatMulKernels } from './wasm-matmul.ts'
import { registerWasmRowKernels } from './wasm-rows.ts'
import { registerWasmSliceKernels } from './wasm-slices.ts'
import { verifyWebGpuKernels } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo


/** out[segmentIds[i]] += x[i]: O(N·D), unlike the stock cpu kernel's O(V·N·D) (V = number of segments). */
function segmentSum(x: tf.TypedArray, segmentIds: tf.TypedArray, inner: number, out: tf.TypedArray): void {
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
  return { shape: [numSegments, ...innerShape], inner: tf.util.sizeFromShape(innerShape) }
}

/** UnsortedSegmentSum is the gradient of tf.gather, i.e. of every embedding lookup. */
export function registerCpuTrainingKernels(): void {
  replaceCpuKernel('UnsortedSegmentSum', ({ inputs, attrs }, cpu) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo }
    const numSegments = (attrs as { numSegments: number }).numSegments
    const { shape, inner } = segmentSumShape(x, segmentIds, numSegments)
    const out = new Float32Array(tf.util.sizeFromShape(shape))
    segmentSum(cpuValues(cpu, x), cpuValues(cpu, segmentIds), inner, out)
    return cpu.makeTensorInfo(shape, x.dtype, out)
  })
  registerCpuCrossEntropyKernels()
  registerCpuDropoutKernel()
  registerCpuLstmKernels()
  registerCpuGruKernels()
  registerCpuAdamKernel()
  registerCpuLayerNormKernels()
  registerCpuInt8Kernel()
}

export function registerWasmTrainingKernels(): void {
  // Missing in tfjs-backend-wasm 4.22 altogether.
  replaceWasmKernel('UnsortedSegmentSum', ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo }
    const numSegments = (attrs as { numSegments: number }).numSegments
    const wasm = backend as unknown as WasmBackendLike
    const { shape, inner } = segmentSumShape(x, segmentIds, numSegments)
    // Allocate first: growing the heap detaches earlier views of it.
    const out = wasm.makeOutput(shape, x.dtype)
    segmentSum(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(segmentIds), inner, wasm.typedArrayFromHeap(out))
    return out
  })
  registerWasmSliceKernels()
  registerWasmMatMulKernels()
  registerWasmRowKernels()
  registerWasmCrossEntropyKernels()
  registerWasmDropoutKernel()
  registerWasmLstmKernels()
  registerWasmGruKernels()
  registerWasmAdamKernel()
  registerWasmLayerNormKernels()
  registerWasmInt8Kernel()
}

/** The kernels registerWebGpuTrainingKernels adds (benchmarks and tests hide them to compare with stock ops). */
export const webGpuFusedKernels = [
  'KotobaSoftmaxCrossEntropy', 'KotobaSoftmaxCrossEntropyGrad', 'KotobaDropout', 'KotobaLstmGates', 'KotobaLstmGatesGrad',
  'KotobaGruGates', 'KotobaGruGatesGrad', 'KotobaAdamUpdate', 'KotobaAdamUpdateScaled', 'KotobaLayerNorm', 'KotobaLayerNormGrad', 'KotobaLstmLayer',
  'KotobaLstmLayerGrad', 'KotobaGruLayer', 'KotobaGruLayerGrad', 'KotobaAttention', 'KotobaAttentionGrad', 'KotobaUnflatten', 'KotobaAffine', 'KotobaAffineGrad', 'KotobaProjections', 'KotobaProjectionsGrad',
  'KotobaAddNorm', 'KotobaAddNormGrad', 'KotobaEmbeddingGrad', 'KotobaInputEmbedding', 'KotobaFeedingDecoder', 'KotobaFeedingDecoderGrad',
] as const

/**
 * Our fused kernels as WGSL compute shaders on the webgpu backend (each one dispatch, or two for layer-norm
 * backward), registered once their shaders compile on `device`; returns the kernels left to stock ops, and why.
 */
export async function registerWebGpuTrainingKernels(device: Parameters<typeof verifyWebGpuKernels>[0]): Promise<{ kernel: string; error: string }[]> {
  registerWebGpuCrossEntropyKernels()
  registerWebGpuDropoutKernel()
  registerWebGpuLstmKernels()
  registerWebGpuLstmLayerKernels()
  registerWebGpuGruKernels()
  registerWebGpuGruLayerKernels()
  registerWebGpuAdamKernel()
  registerWebGpuUnflattenKernel()
  registerWebGpuLayerNormKernels()
  registerWebGpuAttentionKernels()
  registerWebGpuAffineKernels()
  registerWebGpuProjectionKernels()
  registerWebGpuAddNormKernels()
  registerWebGpuEmbeddingGradKernel()
  registerWebGpuFeedingDecoderKernels()
  return await verifyWebGpuKernels(device)
}
