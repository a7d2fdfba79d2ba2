// Writes a SentencePiece ModelProto (sentencepiece_model.proto): pieces, trainer spec and normalizer spec,
// in the protocol-buffer wire format, so spm_encode and sentencepiece-js load what we train.
import type { ModelPiece, ModelType } from './model-proto.ts'
import type { NormalizationName } from './normalization/rule.ts'

const pieceTypeCode: Record<ModelPiece['type'], number> = { normal: 1, unknown: 2, control: 3, 'user-defined': 4, unused: 5, byte: 6 }
const modelTypeCode: Record<ModelType, number> = { unigram: 1, bpe: 2, word: 3, char: 4 }

class WireWriter {
  private readonly parts: number[] = []

  varint(value: number): this {
    let v = value
    if (v < 0) {
      // int32 negatives are written as 10-byte two's complement varints.
      for (let i = 0; i < 9; i++) {
        this.parts.push((v & 0x7f) | 0x80)
        v = Math.floor(v / 128)
      }
      this.parts.push(1)
      return this
    }
    while (v >= 0x80) {
      this.parts.push((v & 0x7f) | 0x80)
      v = Math.floor(v / 128)
    }
    this.parts.push(v)
    return this
  }

  key(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType)
  }

  bytesField(field: number, bytes: Uint8Array): this {
    this.key(field, 2).varint(bytes.length)
    for (const byte of bytes) this.parts.push(byte)
    return this
  }

  stringField(field: number, text: string): this {
    return this.bytesField(field, new TextEncoder().encode(text))
  }

  varintField(field: number, value: number): this {
    return this.key(field, 0).varint(value)
  }

  floatField(field: number, value: number): this {
    const bytes = new Uint8Array(4)
    new DataView(bytes.buffer).setFloat32(0, value, true)
    this.key(field, 5)
    for (const byte of bytes) this.parts.push(byte)
    return this
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts)
  }
}

export interface ModelSpec {
  modelType: ModelType
  pieces: ModelPiece[]
  characterCoverage: number
  /** Index of <unk>, <s>, </s> in `pieces` (pad: -1, none). */
  unkId: number
  bosId: number
  eosId: number
  byteFallback: boolean
  /** The rule encoders apply to raw text, and its compiled form (empty for identity). */
  normalization: { name: NormalizationName; precompiledCharsMap: Uint8Array }
}

export function writeModelProto(spec: ModelSpec): Uint8Array {
  const model = new WireWriter()
  for (const piece of spec.pieces) {
    const entry = new WireWriter().stringField(1, piece.piece).floatField(2, piece.score).varintField(3, pieceTypeCode[piece.type])
    model.bytesField(1, entry.finish())
  }
  const trainer = new WireWriter()
    .varintField(3, modelTypeCode[spec.modelType]) // model_type
    .varintField(4, spec.pieces.length) // vocab_size
    .floatField(10, spec.characterCoverage) // character_coverage
    .varintField(35, spec.byteFallback ? 1 : 0) // byte_fallback
    .varintField(40, spec.unkId) // unk_id
    .varintField(41, spec.bosId) // bos_id
    .varintField(42, spec.eosId) // eos_id
    .varintField(43, -1) // pad_id
  model.bytesField(2, trainer.finish())
  // The same rule the trainer normalised with, so every spm encoder sees raw text as the trainer did.
  const normalizer = new WireWriter().stringField(1, spec.normalization.name) // name
  if (spec.normalization.precompiledCharsMap.length > 0) normalizer.bytesField(2, spec.normalization.precompiledCharsMap) // precompiled_charsmap
  normalizer
    .varintField(3, 1) // add_dummy_prefix
    .varintField(4, 1) // remove_extra_whitespaces
    .varintField(5, 1) // escape_whitespaces
  model.bytesField(3, normalizer.finish())
  return model.finish()
}
