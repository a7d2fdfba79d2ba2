// The decoding settings shared by the translation playground and the chat: greedy, beam (size, α, n-best) or
// sampling (temperature, top-k, top-p).
import { useTranslation } from 'react-i18next'
import type { SearchOptions } from '../../../main/api/contract.ts'

export interface SearchSettings {
  search: SearchOptions['search']
  beamSize: number
  nBest: number
  alpha: number
  temperature: number
  topK: number
  topP: number
}

export const defaultSearchSettings: SearchSettings = { search: 'beam', beamSize: 5, nBest: 3, alpha: 0.6, temperature: 1, topK: 0, topP: 0.9 }

/** `withNBest`: also the length penalty α and the size of the n-best list (the playground lists hypotheses). */
export function SearchControls({ value, onChange, withNBest = false }: { value: SearchSettings; onChange: (value: SearchSettings) => void; withNBest?: boolean }) {
  const { t } = useTranslation()
  const set = (change: Partial<SearchSettings>) => onChange({ ...value, ...change })
  const { search, beamSize, nBest, alpha, temperature, topK, topP } = value
  const nBestLimit = Math.max(1, search === 'beam' ? beamSize : 10)
  return (
    <fieldset>
      <legend>{t('translate.search')}</legend>
      <label>
        {t('translate.method')}
        <select value={search} onChange={(event) => set({ search: event.target.value as SearchOptions['search'] })} data-testid="search-method">
          <option value="greedy">{t('translate.greedy')}</option>
          <option value="beam">{t('translate.beam')}</option>
          <option value="sample">{t('translate.sample')}</option>
        </select>
      </label>
      {search === 'beam' && (
        <>
          <label>
            {t('translate.beamSize', { value: beamSize })}
            <input type="range" min={1} max={16} value={beamSize} onChange={(event) => set({ beamSize: Number(event.target.value) })} />
          </label>
          {withNBest && (
            <label>
              {t('translate.alpha', { value: alpha.toFixed(1) })}
              <input type="range" min={0} max={2} step={0.1} value={alpha} onChange={(event) => set({ alpha: Number(event.target.value) })} />
            </label>
          )}
        </>
      )}
      {search === 'sample' && (
        <>
          <label>
            {t('translate.temperature', { value: temperature.toFixed(1) })}
            <input type="range" min={0.1} max={3} step={0.1} value={temperature} onChange={(event) => set({ temperature: Number(event.target.value) })} />
          </label>
          <label>
            {t('translate.topK', { value: topK })}
            <input type="range" min={0} max={100} value={topK} onChange={(event) => set({ topK: Number(event.target.value) })} />
          </label>
          <label>
            {t('translate.topP', { value: topP.toFixed(2) })}
            <input type="range" min={0.05} max={1} step={0.05} value={topP} onChange={(event) => set({ topP: Number(event.target.value) })} />
          </label>
        </>
      )}
      {withNBest && search !== 'greedy' && (
        <label>
          {t('translate.nBest', { value: nBest })}
          <input type="range" min={1} max={nBestLimit} value={Math.min(nBest, nBestLimit)} onChange={(event) => set({ nBest: Number(event.target.value) })} />
        </label>
      )}
    </fieldset>
  )
}
