import { useEffect, useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { TokenizerSummary } from '../../../main/api/contract.ts'
import { useClient, useEvent, useQuery } from '../api/hooks.ts'
import { EmptyState, PageHeader } from '../components/EmptyState.tsx'
import { Pager } from '../components/Pager.tsx'
import { useEngineText } from '../i18n/engine-text.ts'

const vocabPage = 50

/** Typed text shown as its pieces, each a coloured chip with its id. */
function Preview({ tokenizer }: { tokenizer: TokenizerSummary }) {
  const { t } = useTranslation()
  const client = useClient()
  const [text, setText] = useState('In the beginning, God created the heavens and the earth.')
  const [encoded, setEncoded] = useState<{ pieces: string[]; ids: number[] } | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let live = true
    const timer = setTimeout(() => {
      client.call('tokenizer.encode', { name: tokenizer.name, lines: [text] }).then(
        (result) => live && (setEncoded({ pieces: result.pieces[0] ?? [], ids: result.ids[0] ?? [] }), setError(null)),
        (caught: unknown) => live && setError((caught as Error).message),
      )
    }, 150)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [client, tokenizer.name, text])
  return (
    <section className="panel" aria-labelledby="preview-title">
      <h2 id="preview-title">{t('tokenizers.preview.title', { name: tokenizer.name })}</h2>
      <textarea value={text} onChange={(e) => setText(e.target.value)} rows={3} className="preview-input" data-testid="tokenizer-input" aria-label={t('tokenizers.preview.input')} />
      {error && <p className="error">{error}</p>}
      {encoded && (
        <>
          <p className="muted">{t('tokenizers.preview.count', { count: encoded.pieces.length })}</p>
          <div className="pieces" data-testid="pieces">
            {encoded.pieces.map((piece, i) => (
              <span key={i} className={`piece piece-${i % 6}`} title={`id ${encoded.ids[i]}`}>
                {piece}
                <sub>{encoded.ids[i]}</sub>
              </span>
            ))}
          </div>
        </>
      )}
    </section>
  )
}

/** How the tokenizer fits a corpus: pieces per sentence, unknown rate, coverage. */
function Stats({ tokenizer }: { tokenizer: TokenizerSummary }) {
  const { t } = useTranslation()
  const corpora = useQuery('corpus.list', {})
  const [corpus, setCorpus] = useState('')
  const stats = useQuery('tokenizer.stats', corpus ? { name: tokenizer.name, corpus } : { name: tokenizer.name }, `${tokenizer.name}:${corpus}`)
  const percent = (value: number) => `${(100 * value).toFixed(2)} %`
  return (
    <section className="panel" aria-labelledby="stats-title">
      <div className="panel-head">
        <h2 id="stats-title">{t('tokenizers.stats.title')}</h2>
        <label className="inline">
          {t('tokenizers.stats.corpus')}{' '}
          <select value={corpus || stats.data?.corpus || ''} onChange={(e) => setCorpus(e.target.value)}>
            {!corpus && !stats.data && <option value="">—</option>}
            {(corpora.data ?? []).map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      {stats.error && <p className="muted">{stats.error}</p>}
      {stats.data && (
        <dl className="facts" data-testid="tokenizer-stats">
          <dt>{t('tokenizers.stats.sentences')}</dt>
          <dd>{stats.data.sentences.toLocaleString()}</dd>
          <dt>{t('tokenizers.stats.piecesPerSentence')}</dt>
          <dd>{stats.data.piecesPerSentence.toFixed(2)}</dd>
          <dt>{t('tokenizers.stats.charactersPerPiece')}</dt>
          <dd>{stats.data.charactersPerPiece.toFixed(2)}</dd>
          <dt>{t('tokenizers.stats.unknownRate')}</dt>
          <dd>{percent(stats.data.unknownRate)}</dd>
          <dt>{t('tokenizers.stats.byteRate')}</dt>
          <dd>{percent(stats.data.byteRate)}</dd>
          <dt>{t('tokenizers.stats.characterCoverage')}</dt>
          <dd>{percent(stats.data.characterCoverage)}</dd>
          <dt>{t('tokenizers.stats.vocabularyUsed')}</dt>
          <dd>{percent(stats.data.vocabularyUsed)}</dd>
        </dl>
      )}
    </section>
  )
}

function Vocabulary({ tokenizer }: { tokenizer: TokenizerSummary }) {
  const { t } = useTranslation()
  const [offset, setOffset] = useState(0)
  const vocab = useQuery('tokenizer.vocab', { name: tokenizer.name, offset, limit: vocabPage }, `${tokenizer.name}:${offset}`)
  const total = vocab.data?.total ?? tokenizer.vocabSize
  return (
    <section className="panel" aria-labelledby="vocab-title">
      <h2 id="vocab-title">{t('tokenizers.vocab.title')}</h2>
      <table className="data" data-testid="vocab-table">
        <thead>
          <tr>
            <th className="num">{t('tokenizers.vocab.id')}</th>
            <th>{t('tokenizers.vocab.piece')}</th>
            <th className="num">{t('tokenizers.vocab.score')}</th>
            <th>{t('tokenizers.vocab.type')}</th>
          </tr>
        </thead>
        <tbody>
          {(vocab.data?.pieces ?? []).map((piece) => (
            <tr key={piece.id}>
              <td className="num">{piece.id}</td>
              <td className="mono">{piece.piece}</td>
              <td className="num">{piece.score.toFixed(4)}</td>
              <td>{piece.type}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager offset={offset} pageSize={vocabPage} total={total} onOffset={setOffset} />
    </section>
  )
}

function TrainTokenizer() {
  const { t } = useTranslation()
  const client = useClient()
  const corpora = useQuery('corpus.list', {})
  const [corpus, setCorpus] = useState('')
  const [name, setName] = useState('')
  const [vocabSize, setVocabSize] = useState('8000')
  const [side, setSide] = useState<'src' | 'tgt' | 'joint'>('joint')
  const [type, setType] = useState<'unigram' | 'bpe'>('unigram')
  const [userSymbols, setUserSymbols] = useState('')
  const [byteFallback, setByteFallback] = useState(false)
  const [normalization, setNormalization] = useState<'nmt_nfkc' | 'identity'>('nmt_nfkc')
  const [error, setError] = useState<string | null>(null)
  const chosen = corpus || corpora.data?.[0]?.name || ''
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    try {
      const symbols = userSymbols.split(/[\s,]+/).filter(Boolean)
      await client.call('tokenizer.train', { corpus: chosen, name: name.trim(), type, vocabSize: Number(vocabSize), side, userSymbols: symbols, byteFallback, normalization })
      setName('')
    } catch (caught) {
      setError((caught as Error).message)
    }
  }
  return (
    <form className="panel import-form" onSubmit={(event) => void submit(event)} aria-labelledby="tokenizer-train-title">
      <h2 id="tokenizer-train-title">{t('tokenizers.train.title')}</h2>
      <label>
        {t('tokenizers.train.corpus')}
        <select value={chosen} onChange={(e) => setCorpus(e.target.value)} name="corpus">
          {(corpora.data ?? []).map((c) => (
            <option key={c.id} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('tokenizers.train.name')}
        <input required value={name} onChange={(e) => setName(e.target.value)} name="tokenizer-name" />
      </label>
      <label>
        {t('tokenizers.train.type')}
        <select value={type} onChange={(e) => setType(e.target.value as 'unigram' | 'bpe')} name="type">
          <option value="unigram">{t('tokenizers.train.types.unigram')}</option>
          <option value="bpe">{t('tokenizers.train.types.bpe')}</option>
        </select>
      </label>
      <label>
        {t('tokenizers.train.vocabSize')}
        <input required value={vocabSize} onChange={(e) => setVocabSize(e.target.value)} size={6} inputMode="numeric" name="vocab-size" />
      </label>
      <label>
        {t('tokenizers.train.side')}
        <select value={side} onChange={(e) => setSide(e.target.value as 'src' | 'tgt' | 'joint')} name="side">
          <option value="joint">{t('tokenizers.train.sides.joint')}</option>
          <option value="src">{t('tokenizers.train.sides.src')}</option>
          <option value="tgt">{t('tokenizers.train.sides.tgt')}</option>
        </select>
      </label>
      <label>
        {t('tokenizers.train.userSymbols')}
        <input value={userSymbols} onChange={(e) => setUserSymbols(e.target.value)} name="user-symbols" placeholder="<sep> <2es>" />
      </label>
      <label className="check">
        <input type="checkbox" checked={byteFallback} onChange={(e) => setByteFallback(e.target.checked)} name="byte-fallback" />
        {t('tokenizers.train.byteFallback')}
      </label>
      <label>
        {t('tokenizers.train.normalization')}
        <select value={normalization} onChange={(e) => setNormalization(e.target.value as 'nmt_nfkc' | 'identity')} name="normalization">
          <option value="nmt_nfkc">{t('tokenizers.train.normalizations.nmt_nfkc')}</option>
          <option value="identity">{t('tokenizers.train.normalizations.identity')}</option>
        </select>
      </label>
      <button type="submit">{t('tokenizers.train.submit')}</button>
      <p className="muted">{t('tokenizers.train.note')}</p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

function ImportTokenizer({ onImported }: { onImported: (name: string) => void }) {
  const { t } = useTranslation()
  const client = useClient()
  const [file, setFile] = useState('')
  const [name, setName] = useState('')
  const [error, setError] = useState<string | null>(null)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setError(null)
    try {
      const summary = await client.call('tokenizer.import', { name: name.trim(), file: file.trim() })
      setFile('')
      setName('')
      onImported(summary.name)
    } catch (caught) {
      setError((caught as Error).message)
    }
  }
  return (
    <form className="panel import-form" onSubmit={(event) => void submit(event)} aria-labelledby="tokenizer-import-title">
      <h2 id="tokenizer-import-title">{t('tokenizers.import.title')}</h2>
      <label>
        {t('tokenizers.import.file')}
        <input required value={file} onChange={(e) => setFile(e.target.value)} placeholder="/home/me/spm.model" name="file" />
      </label>
      <label>
        {t('tokenizers.import.name')}
        <input required value={name} onChange={(e) => setName(e.target.value)} name="name" />
      </label>
      <button type="submit">{t('tokenizers.import.submit')}</button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}

export function TokenizersPage() {
  const { t } = useTranslation()
  const engineText = useEngineText()
  const tokenizers = useQuery('tokenizer.list', {})
  const [selected, setSelected] = useState<string | null>(null)
  useEvent('job.progress', (job) => {
    if (job.kind === 'tokenizer.train' && job.status === 'done') tokenizers.reload()
  })
  const current = tokenizers.data?.find((tok) => tok.name === selected) ?? tokenizers.data?.[0] ?? null
  return (
    <>
      <PageHeader title={t('tokenizers.title')} intro={t('tokenizers.intro')} />
      {tokenizers.error && <p className="error">{t('common.error', { message: tokenizers.error })}</p>}
      {tokenizers.data && tokenizers.data.length === 0 && <EmptyState message={t('tokenizers.empty')} />}
      {tokenizers.data && tokenizers.data.length > 0 && (
        <table className="data" data-testid="tokenizers-table">
          <thead>
            <tr>
              <th>{t('tokenizers.columns.name')}</th>
              <th>{t('tokenizers.columns.type')}</th>
              <th className="num">{t('tokenizers.columns.vocab')}</th>
              <th>{t('tokenizers.columns.normalization')}</th>
              <th>{t('tokenizers.columns.source')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokenizers.data.map((tok) => (
              <tr key={tok.id} aria-selected={tok.name === current?.name}>
                <td>{tok.name}</td>
                <td>{tok.type}</td>
                <td className="num">{tok.vocabSize.toLocaleString()}</td>
                <td>{tok.normalization}</td>
                <td className="muted">{engineText(tok.sourceText, tok.source)}</td>
                <td>
                  <button type="button" onClick={() => setSelected(tok.name)}>
                    {t('tokenizers.open')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {current && <Preview tokenizer={current} />}
      {current && <Stats key={current.name} tokenizer={current} />}
      {current && <Vocabulary tokenizer={current} />}
      <TrainTokenizer />
      <ImportTokenizer
        onImported={(name) => {
          tokenizers.reload()
          setSelected(name)
        }}
      />
    </>
  )
}
