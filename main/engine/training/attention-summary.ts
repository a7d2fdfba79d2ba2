// Summaries of stored attention maps for the inspection views (the engine's main thread; no tensors).
import type { AttentionKind, AttentionMap, HeadStatistics } from '../../api/contract.ts'
import { boundaryColumns, headStatistics, meanStatistics } from '../../../models/inspect/head-stats.ts'

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
