// A checkpoint blob: named float32 tensors in one buffer — a little-endian u32 header length, a JSON header
// ({name, shape, offset}[]), then the raw values, 4-byte aligned. Self-describing, so loading needs no model.

export interface NamedArray {
  name: string
  shape: number[]
  values: Float32Array
}

interface HeaderEntry {
  name: string
  shape: number[]
  offset: number // in floats, from the start of the data section
}

/** reuse: a buffer an earlier call returned for arrays of the same names and shapes, filled again in place. */
export function encodeTensors(arrays: readonly NamedArray[], reuse?: Uint8Array): Uint8Array {
  let offset = 0
  const entries: HeaderEntry[] = arrays.map((a) => {
    const entry = { name: a.name, shape: a.shape, offset }
    offset += a.values.length
    return entry
  })
  const header = new TextEncoder().encode(JSON.stringify(entries))
  const headerPadded = Math.ceil((4 + header.length) / 4) * 4
  const bytes = reuse?.byteLength === headerPadded + offset * 4 ? reuse : new Uint8Array(headerPadded + offset * 4)
  new DataView(bytes.buffer).setUint32(0, header.length, true)
  bytes.set(header, 4)
  const data = new Float32Array(bytes.buffer, headerPadded, offset)
  arrays.forEach((a, i) => data.set(a.values, entries[i]!.offset))
  return bytes
}

export function decodeTensors(blob: Uint8Array): NamedArray[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  const headerLength = view.getUint32(0, true)
  const entries = JSON.parse(new TextDecoder().decode(blob.subarray(4, 4 + headerLength))) as HeaderEntry[]
  const dataStart = Math.ceil((4 + headerLength) / 4) * 4
  const aligned = new Uint8Array(blob.subarray(dataStart)) // a copy: SQLite blobs need not be 4-byte aligned
  const data = new Float32Array(aligned.buffer, 0, aligned.byteLength / 4)
  return entries.map((e) => {
    const size = e.shape.reduce((a, b) => a * b, 1)
    if (e.offset + size > data.length) throw new Error(`checkpoint is truncated: '${e.name}' runs past the end`)
    return { name: e.name, shape: e.shape, values: data.slice(e.offset, e.offset + size) }
  })
}
