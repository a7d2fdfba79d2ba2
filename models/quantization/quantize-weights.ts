// Which of a model's weights become int8 (Jacob et al. 2018, post-training, per-channel symmetric): every matrix —
// kernels per output column, embedding tables per row — unless the embeddings or the output layer are kept float.
// Vectors (biases, layer-norm gains) stay float: they are few and their errors would shift every output alike.
import type { NamedArray } from '../train/checkpoint-codec.ts'
import { quantizeChannels } from './int8.ts'

export interface QuantizeOptions {
  /** Embedding tables (and a tied output layer, which is the target table) in int8. */
  embeddings: boolean
  /** An untied output layer ('output/kernel') in int8. */
  output: boolean
}

export interface QuantizedLayer {
  name: string
  size: number
  /** ‖W − Ŵ‖ / ‖W‖ (Frobenius norms), Ŵ the dequantised matrix. */
  relativeError: number
}

const isEmbedding = (name: string) => name.endsWith('/table')
const isOutput = (name: string) => name === 'output/kernel'

/** The arrays with the chosen matrices in int8 (their values dequantised, as loading gives them back), and what was quantised. */
export function quantizeWeights(arrays: readonly NamedArray[], options: QuantizeOptions): { arrays: NamedArray[]; layers: QuantizedLayer[] } {
  const layers: QuantizedLayer[] = []
  const quantized = arrays.map((array): NamedArray => {
    if (array.shape.length !== 2 || array.int8) return array
    if (isEmbedding(array.name) ? !options.embeddings : isOutput(array.name) && !options.output) return array
    const channelAxis = isEmbedding(array.name) ? 0 : 1
    const int8 = { ...quantizeChannels(array.values, array.shape, channelAxis), channelAxis } as const
    let squaredError = 0
    let squaredNorm = 0
    array.values.forEach((value, i) => {
      const [c, p] = channelAxis === 0 ? [Math.floor(i / int8.inner), i % int8.inner] : [i % int8.channels, Math.floor(i / int8.channels)]
      squaredNorm += value * value
      squaredError += (value - int8.values[c * int8.stride + p]! * int8.scales[c]!) ** 2
    })
    layers.push({ name: array.name, size: array.values.length, relativeError: squaredNorm > 0 ? Math.sqrt(squaredError / squaredNorm) : 0 })
    return { ...array, int8 }
  })
  return { arrays: quantized, layers }
}
