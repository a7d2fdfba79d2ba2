// Per-head statistics over the probe sentences as layer × head tables, one per attention kind: heads that
// specialise (always the previous token, always the boundary, very low entropy) stand out by colour.
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { AttentionKind, HeadStatistics } from '../../../main/api/contract.ts'

const statistics = ['entropy', 'previous', 'same', 'boundary'] as const
type Statistic = (typeof statistics)[number]

export function HeadStatsTable({ stats, onPick }: { stats: HeadStatistics[]; onPick: (kind: AttentionKind, layer: number, head: number) => void }) {
  const { t } = useTranslation()
  const [statistic, setStatistic] = useState<Statistic>('entropy')
  const kinds = [...new Set(stats.map((s) => s.kind))]
  const largest = Math.max(1e-9, ...stats.map((s) => s[statistic]))
  return (
    <div data-testid="head-stats">
      <label>
        {t('inspect.statistic')}
        <select value={statistic} onChange={(event) => setStatistic(event.target.value as Statistic)}>
          {statistics.map((s) => (
            <option key={s} value={s}>
              {t(`inspect.stats.${s}`)}
            </option>
          ))}
        </select>
      </label>
      <div className="head-stats">
        {kinds.map((kind) => {
          const ofKind = stats.filter((s) => s.kind === kind)
          const layers = Math.max(...ofKind.map((s) => s.layer)) + 1
          const heads = Math.max(...ofKind.map((s) => s.head)) + 1
          return (
            <table key={kind} className="data compact">
              <caption>{t(`inspect.kinds.${kind}`)}</caption>
              <thead>
                <tr>
                  <th />
                  {Array.from({ length: heads }, (_, head) => (
                    <th key={head} className="num">
                      {t('inspect.head', { head: head + 1 })}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {Array.from({ length: layers }, (_, layer) => (
                  <tr key={layer}>
                    <th>{t('inspect.layer', { layer: layer + 1 })}</th>
                    {Array.from({ length: heads }, (_, head) => {
                      const entry = ofKind.find((s) => s.layer === layer && s.head === head)
                      const value = entry?.[statistic]
                      return (
                        <td key={head} className="num" style={{ background: value === undefined ? undefined : `rgba(47, 95, 208, ${(0.7 * value) / largest})` }}>
                          <button type="button" className="link" disabled={!entry} onClick={() => onPick(kind, layer, head)} title={t('inspect.pickHead')}>
                            {value === undefined ? '–' : value.toFixed(2)}
                          </button>
                        </td>
                      )
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          )
        })}
      </div>
      <p className="muted">{t(`inspect.statsHelp.${statistic}`)}</p>
    </div>
  )
}
