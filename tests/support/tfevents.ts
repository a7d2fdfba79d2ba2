// A small reader of TensorBoard event files, written from the documented formats (TFRecord framing; event.proto
// and summary.proto field numbers), independent of the writer: every CRC is checked, every field decoded by wire type.
import { readFileSync } from 'node:fs'

export interface ReadEvent {
  wallTime: number
  step: number
  fileVersion: string | null
  scalars: { tag: string; value: number }[]
}

/** CRC-32C bit by bit (no table), to check the writer's table-driven one. */
function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}
const masked = (bytes: Uint8Array) => {
  const crc = crc32c(bytes)
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0
}

type Field = { field: number; varint?: bigint; fixed64?: DataView; fixed32?: DataView; bytes?: Uint8Array }

function fields(data: Uint8Array): Field[] {
  const out: Field[] = []
  let at = 0
  const varint = () => {
    let value = 0n
    for (let shift = 0n; ; shift += 7n) {
      const byte = data[at++]!
      value |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return value
    }
  }
  while (at < data.length) {
    const key = Number(varint())
    const field = key >> 3
    switch (key & 7) {
      case 0:
        out.push({ field, varint: varint() })
        break
      case 1:
        out.push({ field, fixed64: new DataView(data.buffer, data.byteOffset + at, 8) })
        at += 8
        break
      case 2: {
        const length = Number(varint())
        out.push({ field, bytes: data.subarray(at, at + length) })
        at += length
        break
      }
      case 5:
        out.push({ field, fixed32: new DataView(data.buffer, data.byteOffset + at, 4) })
        at += 4
        break
      default:
        throw new Error(`unexpected wire type ${key & 7} at byte ${at}`)
    }
  }
  return out
}

export function readEventFile(path: string): ReadEvent[] {
  const file = new Uint8Array(readFileSync(path))
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const events: ReadEvent[] = []
  for (let at = 0; at < file.length; ) {
    const length = Number(view.getBigUint64(at, true))
    if (view.getUint32(at + 8, true) !== masked(file.subarray(at, at + 8))) throw new Error(`bad length CRC at byte ${at}`)
    const data = file.subarray(at + 12, at + 12 + length)
    if (view.getUint32(at + 12 + length, true) !== masked(data)) throw new Error(`bad data CRC at byte ${at}`)
    at += 12 + length + 4
    const event: ReadEvent = { wallTime: 0, step: 0, fileVersion: null, scalars: [] }
    for (const f of fields(data)) {
      if (f.field === 1) event.wallTime = f.fixed64!.getFloat64(0, true)
      else if (f.field === 2) event.step = Number(BigInt.asIntN(64, f.varint!))
      else if (f.field === 3) event.fileVersion = new TextDecoder().decode(f.bytes)
      else if (f.field === 5) {
        for (const value of fields(f.bytes!).filter((v) => v.field === 1)) {
          const parts = fields(value.bytes!)
          const tag = new TextDecoder().decode(parts.find((p) => p.field === 1)!.bytes)
          event.scalars.push({ tag, value: parts.find((p) => p.field === 2)!.fixed32!.getFloat32(0, true) })
        }
      }
    }
    events.push(event)
  }
  return events
}
