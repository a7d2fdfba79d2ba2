// Reads the parts of a SentencePiece ModelProto (sentencepiece_model.proto) the workbench shows: the pieces
// with scores and types, and the model type. Protocol-buffer wire format, read by hand (a few fields only).

export type PieceType = 'normal' | 'unknown' | 'control' | 'user-defined' | 'unused' | 'byte'
export type ModelType = 'unigram' | 'bpe' | 'word' | 'char'

export interface ModelPiece {
  piece: string
  score: number
  type: PieceType
}

export interface ModelSummary {
  modelType: ModelType
  pieces: ModelPiece[]
  /** NormalizerSpec.name: the rule encoders apply to raw text (nmt_nfkc, identity, …; '' when unnamed). */
  normalization: string
}

const pieceTypes: Record<number, PieceType> = { 1: 'normal', 2: 'unknown', 3: 'control', 4: 'user-defined', 5: 'unused', 6: 'byte' }
const modelTypes: Record<number, ModelType> = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' }

class WireReader {
  position = 0
  constructor(
    readonly bytes: Uint8Array,
    private readonly end = bytes.length,
  ) {}

  get done(): boolean {
    return this.position >= this.end
  }

  varint(): number {
    let result = 0
    let shift = 0
    for (;;) {
      if (this.position >= this.end) throw new Error('truncated varint')
      const byte = this.bytes[this.position++]!
      result += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return result
      shift += 7
      if (shift > 63) throw new Error('varint too long')
    }
  }

  /** A length-delimited field: [start, end) of its bytes. */
  slice(): [number, number] {
    const length = this.varint()
    const start = this.position
    this.position += length
    if (this.position > this.end) throw new Error('truncated field')
    return [start, this.position]
  }

  float(): number {
    const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.position, 4)
    this.position += 4
    return view.getFloat32(0, true)
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint()
    else if (wireType === 1) this.position += 8
    else if (wireType === 2) this.slice()
    else if (wireType === 5) this.position += 4
    else throw new Error(`unsupported wire type ${wireType}`)
  }

  /** Each field in turn as (field number, wire type); the caller reads or skips its value. */
  *fields(): Generator<[number, number]> {
    while (!this.done) {
      const key = this.varint()
      yield [Math.floor(key / 8), key & 7]
    }
  }

  sub(start: number, end: number): WireReader {
    const reader = new WireReader(this.bytes, end)
    reader.position = start
    return reader
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function readPiece(reader: WireReader): ModelPiece {
  const piece: ModelPiece = { piece: '', score: 0, type: 'normal' } // proto2 defaults
  for (const [field, wireType] of reader.fields()) {
    if (field === 1 && wireType === 2) {
      const [start, end] = reader.slice()
      piece.piece = utf8.decode(reader.bytes.subarray(start, end))
    } else if (field === 2 && wireType === 5) piece.score = reader.float()
    else if (field === 3 && wireType === 0) piece.type = pieceTypes[reader.varint()] ?? 'normal'
    else reader.skip(wireType)
  }
  return piece
}

/** Throws a clear error on bytes that are not a SentencePiece model. */
export function readModelProto(bytes: Uint8Array): ModelSummary {
  const reader = new WireReader(bytes)
  const pieces: ModelPiece[] = []
  let modelType: ModelType = 'unigram' // TrainerSpec.model_type defaults to UNIGRAM
  let normalization = ''
  try {
    for (const [field, wireType] of reader.fields()) {
      if (field === 1 && wireType === 2) {
        const [start, end] = reader.slice()
        pieces.push(readPiece(reader.sub(start, end)))
      } else if (field === 2 && wireType === 2) {
        const [start, end] = reader.slice()
        const spec = reader.sub(start, end)
        for (const [specField, specWire] of spec.fields()) {
          if (specField === 3 && specWire === 0) modelType = modelTypes[spec.varint()] ?? modelType // model_type
          else spec.skip(specWire)
        }
      } else if (field === 3 && wireType === 2) {
        const [start, end] = reader.slice()
        const spec = reader.sub(start, end)
        for (const [specField, specWire] of spec.fields()) {
          if (specField === 1 && specWire === 2) {
            const [nameStart, nameEnd] = spec.slice()
            normalization = utf8.decode(spec.bytes.subarray(nameStart, nameEnd)) // name
          } else spec.skip(specWire)
        }
      } else reader.skip(wireType)
    }
  } catch (error) {
    throw new Error(`not a SentencePiece model: ${(error as Error).message}`)
  }
  if (pieces.length === 0) throw new Error('not a SentencePiece model: it has no pieces')
  return { modelType, pieces, normalization }
}
