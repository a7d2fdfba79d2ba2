// Every attention map of a decoded sentence: a teacher-forced pass over the hypothesis, split into one map per
// layer and head, with the tokens that label its rows (queries) and columns (keys).
import type { AttentionMap } from '../../api/contract.ts'
import { disposeTranslationBatch, makeTranslationBatch } from '../../../models/translation/batch.ts'
import type { TranslationModel } from '../../../models/translation/model.ts'
import type { RunTokenizer } from './data.ts'

export type SentenceMap = Omit<AttentionMap, 'step' | 'probe'>

/** src: the encoded source; hypothesis: the decoded target ids (EOS excluded), finished when it ended in EOS. */
export async function inspectSentence(model: TranslationModel, src: RunTokenizer, tgt: RunTokenizer, source: number[], hypothesis: number[], finished: boolean): Promise<SentenceMap[]> {
  const srcIds = source.length > 0 ? source : [tgt.eos]
  const batch = makeTranslationBatch([{ src: srcIds, tgt: hypothesis }], tgt)
  const layers = model.inspect(batch)
  disposeTranslationBatch(batch)
  const srcPieces = src.piecesOf(srcIds)
  const pieces = tgt.piecesOf(hypothesis)
  // The pass predicts after every prefix; an unfinished hypothesis has no row for an EOS it never produced.
  const rows = pieces.length + (finished ? 1 : 0)
  const produced = [...pieces, '</s>'].slice(0, rows)
  const decoderInputs = ['<s>', ...pieces].slice(0, rows)
  const maps: SentenceMap[] = []
  for (const { kind, layer, weights } of layers) {
    const heads = (await weights.array())[0]! // [heads, rows, cols]
    weights.dispose()
    const [rowTokens, colTokens] = kind === 'encoder-self' ? [srcPieces, srcPieces] : kind === 'cross' ? [produced, srcPieces] : [produced, decoderInputs]
    heads.forEach((matrix, head) => {
      const weights = matrix.slice(0, rowTokens.length).map((row) => row.slice(0, colTokens.length))
      maps.push({ kind, layer, head, rowTokens, colTokens, weights })
    })
  }
  return maps
}
