// The training dashboard: runs, a form to start one, and for the selected run live curves, run controls,
// validation samples, run comparison and attention over training.
import { useEffect, useMemo, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { AttentionKind, AttentionLayout, JobProgress, MetricPoint, Result, RunDetail } from '../../../main/api/contract.ts'
import { LoadReportProvider, useClient, useEvent, useLoadCount, useQuery } from '../api/hooks.ts'
import { AttentionExplorer, KindSelect, mapLabel } from '../components/AttentionExplorer.tsx'
import { AttentionHeatmap, download } from '../components/AttentionHeatmap.tsx'
import { metricsCsv } from '../../../main/api/metrics-csv.ts'
import { HeadStatsTable } from '../components/HeadStatsTable.tsx'
import { EmptyState, PageHeader } from '../components/EmptyState.tsx'
import { MetricChart, smooth, type ChartSeries } from '../components/MetricChart.tsx'
import { formatCount, formatDuration } from '../format.ts'
import { NewRunForm } from './NewRunForm.tsx'
import { EvaluationPanel } from '../components/EvaluationPanel.tsx'
import { CompressionPanel } from '../components/CompressionPanel.tsx'
import { ReinforcementPanel } from '../components/ReinforcementPanel.tsx'
import { ClampedText } from '../components/ClampedText.tsx'

type Series = Record<string, MetricPoint[]>

const palette = { train: '#2f5fd0', dev: '#e15759', compareTrain: '#59a14f', compareDev: '#b07aa1', other: '#f28e2b' }

/** Metric series of a run, loaded once and extended live from run.metrics events. */
function useRunMetrics(name: string | null): { series: Series; loading: boolean } {
  const client = useClient()
  const [series, setSeries] = useState<Series>({})
  const [loading, setLoading] = useState(name !== null)
  const [generation, setGeneration] = useState(0)
  useEffect(() => {
    setSeries({})
    if (!name) return
    let live = true
    setLoading(true)
    client.call('runs.metrics', { name }).then(
      (result) => live && setSeries(result.series),
      () => undefined, // the dashboard shows the run's own error; charts stay empty
    ).finally(() => live && setLoading(false))
    return () => {
      live = false
    }
  }, [client, name, generation])
  useEvent('run.metrics', (data) => {
    if (data.name !== name) return
    setSeries((previous) => {
      const next = { ...previous }
      for (const point of data.points) {
        const kept = (next[point.metric] ?? []).filter((p) => p.step < point.step)
        next[point.metric] = [...kept, { step: point.step, value: point.value, wallTime: Date.now() / 1000 }]
      }
      return next
    })
  })
  // A resumed run forgets what was logged after its checkpoint: reload when it starts again.
  useEvent('run.changed', (data) => {
    if (data.name === name && data.status === 'running' && data.step === 0) setGeneration((g) => g + 1)
  })
  return { series, loading }
}

function RunControls({ run, job }: { run: RunDetail; job: JobProgress | null }) {
  const { t } = useTranslation()
  const client = useClient()
  const [steps, setSteps] = useState(200)
  const [error, setError] = useState<string | null>(null)
  const act = (action: () => Promise<unknown>) => () => {
    setError(null)
    action().catch((caught: unknown) => setError((caught as Error).message))
  }
  const running = run.status === 'running'
  return (
    <div className="tools" role="group" aria-label={t('training.controls.label')}>
      <span className={`badge badge-${running ? 'active' : run.status === 'failed' ? 'failed' : 'skipped'}`} data-testid="run-status">
        {t(`training.status.${run.status}`)}
      </span>
      <span data-testid="run-step">{t('training.stepOf', { step: job?.done ?? run.step, max: run.maxSteps })}</span>
      {job?.etaSeconds != null && running && <span className="muted">{t('jobs.eta', { eta: formatDuration(job.etaSeconds) })}</span>}
      <button type="button" disabled={!running} onClick={act(() => client.call('runs.pause', { name: run.name }))}>
        {t('training.controls.pause')}
      </button>
      <button type="button" disabled={running} onClick={act(() => client.call('runs.start', { name: run.name }))}>
        {t('training.controls.resume')}
      </button>
      <button type="button" disabled={!running} onClick={act(() => client.call('runs.stop', { name: run.name }))}>
        {t('training.controls.stop')}
      </button>
      <label className="inline">
        <input type="number" min={1} value={steps} onChange={(event) => setSteps(Number(event.target.value))} style={{ width: '6rem' }} aria-label={t('training.controls.extendSteps')} />
        <button type="button" onClick={act(() => client.call('runs.extend', { name: run.name, steps }))}>
          {t('training.controls.extend')}
        </button>
      </label>
      {run.error && <p className="muted">{run.error}</p>}
      {error && <p className="error">{error}</p>}
    </div>
  )
}

/** A choice among the other runs (for comparing), or none. */
function OtherRunSelect({ label, none, runs, current, value, onChange }: { label: string; none: string; runs: string[]; current: string; value: string; onChange: (run: string) => void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">{none}</option>
        {runs
          .filter((r) => r !== current)
          .map((r) => (
            <option key={r}>{r}</option>
          ))}
      </select>
    </label>
  )
}

function ConfigDiff({ a, b }: { a: RunDetail; b: RunDetail }) {
  const { t } = useTranslation()
  const flatten = (value: unknown, prefix = ''): [string, string][] =>
    value && typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k)) : [[prefix, JSON.stringify(value)]]
  const left = new Map(flatten(a.config))
  const right = new Map(flatten(b.config))
  const keys = [...new Set([...left.keys(), ...right.keys()])].filter((k) => left.get(k) !== right.get(k))
  if (keys.length === 0) return <p className="muted">{t('training.compare.same')}</p>
  return (
    <table className="data" data-testid="config-diff">
      <thead>
        <tr>
          <th>{t('training.compare.setting')}</th>
          <th>{a.name}</th>
          <th>{b.name}</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k}>
            <td className="mono">{k}</td>
            <td className="mono">{left.get(k) ?? '—'}</td>
            <td className="mono">{right.get(k) ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

function ValidationSamples({ name, refreshKey }: { name: string; refreshKey: string }) {
  const { t } = useTranslation()
  const [step, setStep] = useState<number | undefined>(undefined)
  const samples = useQuery('runs.samples', step === undefined ? { name } : { name, step }, `${name}:${step}:${refreshKey}`)
  if (!samples.data || samples.data.steps.length === 0) return <p className="muted">{t('training.samples.none')}</p>
  return (
    <>
      <label className="search">
        {t('training.samples.step')}
        <select value={samples.data.step ?? ''} onChange={(event) => setStep(Number(event.target.value))}>
          {samples.data.steps.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <table className="data rows-table" data-testid="validation-samples">
        <thead>
          <tr>
            <th>{t('training.samples.source')}</th>
            <th>{t('training.samples.reference')}</th>
            <th>{t('training.samples.hypothesis')}</th>
          </tr>
        </thead>
        <tbody>
          {samples.data.samples.map((s) => (
            <tr key={s.index}>
              <td>
                <ClampedText text={s.source} />
              </td>
              <td>
                <ClampedText text={s.reference} />
              </td>
              <td className={s.hypothesis === s.reference ? 'match' : undefined}>
                <ClampedText text={s.hypothesis} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  )
}

type AttentionResult = Result<'runs.attention'>

/** Attention over training: a slider over validation steps for one probe sentence, and the difference of two steps. */
/** Which map the heatmap over training shows: a kind, a layer and a head (null: the mean of the layer's heads). */
interface MapChoice {
  kind: AttentionKind
  layer: number | null
  head: number | null
}

function mapParams(choice: MapChoice) {
  return { kind: choice.kind, ...(choice.layer === null ? {} : { layer: choice.layer }), ...(choice.head === null ? {} : { head: choice.head }) }
}

function MapChoiceTools({ layout, choice, onChange }: { layout: AttentionLayout; choice: MapChoice; onChange: (choice: MapChoice) => void }) {
  const { t } = useTranslation()
  const shape = layout.find((l) => l.kind === choice.kind)
  if (!shape) return null
  const layer = choice.layer ?? shape.layers - 1
  return (
    <>
      <KindSelect layout={layout} value={choice.kind} onChange={(kind) => onChange({ kind, layer: null, head: null })} />
      <label>
        {t('inspect.layerFilter')}
        <select value={layer} onChange={(event) => onChange({ ...choice, layer: Number(event.target.value) })} data-testid="attention-layer">
          {Array.from({ length: shape.layers }, (_, i) => (
            <option key={i} value={i}>
              {i + 1}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('inspect.headFilter')}
        <select value={choice.head ?? ''} onChange={(event) => onChange({ ...choice, head: event.target.value === '' ? null : Number(event.target.value) })} data-testid="attention-head">
          <option value="">{t('inspect.meanOfHeads')}</option>
          {Array.from({ length: shape.heads }, (_, i) => (
            <option key={i} value={i}>
              {i + 1}
            </option>
          ))}
        </select>
      </label>
    </>
  )
}

function AttentionOverTraining({ name, refreshKey, runs }: { name: string; refreshKey: string; runs: string[] }) {
  const { t } = useTranslation()
  const client = useClient()
  const [probe, setProbe] = useState(0)
  const [index, setIndex] = useState<number | null>(null)
  const [compareIndex, setCompareIndex] = useState<number | null>(null)
  /** Another run trained on the same corpus and tokenizer has the same probes: its map at the same step (or its latest). */
  const [compareRun, setCompareRun] = useState('')
  const [choice, setChoice] = useState<MapChoice>({ kind: 'cross', layer: null, head: null })
  const [explorerKind, setExplorerKind] = useState<AttentionKind>('encoder-self')
  /** Show the maps of the reference forced through the model instead of its own output. */
  const [forced, setForced] = useState(false)
  const overview = useQuery('runs.attention', { name, probe }, `${name}:${probe}:${refreshKey}`)
  const steps = overview.data?.steps ?? []
  const layout = overview.data?.layout ?? []
  /** Transformers store several kinds, layers and heads; RNN models one cross-attention map. */
  const multiHead = layout.some((l) => l.layers > 1 || l.heads > 1) || layout.length > 1
  const at = index ?? steps.length - 1
  const step = steps[Math.min(at, steps.length - 1)]
  const [maps, setMaps] = useState<{ current: AttentionResult['map']; other: AttentionResult['map'] }>({ current: null, other: null })
  const grid = useQuery('runs.attentionGrid', { name, probe, step, kind: explorerKind }, `${name}:${probe}:${step}:${explorerKind}:${refreshKey}`, multiHead && step !== undefined)
  const headStats = useQuery('runs.headStats', { name, step }, `${name}:${step}:${refreshKey}`, multiHead && step !== undefined)
  /** A difference is always taken on the dev reference forced through both models: the same output, the same shape. */
  const comparing = compareRun !== '' || compareIndex !== null
  const output = comparing || forced ? 'reference' : 'hypothesis'
  useEffect(() => {
    if (step === undefined) return
    let live = true
    const other = compareIndex === null ? undefined : steps[compareIndex]
    const otherMap = async () => {
      if (compareRun) {
        const overview = await client.call('runs.attention', { name: compareRun, probe })
        const sameStep = overview.steps.includes(step) ? step : overview.steps.at(-1)
        return sameStep === undefined ? null : (await client.call('runs.attention', { name: compareRun, probe, step: sameStep, output, ...mapParams(choice) })).map
      }
      return other === undefined ? null : (await client.call('runs.attention', { name, probe, step: other, output, ...mapParams(choice) })).map
    }
    void Promise.all([client.call('runs.attention', { name, probe, step, output, ...mapParams(choice) }), otherMap()]).then(([a, b]) => {
      if (live) setMaps({ current: a.map, other: b })
    })
    return () => {
      live = false
    }
  }, [client, name, probe, step, compareIndex, compareRun, choice, output, steps.join()])
  if (steps.length === 0) return <p className="muted">{t('attention.none')}</p>
  const current = maps.current
  const other = maps.other
  // The difference is defined where both maps have the same shape (same hypothesis length).
  const diff =
    current && other && other.weights.length === current.weights.length && other.colTokens.length === current.colTokens.length
      ? current.weights.map((row, r) => row.map((w, c) => w - other.weights[r]![c]!))
      : null
  const which = current ? `${mapLabel(t, current)}${output === 'reference' ? ` ${t('attention.onReference')}` : ''}` : ''
  return (
    <div data-testid="attention-over-training">
      <div className="tools">
        <label>
          {t('attention.probe')}
          <select value={probe} onChange={(event) => setProbe(Number(event.target.value))}>
            {Array.from({ length: overview.data?.probes ?? 0 }, (_, i) => (
              <option key={i} value={i}>
                {i + 1}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('attention.step', { step })}
          <input type="range" min={0} max={steps.length - 1} value={at} onChange={(event) => setIndex(Number(event.target.value))} aria-valuetext={String(step)} data-testid="attention-slider" />
        </label>
        {multiHead && <MapChoiceTools layout={layout} choice={choice} onChange={setChoice} />}
        <label className="check">
          <input type="checkbox" checked={forced || comparing} disabled={comparing} onChange={(event) => setForced(event.target.checked)} data-testid="attention-forced" />
          <span>{t('attention.forced')}</span>
        </label>
        <OtherRunSelect label={t('attention.compareRun')} none={t('attention.noCompare')} runs={runs} current={name} value={compareRun} onChange={setCompareRun} />
        <label>
          {t('attention.compare')}
          <select value={compareIndex ?? ''} disabled={compareRun !== ''} onChange={(event) => setCompareIndex(event.target.value === '' ? null : Number(event.target.value))}>
            <option value="">{t('attention.noCompare')}</option>
            {steps.map((s, i) => (
              <option key={s} value={i}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {current && !diff && (
        <AttentionHeatmap srcTokens={current.colTokens} tgtTokens={current.rowTokens} weights={current.weights} label={t('attention.at', { which, step: current.step })} fileName={`${name}-probe${probe + 1}-step${current.step}`} />
      )}
      {current && other && diff && (
        <AttentionHeatmap
          srcTokens={current.colTokens}
          tgtTokens={current.rowTokens}
          weights={diff}
          difference
          label={compareRun ? t('attention.diffRun', { a: name, b: compareRun, step: other.step, which }) : t('attention.diff', { a: current.step, b: other.step, which })}
          fileName={`${name}-probe${probe + 1}-diff`}
        />
      )}
      {comparing && (!current || !other || !diff) && maps.current !== undefined && <p className="muted">{t('attention.noReference')}</p>}
      {multiHead && (
        <>
          <h3>{t('inspect.allHeads', { step })}</h3>
          <AttentionExplorer layout={layout} kind={explorerKind} onKind={setExplorerKind} maps={grid.data?.maps ?? []} fileName={`${name}-probe${probe + 1}-step${step}`} />
          <h3>{t('inspect.statsTitle', { probes: headStats.data?.probes ?? 0, step })}</h3>
          {headStats.data && <HeadStatsTable stats={headStats.data.stats} onPick={(kind, layer, head) => setChoice({ kind, layer, head })} />}
        </>
      )}
    </div>
  )
}

function RunDashboard({ name, runs, onSelect }: { name: string; runs: string[]; onSelect: (run: string) => void }) {
  const { t, i18n } = useTranslation()
  const detail = useQuery('runs.show', { name }, name)
  const [job, setJob] = useState<JobProgress | null>(null)
  const [smoothing, setSmoothing] = useState(0.6)
  const [compare, setCompare] = useState('')
  const [refreshKey, setRefreshKey] = useState('')
  const { series, loading: metricsLoading } = useRunMetrics(name)
  const { series: compareSeries } = useRunMetrics(compare || null)
  const [loadsInside, reportLoad] = useLoadCount()
  const compareDetail = useQuery('runs.show', { name: compare }, compare, compare !== '')
  useEvent('run.changed', (data) => {
    if (data.name === name) {
      detail.reload()
      setRefreshKey(`${data.status}:${data.step}`)
    }
  })
  useEvent('job.progress', (progress) => {
    if (progress.jobId === detail.data?.jobId) setJob(progress)
  })
  // The first logged step of a fresh run: its parameter count is stored by now.
  useEvent('run.metrics', (data) => {
    if (data.name === name && detail.data && detail.data.parameters === null) detail.reload()
  })
  const line = (metric: string, label: string, color: string, from: Series = series, dashed = false, weight = 0): ChartSeries => ({ label, color, dashed, points: smooth(from[metric] ?? [], weight) })
  const charts = useMemo(() => {
    const withCompare = (metric: string, label: string, color: string, weight = 0) => (compare ? [line(metric, `${compare}: ${label}`, color, compareSeries, true, weight)] : [])
    return [
      { title: t('training.charts.loss'), series: [line('train/loss', 'train', palette.train, series, false, smoothing), line('dev/loss', 'dev', palette.dev), ...withCompare('train/loss', 'train', palette.compareTrain, smoothing), ...withCompare('dev/loss', 'dev', palette.compareDev)] },
      { title: t('training.charts.scores'), series: [line('dev/bleu', 'BLEU', palette.train), line('dev/chrf', 'chrF', palette.dev), ...withCompare('dev/bleu', 'BLEU', palette.compareTrain)] },
      { title: t('training.charts.ppl'), log: true, series: [line('train/ppl', 'train', palette.train, series, false, smoothing), line('dev/ppl', 'dev', palette.dev)] },
      { title: t('training.charts.lr'), series: [line('train/lr', 'lr', palette.other)] },
      { title: t('training.charts.gradNorm'), series: [line('train/grad_norm', '‖g‖', palette.other, series, false, smoothing)] },
      { title: t('training.charts.speed'), series: [line('train/tokens_per_s', 'tokens/s', palette.other, series, false, smoothing)] },
      ...(series['rl/reward']
        ? [{ title: t('reinforcement.chart'), series: [line('rl/reward', t('reinforcement.chartSeries.reward'), palette.train, series, false, smoothing), line('rl/baseline', t('reinforcement.chartSeries.baseline'), palette.dev, series, false, smoothing), line('rl/advantage', t('reinforcement.chartSeries.advantage'), palette.other, series, false, smoothing)] }]
        : []),
      ...(series['prune/target_sparsity'] ? [{ title: t('pruning.chart'), series: [line('prune/target_sparsity', 'target', palette.dev), line('prune/sparsity', 'measured', palette.train)] }] : []),
      ...(series['train/memory_mib'] ? [{ title: t('training.charts.memory'), series: [line('train/memory_mib', 'train', palette.train), line('dev/memory_mib', 'dev', palette.dev)] }] : []),
    ]
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [series, compareSeries, smoothing, compare, t])
  if (detail.error) return <p className="error">{t('common.error', { message: detail.error })}</p>
  // The trainer splits each batch further whenever an update runs out of memory; the last split holds.
  const memorySplit = series['train/memory_split']?.at(-1)
  const validationSplit = series['dev/memory_split']?.at(-1)
  const run = detail.data
  if (!run) return <p className="muted">{t('common.loading')}</p>
  const best = run.checkpoints.find((c) => c.isBest)
  return (
    <section className="panel" aria-labelledby="run-title" aria-busy={detail.loading || metricsLoading || loadsInside > 0} data-testid="run-dashboard">
      <LoadReportProvider value={reportLoad}>
        <div className="panel-head">
          <h2 id="run-title">{run.name}</h2>
          <span className="muted">
            {run.model} · {run.corpus} · {run.parameters ? t('training.parameters', { formatted: formatCount(run.parameters, i18n.language) }) : ''}
            {best ? ` · ${t('training.best', { step: best.step, bleu: (best.metrics['dev/bleu'] ?? 0).toFixed(2) })}` : ''}
            {run.config.distillation ? ` · ${t('training.distilledFrom', { teacher: run.config.distillation.teacher, step: run.config.distillation.checkpointStep, weight: run.config.distillation.weight })}` : ''}
            {run.config.reinforcement ? ` · ${t('training.reinforcedFrom', { algorithm: t(`reinforcement.algorithms.${run.config.reinforcement.algorithm}`), run: run.config.finetunedFrom?.run ?? '?', reward: t(`reinforcement.rewards.${run.config.reinforcement.reward}`) })}` : ''}
          </span>
        </div>
        <RunControls run={run} job={job && job.status === 'running' ? job : null} />
        <div className="tools">
          <label>
            {t('training.smoothing', { value: smoothing.toFixed(2) })}
            <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(event) => setSmoothing(Number(event.target.value))} />
          </label>
          <OtherRunSelect label={t('training.compare.with')} none={t('training.compare.none')} runs={runs} current={name} value={compare} onChange={setCompare} />
          <span className="muted">{t('training.zoomHint')}</span>
          <button type="button" onClick={() => download(`${name}-metrics.csv`, URL.createObjectURL(new Blob([metricsCsv(series)], { type: 'text/csv' })))} data-testid="metrics-csv">
            {t('training.metricsCsv')}
          </button>
        </div>
        {memorySplit && (
          <p className="muted" data-testid="memory-split">
            {t('training.memorySplit', { parts: memorySplit.value, step: memorySplit.step })}
          </p>
        )}
        {validationSplit && (
          <p className="muted" data-testid="validation-split">
            {t('training.validationSplit', { parts: validationSplit.value, step: validationSplit.step })}
          </p>
        )}
        <div className="charts">
          {charts.map((chart) => (
            <MetricChart key={chart.title} title={chart.title} series={chart.series} logScale={chart.log ?? false} />
          ))}
        </div>
        {compare && compareDetail.data && (
          <>
            <h2>{t('training.compare.config')}</h2>
            <ConfigDiff a={run} b={compareDetail.data} />
          </>
        )}
        <h2>{t('evaluation.title')}</h2>
        <EvaluationPanel run={run} />
        <ReinforcementPanel run={run} onStarted={onSelect} />
        <CompressionPanel run={run} onStarted={onSelect} />
        <h2>{t('training.samples.title')}</h2>
        <ValidationSamples name={name} refreshKey={refreshKey} />
        <h2>{t('attention.overTraining')}</h2>
        <AttentionOverTraining name={name} refreshKey={refreshKey} runs={runs} />
      </LoadReportProvider>
    </section>
  )
}

export function TrainingPage() {
  const { t } = useTranslation()
  const runs = useQuery('runs.list', {})
  const [selected, setSelected] = useState<string | null>(null)
  useEvent('run.changed', () => runs.reload())
  /** Steps logged since the list was loaded (the list itself changes only at status changes and validations). */
  const [liveSteps, setLiveSteps] = useState<Record<string, number>>({})
  useEvent('run.metrics', (data) => {
    const step = Math.max(...data.points.map((p) => p.step))
    setLiveSteps((previous) => (step > (previous[data.name] ?? -1) ? { ...previous, [data.name]: step } : previous))
  })
  const names = runs.data?.map((r) => r.name) ?? []
  const current = selected ?? names[0] ?? null
  return (
    <>
      <PageHeader title={t('training.title')} intro={t('training.intro')} />
      {runs.error && <p className="error">{t('common.error', { message: runs.error })}</p>}
      {runs.data && runs.data.length === 0 && <EmptyState message={t('training.empty')} />}
      {runs.data && runs.data.length > 0 && (
        <table className="data" data-testid="runs-table">
          <thead>
            <tr>
              <th>{t('training.columns.name')}</th>
              <th>{t('training.columns.model')}</th>
              <th>{t('training.columns.status')}</th>
              <th className="num">{t('training.columns.step')}</th>
              <th>{t('training.columns.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((run) => (
              <tr key={run.id} aria-selected={run.name === current} className={run.name === current ? 'selected' : undefined}>
                <td>
                  <button type="button" className="link" onClick={() => setSelected(run.name)}>
                    {run.name}
                  </button>
                </td>
                <td>{run.model}</td>
                <td>{t(`training.status.${run.status}`)}</td>
                <td className="num" data-testid={`run-row-step-${run.name}`}>
                  {run.status === 'running' ? Math.max(run.step, liveSteps[run.name] ?? 0) : run.step} / {run.maxSteps}
                </td>
                <td>{new Date(run.updatedAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {current && <RunDashboard key={current} name={current} runs={names} onSelect={setSelected} />}
      <NewRunForm onCreated={(name) => setSelected(name)} takenNames={names} />
    </>
  )
}
