// The embedding projector: PCA, t-SNE or UMAP of a stored embedding set in 2-D or 3-D (in a worker, with
// progress), coloured by frequency, k-means cluster or a metadata column (e.g. part of speech, with a legend);
// regex search; pick a word to see and highlight its nearest neighbours (cosine, in the full space) and isolate
// them; a time axis over stored epochs with every projection rotated onto the latest by orthogonal Procrustes, and
// the picked word's neighbours epoch by epoch; bookmarks; CSV export of the coordinates.
import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react'
import { useTranslation } from 'react-i18next'
import type { Result } from '../../../main/api/contract.ts'
import { alignTo } from '../../../models/projection/procrustes.ts'
import { useClient } from '../api/hooks.ts'
import { download } from '../components/AttentionHeatmap.tsx'
import { categoryColour, distinctCategoryColours, ScatterPlot, type ScatterPoints } from '../components/ScatterPlot.tsx'
import type { ProjectionMethod } from './protocol.ts'
import { useProjection } from './useProjection.ts'

/** label:COLUMN colours by a metadata column of an imported set. */
type ColourBy = 'frequency' | 'cluster' | 'none' | `label:${string}`

/** A metadata column as colour categories: the most common values each get a colour, the rest share grey (−1). */
function categoriesOf(values: readonly string[]): { categories: Int32Array; legend: { value: string; count: number; category: number }[] } {
  const counts = new Map<string, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
  const named = ranked.length > distinctCategoryColours ? distinctCategoryColours - 1 : ranked.length
  const categoryOf = new Map(ranked.slice(0, named).map(([value], i) => [value, i]))
  const legend = ranked.slice(0, named).map(([value, count], category) => ({ value, count, category }))
  const rest = ranked.slice(named).reduce((sum, [, count]) => sum + count, 0)
  if (rest > 0) legend.push({ value: `(${ranked.length - named} others)`, count: rest, category: -1 })
  return { categories: Int32Array.from(values, (v) => categoryOf.get(v) ?? -1), legend }
}

interface Bookmark {
  label: string
  method: ProjectionMethod
  dims: 2 | 3
  limit: number
  epoch: number
  search: string
  word: string | null
  isolate: boolean
}

interface Projection {
  key: string
  method: ProjectionMethod
  epoch: number
  words: string[]
  counts: number[] | null
  labels: Record<string, string[]>
  dims: 2 | 3
  coords: Float32Array
  clusters: Int32Array | null
  seconds: number
}

const bookmarkKey = (name: string) => `kotoba.projector.bookmarks.${name}`

function decodeRows(base64: string): Float32Array {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
  return new Float32Array(bytes.buffer)
}

/** Centres a projection on its mean and scales it so the farthest point sits at 0.95 (the plot shows [−1, 1]). */
function normalise(coords: Float32Array, dims: number): Float32Array {
  const n = coords.length / dims
  const mean = new Array<number>(dims).fill(0)
  for (let i = 0; i < n; i++) for (let k = 0; k < dims; k++) mean[k]! += coords[i * dims + k]! / n
  let extent = 1e-9
  for (let i = 0; i < n; i++) for (let k = 0; k < dims; k++) extent = Math.max(extent, Math.abs(coords[i * dims + k]! - mean[k]!))
  return coords.map((v, at) => (0.95 * (v - mean[at % dims]!)) / extent)
}

/** A number input's value within [min, max], or the fallback while it is not a number. */
function clampInput(value: string, min: number, max: number, fallback: number): number {
  const number = Math.round(Number(value))
  return Number.isFinite(number) && value !== '' ? Math.min(max, Math.max(min, number)) : fallback
}

export function Projector({ name, epochs }: { name: string; epochs: readonly number[] }) {
  const { t } = useTranslation()
  const client = useClient()
  const { project, progress, cancel } = useProjection()
  // The method and its settings stay as they are while a projection runs, so the picture always matches the controls.
  const running = progress !== null
  const [method, setMethod] = useState<ProjectionMethod>('pca')
  const [dims, setDims] = useState<2 | 3>(2)
  // As the TensorBoard projector: perplexity and iterations for t-SNE, neighbours for UMAP.
  const [perplexity, setPerplexity] = useState(30)
  const [iterations, setIterations] = useState(500)
  const [umapNeighbours, setUmapNeighbours] = useState(15)
  const [limit, setLimit] = useState(5000)
  const [colourBy, setColourBy] = useState<ColourBy>('frequency')
  const [labelColumns, setLabelColumns] = useState<string[]>([])
  const [epochIndex, setEpochIndex] = useState(Math.max(0, epochs.length - 1))
  const [align, setAlign] = useState(true)
  const [search, setSearch] = useState('')
  const [word, setWord] = useState<string | null>(null)
  const [neighbours, setNeighbours] = useState<Result<'w2v.neighbors'>['neighbours']>([])
  const [history, setHistory] = useState<{ epoch: number; words: string[] }[]>([])
  const [isolate, setIsolate] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [bookmarks, setBookmarks] = useState<Bookmark[]>(() => JSON.parse(localStorage.getItem(bookmarkKey(name)) ?? '[]') as Bookmark[])
  const cache = useRef(new Map<string, Projection>())
  const [projection, setProjection] = useState<Projection | null>(null)
  // The slider follows new epochs as training goes on, until it is moved back in time.
  const [followLatest, setFollowLatest] = useState(true)
  const shownIndex = followLatest ? epochs.length - 1 : Math.min(epochIndex, epochs.length - 1)
  const epoch = epochs[shownIndex] ?? 0

  useEffect(() => {
    cache.current.clear()
    setProjection(null)
    setWord(null)
    setEpochIndex(Math.max(0, epochs.length - 1))
    setFollowLatest(true)
    setBookmarks(JSON.parse(localStorage.getItem(bookmarkKey(name)) ?? '[]') as Bookmark[])
    // The set's metadata columns (e.g. part of speech), offered as colourings before anything is projected.
    setLabelColumns([])
    setColourBy((current) => (current.startsWith('label:') ? 'frequency' : current))
    let live = true
    client.call('w2v.vectors', { name, limit: 1 }).then(
      (first) => live && setLabelColumns(Object.keys(first.labels)),
      () => {},
    )
    return () => {
      live = false
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [name])

  const projectEpoch = async (at: number): Promise<Projection> => {
    const settings = method === 'tsne' ? `${perplexity}|${iterations}` : method === 'umap' ? `${umapNeighbours}` : ''
    const key = `${method}|${dims}|${limit}|${at}|${colourBy === 'cluster'}|${settings}`
    const hit = cache.current.get(key)
    if (hit) return hit
    const vectors = await client.call('w2v.vectors', { name, epoch: at, limit })
    const output = await project({ method, dims, rows: decodeRows(vectors.vectors), n: vectors.words.length, d: vectors.dim, seed: 1, perplexity, iterations, neighbours: umapNeighbours, clusters: colourBy === 'cluster' ? 12 : 0 })
    const result: Projection = { key, method, epoch: at, words: vectors.words, counts: vectors.counts, labels: vectors.labels, dims, coords: output.coords, clusters: output.clusters, seconds: output.seconds }
    cache.current.set(key, result)
    return result
  }

  const run = async (at = epoch) => {
    setError(null)
    try {
      let shown = await projectEpoch(at)
      // The time axis: every epoch's layout rotated onto the latest epoch's, so words move only as they change.
      const latest = epochs.at(-1)
      if (align && latest !== undefined && at !== latest) {
        const reference = await projectEpoch(latest)
        const n = Math.min(reference.words.length, shown.words.length)
        if (n > 2) shown = { ...shown, coords: alignTo(shown.coords.subarray(0, n * dims), reference.coords.subarray(0, n * dims), dims) }
      }
      setProjection(shown)
    } catch (caught) {
      if ((caught as Error).message !== 'cancelled') setError((caught as Error).message)
    }
  }

  const labelled = useMemo(() => {
    const values = colourBy.startsWith('label:') ? projection?.labels[colourBy.slice('label:'.length)] : undefined
    return values ? categoriesOf(values) : null
  }, [projection, colourBy])

  const points: ScatterPoints | null = useMemo(() => {
    if (!projection) return null
    const n = projection.words.length
    let colour: ScatterPoints['colour'] = null
    if (colourBy === 'cluster' && projection.clusters) colour = { kind: 'category', values: projection.clusters }
    if (labelled) colour = { kind: 'category', values: labelled.categories }
    if (colourBy === 'frequency' && projection.counts) {
      // Frequency rank on a log scale: the most frequent words bright, the rare ones dark.
      const values = new Float32Array(n)
      for (let i = 0; i < n; i++) values[i] = 1 - Math.log(i + 1) / Math.log(n + 1)
      colour = { kind: 'value', values }
    }
    return { coords: normalise(projection.coords, projection.dims), dims: projection.dims, colour }
  }, [projection, colourBy, labelled])

  const index = useMemo(() => new Map(projection?.words.map((w, i) => [w, i]) ?? []), [projection])
  // The search pattern compiled once: the matching points, or why it is not a regular expression.
  const { matches, searchError } = useMemo((): { matches: number[]; searchError: string | null } => {
    let pattern: RegExp
    try {
      pattern = new RegExp(search, 'iu')
    } catch (caught) {
      return { matches: [], searchError: (caught as Error).message }
    }
    if (!projection || search.trim() === '') return { matches: [], searchError: null }
    return { matches: projection.words.flatMap((w, i) => (pattern.test(w) ? [i] : [])).slice(0, 2000), searchError: null }
  }, [projection, search])

  const pickWord = async (chosen: string | null) => {
    setWord(chosen)
    setIsolate(false)
    if (!chosen) {
      setNeighbours([])
      setHistory([])
      return
    }
    try {
      const near = await client.call('w2v.neighbors', { name, word: chosen, k: 10, epoch })
      setNeighbours(near.neighbours)
      const over = await Promise.all(epochs.map(async (e) => ({ epoch: e, words: (await client.call('w2v.neighbors', { name, word: chosen, k: 5, epoch: e })).neighbours.map((n) => n.word) })))
      setHistory(over)
    } catch (caught) {
      setError((caught as Error).message)
    }
  }

  const selected = word === null ? undefined : index.get(word)
  const neighbourhood = selected === undefined ? [] : [selected, ...neighbours.flatMap((n) => (index.has(n.word) ? [index.get(n.word)!] : []))]
  const highlighted = neighbourhood.length > 0 ? neighbourhood : matches

  const onSearch = (event: FormEvent) => {
    event.preventDefault()
    const exact = projection?.words.find((w) => w === search.trim().toLowerCase() || w === search.trim())
    if (exact) void pickWord(exact)
    else if (matches.length === 1) void pickWord(projection!.words[matches[0]!]!)
  }

  const saveBookmark = () => {
    const label = `${method.toUpperCase()} ${dims}-D · ${t('embeddings.epoch', { epoch })}${word ? ` · ${word}` : ''}${search ? ` · /${search}/` : ''}`
    const next = [...bookmarks, { label, method, dims, limit, epoch, search, word, isolate }]
    setBookmarks(next)
    localStorage.setItem(bookmarkKey(name), JSON.stringify(next))
  }

  const openBookmark = (bookmark: Bookmark) => {
    setMethod(bookmark.method)
    setDims(bookmark.dims)
    setLimit(bookmark.limit)
    setSearch(bookmark.search)
    setEpochIndex(Math.max(0, epochs.indexOf(bookmark.epoch)))
    setFollowLatest(false)
    setPendingBookmark(bookmark)
  }
  const [pendingBookmark, setPendingBookmark] = useState<Bookmark | null>(null)
  useEffect(() => {
    if (!pendingBookmark) return
    const bookmark = pendingBookmark
    setPendingBookmark(null)
    void run(bookmark.epoch).then(async () => {
      await pickWord(bookmark.word)
      setIsolate(bookmark.isolate)
    })
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pendingBookmark])

  const exportCsv = () => {
    if (!projection) return
    const header = ['word', 'x', 'y', ...(projection.dims === 3 ? ['z'] : []), ...(projection.clusters ? ['cluster'] : []), ...(projection.counts ? ['count'] : [])]
    const rows = projection.words.map((w, i) => {
      const coords = Array.from(projection.coords.subarray(i * projection.dims, (i + 1) * projection.dims), (v) => v.toFixed(5))
      return [JSON.stringify(w), ...coords, ...(projection.clusters ? [String(projection.clusters[i])] : []), ...(projection.counts ? [String(projection.counts[i])] : [])].join(',')
    })
    download(`${name}-epoch${projection.epoch}-${projection.method}-${projection.dims}d.csv`, URL.createObjectURL(new Blob([`${header.join(',')}\n${rows.join('\n')}\n`], { type: 'text/csv' })))
  }

  return (
    <section className="panel" aria-label={t('embeddings.projector')} data-testid="projector">
      <h3>{t('embeddings.projector')}</h3>
      <div className="tools">
        <label>
          {t('embeddings.method')}
          <select value={method} onChange={(e) => setMethod(e.target.value as ProjectionMethod)} disabled={running} data-testid="projector-method">
            <option value="pca">PCA</option>
            <option value="tsne">t-SNE</option>
            <option value="umap">UMAP</option>
          </select>
        </label>
        <label>
          {t('embeddings.dims')}
          <select value={dims} onChange={(e) => setDims(Number(e.target.value) as 2 | 3)} disabled={running}>
            <option value={2}>2-D</option>
            <option value={3}>3-D</option>
          </select>
        </label>
        <label>
          {t('embeddings.points')}
          <select value={limit} onChange={(e) => setLimit(Number(e.target.value))} disabled={running} data-testid="projector-points">
            {[1000, 5000, 10_000, 20_000, 50_000, 100_000].map((n) => (
              <option key={n} value={n}>
                {n.toLocaleString()}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('embeddings.colour')}
          <select value={colourBy} onChange={(e) => setColourBy(e.target.value as ColourBy)} disabled={running} data-testid="projector-colour">
            <option value="frequency">{t('embeddings.byFrequency')}</option>
            <option value="cluster">{t('embeddings.byCluster')}</option>
            {labelColumns.map((column) => (
              <option key={column} value={`label:${column}`}>
                {column}
              </option>
            ))}
            <option value="none">{t('embeddings.noColour')}</option>
          </select>
        </label>
        {method === 'tsne' && (
          <>
            <label>
              {t('embeddings.perplexity')}
              <input type="number" min={2} max={100} value={perplexity} onChange={(e) => setPerplexity(clampInput(e.target.value, 2, 100, 30))} disabled={running} data-testid="projector-perplexity" />
            </label>
            <label>
              {t('embeddings.iterations')}
              <input type="number" min={50} max={5000} step={50} value={iterations} onChange={(e) => setIterations(clampInput(e.target.value, 50, 5000, 500))} disabled={running} data-testid="projector-iterations" />
            </label>
          </>
        )}
        {method === 'umap' && (
          <label>
            {t('embeddings.umapNeighbours')}
            <input type="number" min={2} max={200} value={umapNeighbours} onChange={(e) => setUmapNeighbours(clampInput(e.target.value, 2, 200, 15))} disabled={running} data-testid="projector-neighbours-setting" />
          </label>
        )}
        <button type="button" onClick={() => void run()} disabled={running || epochs.length === 0} data-testid="projector-run">
          {t('embeddings.project')}
        </button>
        {progress && (
          <span className="muted" data-testid="projector-progress">
            {t('embeddings.progress', { phase: t(`embeddings.phase.${progress.phase}`), percent: Math.round((100 * progress.done) / Math.max(1, progress.total)) })}{' '}
            <button type="button" onClick={cancel}>
              {t('common.cancel')}
            </button>
          </span>
        )}
        {method === 'tsne' && limit > 20_000 && <span className="muted">{t('embeddings.tsneSlow')}</span>}
      </div>
      {epochs.length > 1 && (
        <div className="tools">
          <label style={{ flex: 1 }}>
            {t('embeddings.timeAxis', { epoch })}
            <input
              type="range"
              min={0}
              max={epochs.length - 1}
              value={shownIndex}
              onChange={(e) => {
                const next = Number(e.target.value)
                setEpochIndex(next)
                setFollowLatest(next === epochs.length - 1)
                if (projection) void run(epochs[next]!)
              }}
              data-testid="projector-epoch"
              style={{ width: '100%' }}
            />
          </label>
          <label>
            <input type="checkbox" checked={align} onChange={(e) => setAlign(e.target.checked)} /> {t('embeddings.align')}
          </label>
        </div>
      )}
      <form className="tools" onSubmit={onSearch}>
        <label>
          {t('embeddings.search')}
          <input value={search} onChange={(e) => setSearch(e.target.value)} placeholder="^king|queen$" data-testid="projector-search" />
        </label>
        <span className="muted" data-testid="projector-matches">
          {searchError ? t('embeddings.badRegex', { message: searchError }) : search ? t('embeddings.matches', { count: matches.length }) : ''}
        </span>
        <button type="button" onClick={saveBookmark} disabled={!projection}>
          {t('embeddings.bookmark')}
        </button>
        <button type="button" onClick={exportCsv} disabled={!projection} data-testid="projector-csv">
          {t('embeddings.exportCsv')}
        </button>
      </form>
      {bookmarks.length > 0 && (
        <p className="tools">
          {bookmarks.map((b, i) => (
            <span key={i} className="badge">
              <button type="button" className="link" onClick={() => openBookmark(b)}>
                {b.label}
              </button>{' '}
              <button
                type="button"
                className="link"
                aria-label={t('embeddings.removeBookmark')}
                onClick={() => {
                  const next = bookmarks.filter((_, j) => j !== i)
                  setBookmarks(next)
                  localStorage.setItem(bookmarkKey(name), JSON.stringify(next))
                }}
              >
                ×
              </button>
            </span>
          ))}
        </p>
      )}
      {error && <p className="error">{error}</p>}
      {points && projection ? (
        <div>
          <p className="muted" data-testid="projector-summary">
            {t('embeddings.summary', { count: projection.words.length, method: { pca: 'PCA', tsne: 't-SNE', umap: 'UMAP' }[projection.method], epoch: projection.epoch, seconds: projection.seconds.toFixed(1) })}
            {` · ${t(projection.dims === 3 ? 'embeddings.rotateHint' : 'embeddings.panHint')}`}
          </p>
          {labelled && (
            <ul className="legend" data-testid="projector-legend" aria-label={t('embeddings.legend')}>
              {labelled.legend.map((entry) => (
                <li key={entry.value}>
                  <span className="swatch" style={{ background: categoryColour(entry.category) }} /> {entry.value} <span className="muted">{entry.count.toLocaleString()}</span>
                </li>
              ))}
            </ul>
          )}
          <ScatterPlot
            points={points}
            labels={projection.words}
            highlighted={highlighted}
            visible={isolate && neighbourhood.length > 0 ? neighbourhood : null}
            onPick={(i) => void pickWord(i === null ? null : projection.words[i] ?? null)}
            height={520}
          />
        </div>
      ) : (
        <p className="muted">{t('embeddings.notProjected')}</p>
      )}
      {word && (
        <div className="side-by-side">
          <div data-testid="projector-neighbours">
            <h4>{t('embeddings.neighboursOf', { word, epoch })}</h4>
            <ol>
              {neighbours.map((n) => (
                <li key={n.word}>
                  <button type="button" className="link" onClick={() => void pickWord(n.word)}>
                    {n.word}
                  </button>{' '}
                  <span className="muted mono">{n.similarity.toFixed(3)}</span>
                </li>
              ))}
            </ol>
            <button type="button" onClick={() => setIsolate((v) => !v)} aria-pressed={isolate} data-testid="projector-isolate">
              {isolate ? t('embeddings.showAll') : t('embeddings.isolate')}
            </button>
          </div>
          {history.length > 1 && (
            <div>
              <h4>{t('embeddings.overEpochs', { word })}</h4>
              <table data-testid="projector-history">
                <tbody>
                  {history.map((h) => (
                    <tr key={h.epoch}>
                      <th className="num">{h.epoch}</th>
                      <td>{h.words.join(', ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  )
}
