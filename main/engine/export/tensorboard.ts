// A run's metrics as a TensorBoard event file: TFRecord framing (length, masked CRC-32C, data, masked CRC-32C)
// around `Event` protocol buffers (tensorflow/core/util/event.proto) with one scalar `Summary.Value` each.
import type { MetricPoint } from '../../api/contract.ts'
import { ProtoWriter } from './proto-writer.ts'

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord uses. */
const crcTable = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant, so a CRC of data holding CRCs stays strong. */
export const maskedCrc32c = (bytes: Uint8Array) => {
  const crc = crc32c(bytes)
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0
}

/** Event { wall_time = 1; step = 2; file_version = 3 | summary = 5 }. */
function fileVersionEvent(wallTime: number): Uint8Array {
  return new ProtoWriter().double(1, wallTime).string(3, 'brain.Event:2').finish()
}

/** Event with Summary { value = 1: Value { tag = 1; simple_value = 2 } }. */
function scalarEvent(tag: string, point: MetricPoint): Uint8Array {
  const value = new ProtoWriter().string(1, tag).float(2, point.value).finish()
  const summary = new ProtoWriter().bytes(1, value).finish()
  return new ProtoWriter().double(1, point.wallTime).int64(2, point.step).bytes(5, summary).finish()
}

/** One TFRecord: uint64 length, masked CRC of the length, the data, masked CRC of the data (little-endian). */
function record(data: Uint8Array): Uint8Array {
  const framed = new Uint8Array(12 + data.length + 4)
  const view = new DataView(framed.buffer)
  view.setBigUint64(0, BigInt(data.length), true)
  view.setUint32(8, maskedCrc32c(framed.subarray(0, 8)), true)
  framed.set(data, 12)
  view.setUint32(12 + data.length, maskedCrc32c(data), true)
  return framed
}

/** The event file's bytes: the version event, then every point of every series in step order per series. */
export function tensorboardEvents(series: Record<string, MetricPoint[]>, createdAt: number): Uint8Array[] {
  const records = [record(fileVersionEvent(createdAt))]
  for (const [tag, points] of Object.entries(series)) for (const point of points) records.push(record(scalarEvent(tag, point)))
  return records
}

/** TensorBoard finds event files by this name pattern: events.out.tfevents.<seconds>.<host>. */
export const eventFileName = (createdAt: number, host: string) => `events.out.tfevents.${Math.floor(createdAt)}.${host}`
