// Compression on the run dashboard: the run beside the models made from it (int8 quantisations, pruned runs, distilled
// students), a pruned run's zeros per layer, and forms that quantise the run, prune it or distil it into a corpus.
import { useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { CompressionRow, RunDetail } from '../../../main/api/contract.ts'
import { useClient, useEvent, useQuery } from '../api/hooks.ts'

const percent = (part: number, whole: number) => `${whole === 0 ? '0.0' : ((100 * part) / whole).toFixed(1)} %`

function SparsityTable({ run }: { run: RunDetail }) {
  const { t } = useTranslation()
  const pruning = run.config.pruning!
  const layers = run.sparsity ?? []
  const size = layers.reduce((sum, layer) => sum + layer.size, 0)
  const zeros = layers.reduce((sum, layer) => sum + layer.zeros, 0)
  return (
    <>
      <p>
        {t('pruning.from', {
          run: pruning.from.run,
          step: pruning.from.step,
          target: (100 * pruning.sparsity).toFixed(0),
          scope: t(`pruning.scopes.${pruning.scope}`),
          schedule: t(pruning.endStep === pruning.startStep ? 'pruning.schedules.oneShot' : 'pruning.schedules.gradual'),
        })}
      </p>
      {layers.length === 0 ? (
        <p className="muted">{t('pruning.notYet')}</p>
      ) : (
        <>
          <p data-testid="sparsity-overall">{t('pruning.overall', { sparsity: percent(zeros, size), weights: size.toLocaleString() })}</p>
          <table className="data" data-testid="sparsity-table">
            <thead>
              <tr>
                <th>{t('pruning.columns.layer')}</th>
                <th className="num">{t('pruning.columns.weights')}</th>
                <th className="num">{t('pruning.columns.zeros')}</th>
                <th className="num">{t('pruning.columns.sparsity')}</th>
              </tr>
            </thead>
            <tbody>
              {layers.map((layer) => (
                <tr key={layer.name}>
                  <td>
                    <code>{layer.name}</code>
                  </td>
                  <td className="num">{layer.size.toLocaleString()}</td>
                  <td className="num">{layer.zeros.toLocaleString()}</td>
                  <td className="num">
                    <meter min={0} max={1} value={layer.zeros / layer.size} aria-hidden="true" /> {percent(layer.zeros, layer.size)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  )
}

function PruneForm({ run, onStarted }: { run: RunDetail; onStarted: (name: string) => void }) {
  const { t } = useTranslation()
  const client = useClient()
  const [sparsity, setSparsity] = useState(50)
  const [scope, setScope] = useState<'global' | 'layer'>('global')
  const [schedule, setSchedule] = useState<'gradual' | 'one-shot'>('gradual')
  const [steps, setSteps] = useState(200)
  const [error, setError] = useState<string | null>(null)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    client.call('runs.prune', { name: run.name, sparsity: sparsity / 100, scope, schedule, steps }).then(
      (result) => onStarted(result.run.name),
      (caught: unknown) => setError((caught as Error).message),
    )
  }
  if (run.checkpoints.length === 0) return <p className="muted">{t('pruning.needsCheckpoint')}</p>
  return (
    <form className="tools" onSubmit={submit} aria-label={t('pruning.formLabel')}>
      <label>
        {t('pruning.sparsity')}
        <input type="number" min={1} max={99} value={sparsity} onChange={(e) => setSparsity(Number(e.target.value))} name="sparsity" style={{ width: '5rem' }} />
      </label>
      <label>
        {t('pruning.scope')}
        <select value={scope} onChange={(e) => setScope(e.target.value as 'global' | 'layer')} name="scope">
          <option value="global">{t('pruning.scopes.global')}</option>
          <option value="layer">{t('pruning.scopes.layer')}</option>
        </select>
      </label>
      <label>
        {t('pruning.schedule')}
        <select value={schedule} onChange={(e) => setSchedule(e.target.value as 'gradual' | 'one-shot')} name="schedule">
          <option value="gradual">{t('pruning.schedules.gradual')}</option>
          <option value="one-shot">{t('pruning.schedules.oneShot')}</option>
        </select>
      </label>
      <label>
        {t('pruning.steps')}
        <input type="number" min={1} value={steps} onChange={(e) => setSteps(Number(e.target.value))} name="prune-steps" style={{ width: '6rem' }} />
      </label>
      <button type="submit">{t('pruning.submit')}</button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

/** The run, its pruned runs and its students side by side; latency is measured on request (it loads each model). */
function CompressionTable({ run }: { run: RunDetail }) {
  const { t } = useTranslation()
  const client = useClient()
  const report = useQuery('compress.report', { name: run.name }, `${run.name}:${run.checkpoints.length}`)
  const [measured, setMeasured] = useState<CompressionRow[] | null>(null)
  const [measuring, setMeasuring] = useState(false)
  const [error, setError] = useState<string | null>(null)
  useEvent('run.changed', () => report.reload())
  const rows = measured ?? report.data?.rows ?? []
  const measure = () => {
    setMeasuring(true)
    setError(null)
    client.call('compress.report', { name: run.name, latency: true }).then(
      (result) => (setMeasured(result.rows), setMeasuring(false)),
      (caught: unknown) => (setError((caught as Error).message), setMeasuring(false)),
    )
  }
  const kind = (row: CompressionRow) =>
    row.kind === 'pruned'
      ? t('compression.kinds.pruned', { percent: Math.round(100 * (row.sparsity ?? 0)) })
      : row.kind === 'distilled'
        ? t('compression.kinds.distilled', { corpus: row.corpus })
        : t(`compression.kinds.${row.kind}`)
  const score = (value: number | null) => (value === null ? '—' : value.toFixed(2))
  if (report.error) return <p className="muted">{report.error}</p>
  return (
    <>
      <table className="data" data-testid="compression-table">
        <thead>
          <tr>
            <th>{t('compression.columns.run')}</th>
            <th>{t('compression.columns.kind')}</th>
            <th className="num">{t('compression.columns.step')}</th>
            <th className="num">{t('compression.columns.parameters')}</th>
            <th className="num">{t('compression.columns.nonZero')}</th>
            <th className="num">{t('compression.columns.size')}</th>
            <th className="num">BLEU</th>
            <th className="num">chrF</th>
            <th className="num">{t('compression.columns.latency')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.run}>
              <td>{row.run}</td>
              <td>{kind(row)}</td>
              <td className="num">{row.checkpointStep}</td>
              <td className="num">{row.parameters.toLocaleString()}</td>
              <td className="num">{row.nonZero.toLocaleString()}</td>
              <td className="num">{(row.bytes / 2 ** 20).toFixed(2)} MiB</td>
              <td className="num">{score(row.bleu)}</td>
              <td className="num">{score(row.chrf)}</td>
              <td className="num">{row.latencyMs === null ? '—' : `${row.latencyMs.toFixed(0)} ms`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="tools">
        <button type="button" onClick={measure} disabled={measuring || rows.length === 0}>
          {measuring ? t('compression.measuring') : t('compression.measure')}
        </button>
        <span className="muted">{t('compression.scoresNote')}</span>
      </div>
      {error && <p className="error">{error}</p>}
    </>
  )
}

const mebibytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`

function QuantizeForm({ run }: { run: RunDetail }) {
  const { t } = useTranslation()
  const client = useClient()
  const [keepEmbeddings, setKeepEmbeddings] = useState(false)
  const [keepOutput, setKeepOutput] = useState(false)
  const [created, setCreated] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    client.call('runs.quantize', { name: run.name, embeddings: !keepEmbeddings, output: !keepOutput }).then(
      (result) => setCreated(t('compression.quantize.created', { run: result.run.name, size: mebibytes(result.bytes), floatSize: mebibytes(result.floatBytes) })),
      (caught: unknown) => setError((caught as Error).message),
    )
  }
  return (
    <form className="tools" onSubmit={submit} aria-label={t('compression.quantize.label')}>
      <label>
        <input type="checkbox" checked={keepEmbeddings} onChange={(e) => setKeepEmbeddings(e.target.checked)} name="keep-embeddings" /> {t('compression.quantize.keepEmbeddings')}
      </label>
      <label>
        <input type="checkbox" checked={keepOutput} onChange={(e) => setKeepOutput(e.target.checked)} name="keep-output" /> {t('compression.quantize.keepOutput')}
      </label>
      <button type="submit" disabled={run.checkpoints.length === 0}>
        {t('compression.quantize.submit')}
      </button>
      {created && <p role="status">{created}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

function QuantizedNote({ quantization }: { quantization: NonNullable<RunDetail['config']['quantization']> }) {
  const { t } = useTranslation()
  const float = [...(quantization.embeddings ? [] : ['embeddings']), ...(quantization.output ? [] : ['output'])].map((part) => t(`compression.quantize.parts.${part}`))
  return (
    <p data-testid="quantized-note">
      {t('compression.quantize.current', { run: quantization.from.run, step: quantization.from.step })}
      {float.length > 0 && ` ${t('compression.quantize.keptFloat', { parts: float.join(', ') })}`}
    </p>
  )
}

function DistilForm({ run }: { run: RunDetail }) {
  const { t } = useTranslation()
  const client = useClient()
  const [search, setSearch] = useState<'beam' | 'greedy'>('beam')
  const [started, setStarted] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    client.call('runs.distil', { name: run.name, search }).then(
      (result) => setStarted(result.corpus),
      (caught: unknown) => setError((caught as Error).message),
    )
  }
  return (
    <form className="tools" onSubmit={submit} aria-label={t('compression.distil.label')}>
      <label>
        {t('compression.distil.search')}
        <select value={search} onChange={(e) => setSearch(e.target.value as 'beam' | 'greedy')} name="distil-search">
          <option value="beam">{t('compression.distil.beam')}</option>
          <option value="greedy">{t('compression.distil.greedy')}</option>
        </select>
      </label>
      <button type="submit" disabled={run.checkpoints.length === 0}>
        {t('compression.distil.submit')}
      </button>
      {started && <p role="status">{t('compression.distil.started', { corpus: started })}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

/** `onStarted` gets a new pruned run's name once it trains (the page shows that run). */
export function CompressionPanel({ run, onStarted }: { run: RunDetail; onStarted: (name: string) => void }) {
  const { t } = useTranslation()
  const translation = run.config.model === 'seq2seq' || run.config.model === 'transformer'
  return (
    <section aria-labelledby="compression-title" data-testid="compression">
      <h2 id="compression-title">{t('compression.title')}</h2>
      {translation && <CompressionTable run={run} />}
      <h3>{t('compression.quantize.title')}</h3>
      {run.config.quantization ? (
        <QuantizedNote quantization={run.config.quantization} />
      ) : (
        <>
          <p className="muted">{t('compression.quantize.intro')}</p>
          <QuantizeForm run={run} />
        </>
      )}
      {run.config.quantization ? null : <PruningSection run={run} onStarted={onStarted} translation={translation} />}
    </section>
  )
}

function PruningSection({ run, onStarted, translation }: { run: RunDetail; onStarted: (name: string) => void; translation: boolean }) {
  const { t } = useTranslation()
  return (
    <>
      <h3>{t('pruning.title')}</h3>
      <p className="muted">{t('pruning.intro')}</p>
      {run.config.pruning ? <SparsityTable run={run} /> : <PruneForm run={run} onStarted={onStarted} />}
      {translation && (
        <>
          <h3>{t('compression.distil.title')}</h3>
          <p className="muted">{t('compression.distil.intro')}</p>
          <DistilForm run={run} />
        </>
      )}
    </>
  )
}
