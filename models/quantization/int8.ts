// Post-training int8 quantisation with symmetric per-channel scales (Jacob et al. 2018, "Quantization and Training of
// Neural Networks for Efficient Integer-Arithmetic-Only Inference", eq. 1 with zero point 0): w ≈ t_c · q, q ∈ [−127, 127],
// t_c = max|w_c| / 127 for each output channel c.

/** A weight matrix's int8 form: channel-major rows of `stride` bytes (the inner size rounded up to 8, zero-padded). */
export interface Int8Channels {
  /** [channels, stride] */
  values: Int8Array
  /** [channels] */
  scales: Float32Array
  channels: number
  inner: number
  stride: number
}

/** Inner sizes are padded to this many bytes: one i16x8 of sign-extended int8 per step of the product. */
export const INT8_ROW_ALIGN = 8

export const int8Stride = (inner: number) => Math.ceil(inner / INT8_ROW_ALIGN) * INT8_ROW_ALIGN

/**
 * Quantises a 2-D matrix per channel. channelAxis 1: a kernel [in, out] whose columns are output channels (stored
 * transposed, one row per column); channelAxis 0: a table [rows, dim] (embeddings, a tied output layer).
 */
export function quantizeChannels(values: Float32Array, shape: readonly number[], channelAxis: 0 | 1): Int8Channels {
  if (shape.length !== 2) throw new Error(`int8 quantisation takes matrices; got shape [${shape}]`)
  const [rows, cols] = shape as [number, number]
  const [channels, inner] = channelAxis === 0 ? [rows, cols] : [cols, rows]
  const at = channelAxis === 0 ? (c: number, p: number) => c * cols + p : (c: number, p: number) => p * cols + c
  const stride = int8Stride(inner)
  const quantized = new Int8Array(channels * stride)
  const scales = new Float32Array(channels)
  for (let c = 0; c < channels; c++) {
    let largest = 0
    for (let p = 0; p < inner; p++) largest = Math.max(largest, Math.abs(values[at(c, p)]!))
    const scale = largest > 0 ? largest / 127 : 1
    scales[c] = scale
    for (let p = 0; p < inner; p++) quantized[c * stride + p] = Math.max(-127, Math.min(127, Math.round(values[at(c, p)]! / scale)))
  }
  return { values: quantized, scales, channels, inner, stride }
}

/** The float matrix (in its original layout) an int8 form stands for: what the model computes with when no int8 kernel runs. */
export function dequantizeChannels(q: Int8Channels, channelAxis: 0 | 1): Float32Array {
  const out = new Float32Array(q.channels * q.inner)
  for (let c = 0; c < q.channels; c++) {
    const scale = q.scales[c]!
    for (let p = 0; p < q.inner; p++) out[channelAxis === 0 ? c * q.inner + p : p * q.channels + c] = q.values[c * q.stride + p]! * scale
  }
  return out
}
