// The translation playground: pick a run and checkpoint, a search and its settings; see the n-best list
// with scores and each hypothesis' attention heatmap; optionally two models side by side.
import { useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { AttentionKind, Result } from '../../../main/api/contract.ts'
import { useClient, useQuery } from '../api/hooks.ts'
import { AttentionExplorer, layoutOf } from '../components/AttentionExplorer.tsx'
import { AttentionHeatmap } from '../components/AttentionHeatmap.tsx'
import { EmptyState, PageHeader } from '../components/EmptyState.tsx'
import { SearchControls, defaultSearchSettings, type SearchSettings } from '../components/SearchControls.tsx'

type Translation = Result<'translate'>

function ModelPicker({ label, runs, value, onChange, allowNone }: { label: string; runs: string[]; value: { run: string; checkpoint: string }; onChange: (v: { run: string; checkpoint: string }) => void; allowNone?: boolean }) {
  const { t } = useTranslation()
  const detail = useQuery('runs.show', { name: value.run }, value.run, value.run !== '')
  return (
    <fieldset>
      <legend>{label}</legend>
      <label>
        {t('translate.run')}
        <select value={value.run} onChange={(event) => onChange({ run: event.target.value, checkpoint: '' })}>
          {allowNone && <option value="">{t('translate.none')}</option>}
          {runs.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      <label>
        {t('translate.checkpoint')}
        <select value={value.checkpoint} onChange={(event) => onChange({ ...value, checkpoint: event.target.value })} disabled={!value.run}>
          <option value="">{t('translate.bestCheckpoint')}</option>
          {detail.data?.checkpoints.map((c) => (
            <option key={c.step} value={c.step}>
              {c.step}
              {c.isBest ? ' ★' : ''}
            </option>
          ))}
        </select>
      </label>
    </fieldset>
  )
}

function Results({ translation }: { translation: Translation }) {
  const { t } = useTranslation()
  const [chosen, setChosen] = useState(0)
  const [kind, setKind] = useState<AttentionKind>('cross')
  const result = translation.results[0]
  if (!result) return null
  const maps = result.maps ?? []
  const layout = layoutOf(maps)
  /** RNN models have one cross-attention map, already shown as the heatmap; Transformers get every layer and head. */
  const multiHead = layout.length > 1 || layout.some((l) => l.layers > 1 || l.heads > 1)
  const hypothesis = result.hypotheses[Math.min(chosen, result.hypotheses.length - 1)]
  return (
    <div className="translation" data-testid={`translation-${translation.run}`}>
      <h2>
        {translation.run} <span className="muted">{t('translate.atStep', { step: translation.checkpointStep })}</span>
      </h2>
      <ol className="nbest" data-testid="nbest">
        {result.hypotheses.map((h, i) => (
          <li key={i}>
            <button type="button" className={`link${i === chosen ? ' chosen' : ''}`} aria-pressed={i === chosen} onClick={() => setChosen(i)}>
              {h.text || t('translate.emptyText')}
            </button>
            <span className="muted mono"> {t('translate.score', { score: h.score.toFixed(3), logProb: h.logProb.toFixed(3) })}</span>
          </li>
        ))}
      </ol>
      {hypothesis?.attention ? (
        <AttentionHeatmap srcTokens={result.srcPieces} tgtTokens={hypothesis.pieces} weights={hypothesis.attention} label={t('translate.heatmap', { text: hypothesis.text })} fileName={`${translation.run}-attention`} />
      ) : (
        <p className="muted">{t('translate.noAttention')}</p>
      )}
      {multiHead && (
        <>
          <h3>{t('translate.allHeads')}</h3>
          <AttentionExplorer layout={layout} kind={kind} onKind={setKind} maps={maps} fileName={`${translation.run}-attention`} />
        </>
      )}
    </div>
  )
}

export function TranslatePage() {
  const { t } = useTranslation()
  const client = useClient()
  const runs = useQuery('runs.list', {})
  const translatable = runs.data?.filter((r) => (r.model === 'seq2seq' || r.model === 'transformer') && r.step > 0).map((r) => r.name) ?? []
  const [first, setFirst] = useState<{ run: string; checkpoint: string } | null>(null)
  const [second, setSecond] = useState({ run: '', checkpoint: '' })
  const [text, setText] = useState('')
  const [settings, setSettings] = useState<SearchSettings>(defaultSearchSettings)
  const [results, setResults] = useState<Translation[]>([])
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  if (runs.data && translatable.length === 0) {
    return (
      <>
        <PageHeader title={t('translate.title')} intro={t('translate.intro')} />
        <EmptyState message={t('translate.empty')} />
      </>
    )
  }
  const primary = first ?? { run: translatable[0] ?? '', checkpoint: '' }
  const translate = async (event?: FormEvent) => {
    event?.preventDefault()
    if (!text.trim() || !primary.run) return
    setBusy(true)
    setError(null)
    try {
      const { search, beamSize, nBest, alpha, temperature, topK, topP } = settings
      const options = { search, beamSize, nBest: search === 'greedy' ? 1 : nBest, alpha, temperature, topK, topP, lines: [text.trim()], attention: true, inspect: true }
      const models = [primary, ...(second.run ? [second] : [])]
      setResults(await Promise.all(models.map((m) => client.call('translate', { ...options, run: m.run, ...(m.checkpoint ? { checkpoint: Number(m.checkpoint) } : {}) }))))
    } catch (caught) {
      setError((caught as Error).message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <>
      <PageHeader title={t('translate.title')} intro={t('translate.intro')} />
      <form className="panel" onSubmit={(event) => void translate(event)} aria-label={t('translate.title')}>
        <div className="tools">
          <ModelPicker label={t('translate.model')} runs={translatable} value={primary} onChange={setFirst} />
          <ModelPicker label={t('translate.sideBySide')} runs={translatable} value={second} onChange={setSecond} allowNone />
          <SearchControls value={settings} onChange={setSettings} withNBest />
        </div>
        <label className="search" style={{ maxWidth: 'none' }}>
          {t('translate.input')}
          <textarea
            className="preview-input"
            rows={3}
            value={text}
            onChange={(event) => setText(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) void translate()
            }}
            data-testid="translate-input"
            disabled={!primary.run} // the runs list has not arrived yet
          />
        </label>
        <button type="submit" disabled={busy || !primary.run || !text.trim()}>
          {busy ? t('translate.busy') : t('translate.submit')}
        </button>
        <span className="muted"> {t('translate.shortcut')}</span>
        {error && <p className="error">{error}</p>}
      </form>
      <div className={results.length > 1 ? 'side-by-side' : undefined}>
        {results.map((r) => (
          <Results key={r.run} translation={r} />
        ))}
      </div>
    </>
  )
}
