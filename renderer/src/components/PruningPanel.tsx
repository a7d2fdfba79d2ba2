// Magnitude pruning on the run dashboard: a pruned run's zeros per layer, or a form that prunes this run into a new one.
import { useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { RunDetail } from '../../../main/api/contract.ts'
import { useClient } from '../api/hooks.ts'

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

/** `onStarted` gets the new run's name once it trains (the page shows that run). */
export function PruningPanel({ run, onStarted }: { run: RunDetail; onStarted: (name: string) => void }) {
  const { t } = useTranslation()
  return (
    <section aria-labelledby="pruning-title" data-testid="pruning">
      <h2 id="pruning-title">{t('pruning.title')}</h2>
      <p className="muted">{t('pruning.intro')}</p>
      {run.config.pruning ? <SparsityTable run={run} /> : <PruneForm run={run} onStarted={onStarted} />}
    </section>
  )
}
