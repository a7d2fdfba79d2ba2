// Test-set evaluation of a run's checkpoints: run one (BLEU, chrF, TER with sacreBLEU signatures; dialogue metrics
// for runs on dialogues) and list every stored evaluation per checkpoint; optionally against another run on the same
// corpus, each metric's difference with its 95 % interval and p by paired bootstrap.
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { EvalResult, RunDetail } from '../../../main/api/contract.ts'
import { useClient, useQuery } from '../api/hooks.ts'

/** Scores shown as percentages by sacreBLEU (BLEU, chrF, TER); the rest as they are. */
const formatScore = (metric: string, score: number) => (metric === 'loss' ? score.toFixed(3) : score.toFixed(metric.includes('distinct') ? 3 : 2))
/** Display names (sacreBLEU's for its scores), in the order shown; other metrics follow by name. */
const metricNames: Record<string, string> = {
  bleu: 'BLEU',
  chrf: 'chrF',
  ter: 'TER',
  f1: 'F1',
  distinct1: 'distinct-1',
  distinct2: 'distinct-2',
  intra_distinct1: 'intra distinct-1',
  intra_distinct2: 'intra distinct-2',
  length: 'length',
  dull_rate: 'dull replies',
  loss: 'loss',
}
const metricRank = (metric: string) => {
  const known = Object.keys(metricNames).indexOf(metric)
  return known === -1 ? Number.MAX_SAFE_INTEGER : known
}
const byRank = (a: string, b: string) => metricRank(a) - metricRank(b) || a.localeCompare(b)

export function EvaluationPanel({ run }: { run: RunDetail }) {
  const { t } = useTranslation()
  const client = useClient()
  const evaluations = useQuery('runs.evaluations', { name: run.name }, `${run.name}:${run.checkpoints.length}`)
  const best = run.checkpoints.find((c) => c.isBest) ?? run.checkpoints.at(-1)
  const [checkpoint, setCheckpoint] = useState<number | null>(null)
  const [search, setSearch] = useState<'greedy' | 'beam'>('greedy')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const runs = useQuery('runs.list', {})
  // Runs scored on the same test sentences: the same corpus, with a checkpoint.
  const rivals = (runs.data ?? []).filter((r) => r.corpus === run.config.corpus && r.name !== run.name && r.step > 0)
  const [against, setAgainst] = useState('')
  const [comparison, setComparison] = useState<{ result: EvalResult; step: number } | null>(null)
  const chosen = checkpoint ?? best?.step ?? null
  const evaluate = () => {
    if (chosen === null) return
    setBusy(true)
    setError(null)
    client
      .call('eval', { run: run.name, split: 'test', checkpoint: chosen, search, beamSize: search === 'beam' ? 5 : 1, ...(against ? { against } : {}) })
      .then(
        (result) => {
          setComparison(result.comparison ? { result, step: chosen } : null)
          evaluations.reload()
        },
        (caught: unknown) => setError((caught as Error).message),
      )
      .finally(() => setBusy(false))
  }
  const metrics = [...new Set((evaluations.data ?? []).flatMap((e) => e.scores.map((s) => s.metric)))].sort(byRank)
  const signatures = new Map((evaluations.data ?? []).flatMap((e) => e.scores.filter((s) => s.signature).map((s) => [s.metric, s.signature!] as const)))
  return (
    <div data-testid="evaluation-panel">
      <div className="tools">
        <label>
          {t('evaluation.checkpoint')}
          <select value={chosen ?? ''} onChange={(event) => setCheckpoint(Number(event.target.value))} disabled={run.checkpoints.length === 0}>
            {run.checkpoints.map((c) => (
              <option key={c.step} value={c.step}>
                {c.isBest ? t('evaluation.bestStep', { step: c.step }) : c.step}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('evaluation.search')}
          <select value={search} onChange={(event) => setSearch(event.target.value as 'greedy' | 'beam')}>
            <option value="greedy">{t('evaluation.greedy')}</option>
            <option value="beam">{t('evaluation.beam')}</option>
          </select>
        </label>
        <label>
          {t('evaluation.against')}
          <select value={against} onChange={(event) => setAgainst(event.target.value)} data-testid="evaluation-against">
            <option value="">{t('evaluation.noComparison')}</option>
            {rivals.map((r) => (
              <option key={r.name} value={r.name}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={evaluate} disabled={busy || chosen === null}>
          {busy ? t('evaluation.running') : t('evaluation.run')}
        </button>
      </div>
      {run.checkpoints.length === 0 && <p className="muted">{t('evaluation.noCheckpoint')}</p>}
      {comparison && <ComparisonTable run={run.name} step={comparison.step} result={comparison.result} />}
      {error && <p className="error">{error}</p>}
      {evaluations.data && evaluations.data.length === 0 && run.checkpoints.length > 0 && <p className="muted">{t('evaluation.none')}</p>}
      {evaluations.data && evaluations.data.length > 0 && (
        <>
          <table className="data" data-testid="evaluations">
            <thead>
              <tr>
                <th className="num">{t('evaluation.step')}</th>
                {metrics.map((m) => (
                  <th key={m} className="num" title={signatures.get(m)}>
                    {metricNames[m] ?? m}
                  </th>
                ))}
                <th>{t('evaluation.when')}</th>
              </tr>
            </thead>
            <tbody>
              {evaluations.data.map((e) => (
                <tr key={e.step}>
                  <td className="num">{e.step}</td>
                  {metrics.map((m) => {
                    const score = e.scores.find((s) => s.metric === m)
                    return (
                      <td key={m} className="num">
                        {score ? formatScore(m, score.score) : '—'}
                      </td>
                    )
                  })}
                  <td>{new Date(e.evaluatedAt * 1000).toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <ul className="muted signatures">
            {[...signatures].sort(([a], [b]) => byRank(a, b)).map(([metric, signature]) => (
              <li key={metric} className="mono">
                {metricNames[metric] ?? metric}: {signature}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  )
}

/** This run against another on the same sentences: each metric's difference, its 95 % interval and p. */
function ComparisonTable({ run, step, result }: { run: string; step: number; result: EvalResult }) {
  const { t } = useTranslation()
  const comparison = result.comparison!
  const signed = (metric: string, value: number) => `${value >= 0 ? '+' : ''}${formatScore(metric, value)}`
  return (
    <table className="data comparison" data-testid="evaluation-comparison">
      <caption>{t('evaluation.comparison', { run, step, against: comparison.against, againstStep: comparison.againstCheckpoint, resamples: comparison.resamples })}</caption>
      <thead>
        <tr>
          <th>{t('evaluation.metric')}</th>
          <th className="num">{comparison.against}</th>
          <th className="num">{run}</th>
          <th className="num">{t('evaluation.difference')}</th>
          <th className="num">{t('evaluation.interval')}</th>
          <th className="num">p</th>
        </tr>
      </thead>
      <tbody>
        {comparison.metrics.map((m) => (
          <tr key={m.metric} className={m.pValue < 0.05 ? 'significant' : undefined}>
            <td>{metricNames[m.metric] ?? m.metric}</td>
            <td className="num">{formatScore(m.metric, m.baseline)}</td>
            <td className="num">{formatScore(m.metric, m.system)}</td>
            <td className="num">{signed(m.metric, m.difference)}</td>
            <td className="num">
              [{signed(m.metric, m.low)}, {signed(m.metric, m.high)}]
            </td>
            <td className="num">{m.pValue.toFixed(3)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}
