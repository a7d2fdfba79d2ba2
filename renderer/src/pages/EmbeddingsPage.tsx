// Word embeddings: train word2vec on a corpus (live per-epoch loss, words/s and evaluation), query the vectors
// (neighbours, analogies) and explore them in the projector with its time axis over epochs.
import { useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { Result } from '../../../main/api/contract.ts'
import { useClient, useEvent, useQuery } from '../api/hooks.ts'
import { EmptyState, PageHeader } from '../components/EmptyState.tsx'
import { MetricChart } from '../components/MetricChart.tsx'
import { Projector } from '../projector/Projector.tsx'

function TrainForm({ onStarted }: { onStarted: (name: string) => void }) {
  const { t } = useTranslation()
  const client = useClient()
  const corpora = useQuery('corpus.list', {})
  const [form, setForm] = useState({ name: 'w2v-1', corpus: '', architecture: 'skipgram' as 'skipgram' | 'cbow', objective: 'negative' as 'negative' | 'hs', dim: 100, window: 5, epochs: 5, minCount: 5, side: 'joint' as 'src' | 'tgt' | 'joint' })
  const [error, setError] = useState<string | null>(null)
  const corpus = form.corpus || corpora.data?.[0]?.name || ''
  // A parallel corpus has two languages: learn from one side or both (dialogue turns are one language).
  const parallel = corpora.data?.find((c) => c.name === corpus)?.kind === 'parallel'
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    try {
      await client.call('w2v.train', {
        name: form.name,
        corpus,
        architecture: form.architecture,
        hs: form.objective === 'hs',
        negative: form.objective === 'hs' ? 0 : 5,
        dim: form.dim,
        window: form.window,
        epochs: form.epochs,
        minCount: form.minCount,
        side: parallel ? form.side : 'joint',
      })
      onStarted(form.name)
    } catch (caught) {
      setError((caught as Error).message)
    }
  }
  const number = (key: 'dim' | 'window' | 'epochs' | 'minCount', label: string, min: number) => (
    <label>
      {label}
      <input type="number" min={min} value={form[key]} onChange={(e) => setForm({ ...form, [key]: Number(e.target.value) })} style={{ width: '5rem' }} data-testid={`w2v-${key}`} />
    </label>
  )
  return (
    <form className="panel import-form" onSubmit={(e) => void submit(e)} aria-label={t('embeddings.train')}>
      <label>
        {t('embeddings.name')}
        <input value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} required data-testid="w2v-name" />
      </label>
      <label>
        {t('embeddings.corpus')}
        <select value={corpus} onChange={(e) => setForm({ ...form, corpus: e.target.value })} data-testid="w2v-corpus">
          {corpora.data?.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      {parallel && (
        <label>
          {t('tokenizers.train.side')}
          <select value={form.side} onChange={(e) => setForm({ ...form, side: e.target.value as 'src' | 'tgt' | 'joint' })} data-testid="w2v-side">
            <option value="joint">{t('tokenizers.train.sides.joint')}</option>
            <option value="src">{t('tokenizers.train.sides.src')}</option>
            <option value="tgt">{t('tokenizers.train.sides.tgt')}</option>
          </select>
        </label>
      )}
      <label>
        {t('embeddings.architecture')}
        <select value={form.architecture} onChange={(e) => setForm({ ...form, architecture: e.target.value as 'skipgram' | 'cbow' })}>
          <option value="skipgram">skip-gram</option>
          <option value="cbow">CBOW</option>
        </select>
      </label>
      <label>
        {t('embeddings.objective')}
        <select value={form.objective} onChange={(e) => setForm({ ...form, objective: e.target.value as 'negative' | 'hs' })}>
          <option value="negative">{t('embeddings.negative')}</option>
          <option value="hs">{t('embeddings.hs')}</option>
        </select>
      </label>
      {number('dim', t('embeddings.dim'), 2)}
      {number('window', t('embeddings.window'), 1)}
      {number('epochs', t('embeddings.epochs'), 1)}
      {number('minCount', t('embeddings.minCount'), 1)}
      <button type="submit" disabled={!corpus} data-testid="w2v-train">
        {t('embeddings.train')}
      </button>
      {error && <p className="error">{error}</p>}
    </form>
  )
}

function Queries({ name, epoch }: { name: string; epoch: number }) {
  const { t } = useTranslation()
  const client = useClient()
  const [words, setWords] = useState({ a: '', b: '', c: '' })
  const [answers, setAnswers] = useState<Result<'w2v.analogy'>['answers'] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    try {
      setAnswers((await client.call('w2v.analogy', { name, epoch, a: words.a.trim(), b: words.b.trim(), c: words.c.trim(), k: 5 })).answers)
    } catch (caught) {
      setAnswers(null)
      setError((caught as Error).message)
    }
  }
  return (
    <form className="tools" onSubmit={(e) => void submit(e)} aria-label={t('embeddings.analogy')}>
      {(['a', 'b', 'c'] as const).map((key, i) => (
        <label key={key}>
          {[t('embeddings.analogyA'), t('embeddings.analogyB'), t('embeddings.analogyC')][i]}
          <input value={words[key]} onChange={(e) => setWords({ ...words, [key]: e.target.value })} style={{ width: '8rem' }} required />
        </label>
      ))}
      <button type="submit">{t('embeddings.analogy')}</button>
      {answers && <span data-testid="analogy-answers">{answers.map((a) => `${a.word} (${a.similarity.toFixed(2)})`).join(', ')}</span>}
      {error && <span className="error">{error}</span>}
    </form>
  )
}

export function EmbeddingsPage() {
  const { t } = useTranslation()
  const list = useQuery('w2v.list', {})
  const [chosen, setChosen] = useState<string | null>(null)
  const name = chosen ?? list.data?.[0]?.name ?? ''
  const detail = useQuery('w2v.show', { name }, name, name !== '')
  useEvent('w2v.changed', () => {
    list.reload()
    detail.reload()
  })
  const run = detail.data
  const log = run?.epochLog ?? []
  const series = (key: 'loss' | 'analogy' | 'spearman' | 'wordsPerSecond') => log.flatMap((e) => (e[key] === null ? [] : [{ step: e.epoch, value: e[key]! }]))
  return (
    <>
      <PageHeader title={t('embeddings.title')} intro={t('embeddings.intro')} />
      <TrainForm onStarted={(started) => setChosen(started)} />
      {list.data && list.data.length === 0 ? (
        <EmptyState message={t('embeddings.empty')} />
      ) : (
        <div className="panel">
          <table data-testid="w2v-list">
            <thead>
              <tr>
                <th>{t('embeddings.name')}</th>
                <th>{t('embeddings.method')}</th>
                <th>{t('embeddings.status')}</th>
                <th className="num">{t('embeddings.epochs')}</th>
                <th className="num">{t('embeddings.words')}</th>
                <th className="num">{t('embeddings.dim')}</th>
              </tr>
            </thead>
            <tbody>
              {list.data?.map((e) => (
                <tr key={e.name} aria-selected={e.name === name}>
                  <td>
                    <button type="button" className="link" onClick={() => setChosen(e.name)}>
                      {e.name}
                    </button>
                  </td>
                  <td>{e.method}</td>
                  <td>{e.status}</td>
                  <td className="num">{e.source === 'trained' ? `${e.epoch}/${e.epochs}` : '–'}</td>
                  <td className="num">{e.vocab.toLocaleString()}</td>
                  <td className="num">{e.dim}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {run && (
        <section className="panel" aria-label={run.name} data-testid="w2v-detail">
          <h3>
            {run.name} <span className="muted">— {run.method}{run.corpus ? ` · ${run.corpus}` : ''} · {run.status}</span>
          </h3>
          {run.error && <p className="error">{run.error}</p>}
          {log.length > 0 && (
            <div className="charts">
              <MetricChart title={t('embeddings.lossChart')} series={[{ label: 'train/loss', points: series('loss'), color: '#1f77b4' }]} height={160} xLabel={t('embeddings.epochAxis')} />
              <MetricChart
                title={t('embeddings.evalChart')}
                series={[
                  { label: 'analogy %', points: series('analogy'), color: '#d62728' },
                  { label: 'spearman ×100', points: series('spearman').map((p) => ({ ...p, value: 100 * p.value })), color: '#2ca02c', dashed: true },
                ]}
                height={160}
                xLabel={t('embeddings.epochAxis')}
              />
            </div>
          )}
          {log.length > 0 && (
            <p className="muted mono" data-testid="w2v-epochs">
              {log.map((e) => `${t('embeddings.epoch', { epoch: e.epoch })}: loss ${e.loss?.toFixed(3) ?? '–'}, ${Math.round(e.wordsPerSecond ?? 0).toLocaleString()} ${t('embeddings.wordsPerSecond')}`).join(' · ')}
            </p>
          )}
          {run.storedEpochs.length > 0 && <Queries name={run.name} epoch={run.storedEpochs.at(-1)!} />}
          {run.storedEpochs.length > 0 ? <Projector name={run.name} epochs={run.storedEpochs} /> : <p className="muted">{t('embeddings.waiting')}</p>}
        </section>
      )}
    </>
  )
}
