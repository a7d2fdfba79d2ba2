// Every attention map of a decoded sentence: a teacher-forced pass over the hypothesis, split into one map per
// layer and head, with the tokens that label its rows (queries) and columns (keys).
import type { AttentionKind, AttentionMap, HeadStatistics } from '../../api/contract.ts'
import { boundaryColumns, headStatistics, meanStatistics } from '../../../models/inspect/head-stats.ts'
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

/** The mean of a layer's heads (what the single-map views show by default). */
export function meanOfHeads(maps: readonly AttentionMap[]): AttentionMap | null {
  const first = maps[0]
  if (!first) return null
  const weights = first.weights.map((row, r) => row.map((_, c) => maps.reduce((sum, m) => sum + (m.weights[r]?.[c] ?? 0), 0) / maps.length))
  return { ...first, head: null, weights }
}

/** Per kind, layer and head: the statistics of its maps averaged over the probe sentences. */
export function headStatisticsOf(maps: readonly AttentionMap[]): HeadStatistics[] {
  const groups = new Map<string, { kind: AttentionKind; layer: number; head: number; stats: ReturnType<typeof headStatistics>[] }>()
  for (const map of maps) {
    const head = map.head ?? 0
    const key = `${map.kind}/${map.layer}/${head}`
    const group = groups.get(key) ?? { kind: map.kind, layer: map.layer, head, stats: [] }
    group.stats.push(headStatistics(map.weights, boundaryColumns(map.colTokens)))
    groups.set(key, group)
  }
  const order: AttentionKind[] = ['encoder-self', 'decoder-self', 'cross']
  return [...groups.values()]
    .map(({ kind, layer, head, stats }) => ({ kind, layer, head, ...meanStatistics(stats) }))
    .sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.layer - b.layer || a.head - b.head)
}
