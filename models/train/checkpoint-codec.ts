// A checkpoint blob: named tensors in one buffer — a little-endian u32 header length, a JSON header
// ({name, shape, offset, int8?}[]), then the float32 values, 4-byte aligned, then the int8 values of quantised
// matrices (post-training int8, models/quantization/int8.ts): their per-channel scales sit among the floats at
// `offset`, their channel rows at `int8.byteOffset` of the int8 section. Self-describing, so loading needs no model.
import { dequantizeChannels, int8Stride, type Int8Channels } from '../quantization/int8.ts'

/** A matrix's int8 form and which axis holds its output channels (1: a kernel [in, out]; 0: a table [rows, dim]). */
export interface QuantizedForm extends Int8Channels {
  channelAxis: 0 | 1
}

export interface NamedArray {
  name: string
  shape: number[]
  /** The float values; for a quantised matrix, the dequantised ones. */
  values: Float32Array
  /** Present when the matrix is stored in int8. */
  int8?: QuantizedForm
}

interface HeaderEntry {
  name: string
  shape: number[]
  offset: number // in floats, from the start of the data section: the values, or an int8 matrix's scales
  int8?: { byteOffset: number; channelAxis: 0 | 1 }
}

/** reuse: a buffer an earlier call returned for arrays of the same names and shapes, filled again in place. */
export function encodeTensors(arrays: readonly NamedArray[], reuse?: Uint8Array): Uint8Array {
  let offset = 0
  let int8Bytes = 0
  const entries: HeaderEntry[] = arrays.map((a) => {
    if (!a.int8) {
      const entry = { name: a.name, shape: a.shape, offset }
      offset += a.values.length
      return entry
    }
    const entry = { name: a.name, shape: a.shape, offset, int8: { byteOffset: int8Bytes, channelAxis: a.int8.channelAxis } }
    offset += a.int8.channels
    int8Bytes += a.int8.values.length
    return entry
  })
  const header = new TextEncoder().encode(JSON.stringify(entries))
  const headerPadded = Math.ceil((4 + header.length) / 4) * 4
  const total = headerPadded + offset * 4 + int8Bytes
  const bytes = reuse?.byteLength === total ? reuse : new Uint8Array(total)
  new DataView(bytes.buffer).setUint32(0, header.length, true)
  bytes.set(header, 4)
  const data = new Float32Array(bytes.buffer, headerPadded, offset)
  const int8Start = headerPadded + offset * 4
  arrays.forEach((a, i) => {
    const entry = entries[i]!
    if (!a.int8) data.set(a.values, entry.offset)
    else {
      data.set(a.int8.scales, entry.offset)
      bytes.set(new Uint8Array(a.int8.values.buffer, a.int8.values.byteOffset, a.int8.values.length), int8Start + entry.int8!.byteOffset)
    }
  })
  return bytes
}

export function decodeTensors(blob: Uint8Array): NamedArray[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  const headerLength = view.getUint32(0, true)
  const entries = JSON.parse(new TextDecoder().decode(blob.subarray(4, 4 + headerLength))) as HeaderEntry[]
  const dataStart = Math.ceil((4 + headerLength) / 4) * 4
  const floats = entries.reduce((sum, e) => sum + (e.int8 ? (e.int8.channelAxis === 0 ? e.shape[0]! : e.shape[1]!) : e.shape.reduce((a, b) => a * b, 1)), 0)
  if (dataStart + floats * 4 > blob.byteLength) throw new Error('checkpoint is truncated: its float values run past the end')
  const aligned = new Uint8Array(blob.subarray(dataStart, dataStart + floats * 4)) // a copy: SQLite blobs need not be 4-byte aligned
  const data = new Float32Array(aligned.buffer, 0, floats)
  const int8Start = dataStart + floats * 4
  return entries.map((e) => {
    const size = e.shape.reduce((a, b) => a * b, 1)
    if (!e.int8) {
      if (e.offset + size > data.length) throw new Error(`checkpoint is truncated: '${e.name}' runs past the end`)
      return { name: e.name, shape: e.shape, values: data.slice(e.offset, e.offset + size) }
    }
    const { channelAxis, byteOffset } = e.int8
    const [channels, inner] = channelAxis === 0 ? [e.shape[0]!, e.shape[1]!] : [e.shape[1]!, e.shape[0]!]
    const stride = int8Stride(inner)
    const start = int8Start + byteOffset
    if (start + channels * stride > blob.byteLength || e.offset + channels > data.length) throw new Error(`checkpoint is truncated: '${e.name}' runs past the end`)
    const values = new Int8Array(blob.slice(start, start + channels * stride).buffer)
    const int8: QuantizedForm = { values, scales: data.slice(e.offset, e.offset + channels), channels, inner, stride, channelAxis }
    return { name: e.name, shape: e.shape, values: dequantizeChannels(int8, channelAxis), int8 }
  })
}
