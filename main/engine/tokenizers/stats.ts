// How a tokenizer fits a text: pieces per sentence, characters per piece, the share of <unk> and byte pieces,
// the share of characters it covers and of its vocabulary the text uses.
import type { TokenizerStats } from '../../api/contract.ts'
import { readModelProto } from '../../../models/tokenizer/model-proto.ts'
import type { Database } from '../store/database.ts'
import { processorFor } from './processors.ts'
import { needsNfkc, tokenizerModel } from './repository.ts'

export async function tokenizerStats(db: Database, tokenizerId: number, texts: string[], corpus: string): Promise<TokenizerStats> {
  const { pieces } = readModelProto(tokenizerModel(db, tokenizerId))
  const processor = await processorFor(db, tokenizerId)
  const normalize = needsNfkc(db, tokenizerId)
  const used = new Set<number>()
  let total = 0
  let unknown = 0
  let bytes = 0
  let characters = 0
  let uncoveredCharacters = 0
  for (const raw of texts) {
    const text = normalize ? raw.normalize('NFKC') : raw
    const ids = processor.encodeIds(text)
    const strings = processor.encodePieces(text)
    total += ids.length
    characters += [...text.replace(/\s+/g, '')].length
    ids.forEach((id, i) => {
      used.add(id)
      const type = pieces[id]?.type
      if (type === 'unknown') {
        unknown++
        uncoveredCharacters += [...strings[i]!.replace(/^▁/, '')].length
      } else if (type === 'byte') bytes++
    })
  }
  const normal = pieces.filter((p) => p.type === 'normal').length
  const usedNormal = [...used].filter((id) => pieces[id]?.type === 'normal').length
  return {
    corpus,
    sentences: texts.length,
    pieces: total,
    piecesPerSentence: texts.length > 0 ? total / texts.length : 0,
    charactersPerPiece: total > 0 ? characters / total : 0,
    unknownRate: total > 0 ? unknown / total : 0,
    byteRate: total > 0 ? bytes / total : 0,
    characterCoverage: characters > 0 ? 1 - uncoveredCharacters / characters : 1,
    vocabularyUsed: normal > 0 ? usedNormal / normal : 0,
  }
}
