import { useEffect, useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import { CorpusFormat, type CorpusSummary } from '../../../main/api/contract.ts'
import { useClient, useEvent, useQuery } from '../api/hooks.ts'
import { EmptyState, PageHeader } from '../components/EmptyState.tsx'
import { Pager } from '../components/Pager.tsx'
import { useEngineText } from '../i18n/engine-text.ts'
import { LengthHistogram } from '../components/LengthHistogram.tsx'

const pageSize = 25

function CorpusRows({ corpus, onClose }: { corpus: CorpusSummary; onClose: () => void }) {
  const { t } = useTranslation()
  const [offset, setOffset] = useState(0)
  const [query, setQuery] = useState('')
  const [search, setSearch] = useState('')
  useEffect(() => {
    const timer = setTimeout(() => {
      setSearch(query.trim())
      setOffset(0)
    }, 250)
    return () => clearTimeout(timer)
  }, [query])
  const browse = useQuery('corpus.rows', { name: corpus.name, offset, limit: pageSize }, `${corpus.name}:${offset}`, search === '')
  const found = useQuery('corpus.search', { name: corpus.name, query: search || ' ', offset, limit: pageSize }, `${corpus.name}:${search}:${offset}`, search !== '')
  const rows = search ? found : browse
  useEvent('corpus.changed', ({ name }) => {
    if (name === corpus.name) rows.reload()
  })
  const total = rows.data?.total ?? corpus.rows
  return (
    <section className="panel" aria-labelledby="rows-title">
      <div className="panel-head">
        <h2 id="rows-title">{t('corpora.rows.title', { name: corpus.name })}</h2>
        <button type="button" onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
      <CorpusOverview corpus={corpus} />
      <CorpusTools corpus={corpus} />
      <label className="search">
        {t('corpora.rows.search')}
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t('corpora.rows.searchHint')} data-testid="corpus-search" />
      </label>
      {search && rows.data && <p className="muted">{t('corpora.rows.matches', { count: rows.data.total })}</p>}
      {rows.error && <p className="error">{t('common.error', { message: rows.error })}</p>}
      <table className="data rows-table">
        <thead>
          <tr>
            <th>#</th>
            <th>{t('corpora.rows.group')}</th>
            <th>{t('corpora.rows.split')}</th>
            {corpus.kind === 'dialogue' ? (
              <th>{t('corpora.rows.turns')}</th>
            ) : (
              <>
                <th>{t('corpora.rows.src')}</th>
                {corpus.kind === 'parallel' && <th>{t('corpora.rows.tgt')}</th>}
              </>
            )}
          </tr>
        </thead>
        <tbody>
          {(rows.data?.rows ?? []).map((row) => (
            <tr key={row.index}>
              <td className="num">{row.index + 1}</td>
              <td>{row.group ?? ''}</td>
              <td>{row.split ?? ''}</td>
              {corpus.kind === 'dialogue' ? (
                <td>
                  <ol className="turns">
                    {(row.turns ?? []).map((turn, i) => (
                      <li key={i}>{turn}</li>
                    ))}
                  </ol>
                </td>
              ) : (
                <>
                  <td lang={corpus.srcLang ?? undefined}>{row.src}</td>
                  {corpus.kind === 'parallel' && <td lang={corpus.tgtLang ?? undefined}>{row.tgt}</td>}
                </>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      <Pager offset={offset} pageSize={pageSize} total={total} onOffset={setOffset} />
    </section>
  )
}

function CorpusOverview({ corpus }: { corpus: CorpusSummary }) {
  const { t } = useTranslation()
  const stats = useQuery('corpus.stats', { name: corpus.name }, corpus.name)
  useEvent('corpus.changed', ({ name }) => {
    if (name === corpus.name) stats.reload()
  })
  if (!stats.data) return null
  return (
    <div className="overview">
      {stats.data.sides.map((side) => (
        <LengthHistogram key={side.side} side={side} label={t('corpora.stats.histogram', { side: t(`corpora.stats.side.${side.side}`), mean: side.mean.toFixed(1), max: side.max })} />
      ))}
      <p className="muted">{stats.data.splits.map((s) => t('corpora.stats.split', { split: s.split === 'none' ? t('corpora.stats.unsplit') : s.split, rows: s.rows.toLocaleString() })).join(' · ')}</p>
    </div>
  )
}

function CorpusTools({ corpus }: { corpus: CorpusSummary }) {
  const { t } = useTranslation()
  const client = useClient()
  const [dev, setDev] = useState('0.05')
  const [test, setTest] = useState('0.05')
  const [seed, setSeed] = useState('1')
  const [byGroup, setByGroup] = useState(false)
  const [maxRatio, setMaxRatio] = useState('')
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null)
  const run = async (action: () => Promise<string>) => {
    setMessage(null)
    try {
      setMessage({ text: await action(), error: false })
    } catch (caught) {
      setMessage({ text: (caught as Error).message, error: true })
    }
  }
  const split = () =>
    run(async () => {
      const result = await client.call('corpus.split', { name: corpus.name, dev: Number(dev), test: Number(test), seed: Number(seed), by: byGroup ? 'group' : 'random' })
      return t('corpora.tools.splitDone', { train: result.train, dev: result.dev, test: result.test })
    })
  const clean = () =>
    run(async () => {
      await client.call('corpus.clean', { name: corpus.name, ...(maxRatio ? { maxRatio: Number(maxRatio) } : {}) })
      return t('corpora.tools.cleanStarted')
    })
  return (
    <div className="tools">
      <fieldset>
        <legend>{t('corpora.tools.split')}</legend>
        <label>
          {t('corpora.tools.dev')}
          <input value={dev} onChange={(e) => setDev(e.target.value)} size={6} inputMode="decimal" />
        </label>
        <label>
          {t('corpora.tools.test')}
          <input value={test} onChange={(e) => setTest(e.target.value)} size={6} inputMode="decimal" />
        </label>
        <label>
          {t('corpora.tools.seed')}
          <input value={seed} onChange={(e) => setSeed(e.target.value)} size={4} inputMode="numeric" />
        </label>
        <label className="inline">
          <input type="checkbox" checked={byGroup} onChange={(e) => setByGroup(e.target.checked)} data-testid="split-by-group" />
          {t('corpora.tools.byGroup')}
        </label>
        <button type="button" onClick={() => void split()} data-testid="split-button">
          {t('corpora.tools.splitButton')}
        </button>
      </fieldset>
      <fieldset>
        <legend>{t('corpora.tools.clean')}</legend>
        <label>
          {t('corpora.tools.maxRatio')}
          <input value={maxRatio} onChange={(e) => setMaxRatio(e.target.value)} size={4} inputMode="decimal" placeholder="3" />
        </label>
        <button type="button" onClick={() => void clean()}>
          {t('corpora.tools.cleanButton')}
        </button>
      </fieldset>
      {message && (
        <p className={message.error ? 'error' : 'muted'} role={message.error ? 'alert' : 'status'} data-testid="tools-message">
          {message.text}
        </p>
      )}
    </div>
  )
}

function ImportForm() {
  const { t } = useTranslation()
  const client = useClient()
  const [file, setFile] = useState('')
  const [pairFile, setPairFile] = useState('')
  const [name, setName] = useState('')
  const [format, setFormat] = useState<CorpusFormat | ''>('')
  const [srcLang, setSrcLang] = useState('')
  const [tgtLang, setTgtLang] = useState('')
  const [error, setError] = useState<string | null>(null)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    try {
      await client.call('corpus.import', {
        name: name.trim(),
        files: pairFile.trim() ? [file.trim(), pairFile.trim()] : [file.trim()],
        ...(format ? { format } : {}),
        ...(srcLang ? { srcLang } : {}),
        ...(tgtLang ? { tgtLang } : {}),
      })
      setName('')
      setFile('')
      setPairFile('')
    } catch (caught) {
      setError((caught as Error).message)
    }
  }
  return (
    <form className="panel import-form" onSubmit={(event) => void submit(event)} aria-labelledby="import-title">
      <h2 id="import-title">{t('corpora.import.title')}</h2>
      <label>
        {t('corpora.import.file')}
        <input required value={file} onChange={(e) => setFile(e.target.value)} placeholder="/home/me/data/train.tsv" name="file" />
      </label>
      <label>
        {t('corpora.import.pairFile')}
        <input value={pairFile} onChange={(e) => setPairFile(e.target.value)} placeholder="/home/me/data/train.es" name="pairFile" />
      </label>
      <label>
        {t('corpora.import.name')}
        <input required value={name} onChange={(e) => setName(e.target.value)} name="name" />
      </label>
      <label>
        {t('corpora.import.format')}
        <select value={format} onChange={(e) => setFormat(e.target.value as CorpusFormat | '')} name="format">
          <option value="">{t('corpora.import.auto')}</option>
          {CorpusFormat.options.map((option) => (
            <option key={option} value={option}>
              {t(`corpora.format.${option}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('corpora.import.src')}
        <input value={srcLang} onChange={(e) => setSrcLang(e.target.value)} size={6} placeholder="en" name="src" />
      </label>
      <label>
        {t('corpora.import.tgt')}
        <input value={tgtLang} onChange={(e) => setTgtLang(e.target.value)} size={6} placeholder="es" name="tgt" />
      </label>
      <button type="submit">{t('corpora.import.submit')}</button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

export function CorporaPage() {
  const { t } = useTranslation()
  const engineText = useEngineText()
  const client = useClient()
  const corpora = useQuery('corpus.list', {})
  const [open, setOpen] = useState<CorpusSummary | null>(null)
  useEvent('corpus.changed', () => corpora.reload())
  const remove = async (corpus: CorpusSummary) => {
    if (!window.confirm(t('corpora.confirmDelete', { name: corpus.name }))) return
    await client.call('corpus.delete', { name: corpus.name })
    if (open?.name === corpus.name) setOpen(null)
  }
  return (
    <>
      <PageHeader title={t('corpora.title')} intro={t('corpora.intro')} />
      {corpora.error && <p className="error">{t('common.error', { message: corpora.error })}</p>}
      {corpora.data && corpora.data.length === 0 && <EmptyState message={t('corpora.empty')} />}
      {corpora.data && corpora.data.length > 0 && (
        <table className="data" data-testid="corpora-table">
          <thead>
            <tr>
              <th>{t('corpora.columns.name')}</th>
              <th>{t('corpora.columns.kind')}</th>
              <th>{t('corpora.columns.languages')}</th>
              <th className="num">{t('corpora.columns.rows')}</th>
              <th>{t('corpora.columns.source')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {corpora.data.map((corpus) => (
              <tr key={corpus.id}>
                <td>{corpus.name}</td>
                <td>{t(`corpora.kind.${corpus.kind}`)}</td>
                <td>{[corpus.srcLang, corpus.tgtLang].filter(Boolean).join(' → ')}</td>
                <td className="num">{corpus.rows.toLocaleString()}</td>
                <td className="muted">{engineText(corpus.sourceText, corpus.source)}</td>
                <td className="actions">
                  <button type="button" onClick={() => setOpen(corpus)}>
                    {t('corpora.browse')}
                  </button>
                  <button type="button" onClick={() => void remove(corpus)}>
                    {t('corpora.delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && <CorpusRows corpus={open} onClose={() => setOpen(null)} />}
      <ImportForm />
    </>
  )
}
