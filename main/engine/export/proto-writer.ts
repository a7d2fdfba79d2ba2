// The few protocol-buffer wire encodings our exports write (TensorBoard events, ONNX models): varint keys and
// lengths, fixed 32/64-bit values and length-delimited fields, gathered as chunks so large tensors are not copied
// byte by byte.
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = []
  private length = 0

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes)
    this.length += bytes.length
  }

  private varint(value: bigint): void {
    const out: number[] = []
    let rest = BigInt.asUintN(64, value)
    while (rest >= 0x80n) {
      out.push(Number(rest & 0x7fn) | 0x80)
      rest >>= 7n
    }
    out.push(Number(rest))
    this.push(Uint8Array.from(out))
  }

  private key(field: number, wireType: number): void {
    this.varint(BigInt((field << 3) | wireType))
  }

  /** Wire type 1 (8 bytes) or 5 (4 bytes), little-endian. */
  private fixed(field: number, wireType: 1 | 5, write: (view: DataView) => void): this {
    this.key(field, wireType)
    const bytes = new Uint8Array(wireType === 1 ? 8 : 4)
    write(new DataView(bytes.buffer))
    this.push(bytes)
    return this
  }

  double(field: number, value: number): this {
    return this.fixed(field, 1, (view) => view.setFloat64(0, value, true))
  }

  float(field: number, value: number): this {
    return this.fixed(field, 5, (view) => view.setFloat32(0, value, true))
  }

  /** int64, int32 and enums (varint; negative values as ten bytes, as protobuf does). */
  int64(field: number, value: number): this {
    this.key(field, 0)
    this.varint(BigInt(value))
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2)
    this.varint(BigInt(value.length))
    this.push(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value))
  }

  /** A nested message. */
  message(field: number, write: (writer: ProtoWriter) => void): this {
    const nested = new ProtoWriter()
    write(nested)
    return this.bytes(field, nested.finish())
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length)
    let at = 0
    for (const chunk of this.chunks) {
      out.set(chunk, at)
      at += chunk.length
    }
    return out
  }
}
