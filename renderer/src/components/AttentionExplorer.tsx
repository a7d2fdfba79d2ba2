// One attention kind of a sentence, every layer and head: the model view (grid of heatmaps) or the head view (lines).
import { useState } from 'react'
import type { TFunction } from 'i18next'
import { useTranslation } from 'react-i18next'
import type { AttentionKind, AttentionLayout, AttentionMap } from '../../../main/api/contract.ts'
import { HeadView } from './HeadView.tsx'
import { ModelView } from './ModelView.tsx'

/** The layout of a set of maps (e.g. the ones a translation returned). */
export function layoutOf(maps: readonly AttentionMap[]): AttentionLayout {
  const kinds: AttentionKind[] = ['encoder-self', 'decoder-self', 'cross']
  return kinds.flatMap((kind) => {
    const ofKind = maps.filter((m) => m.kind === kind)
    return ofKind.length === 0 ? [] : [{ kind, layers: Math.max(...ofKind.map((m) => m.layer)) + 1, heads: Math.max(...ofKind.map((m) => m.head ?? 0)) + 1 }]
  })
}

/** "cross-attention, layer 2, head 3" (or "mean of heads"). */
export function mapLabel(t: TFunction, map: AttentionMap): string {
  const head = map.head === null ? t('inspect.meanOfHeads') : t('inspect.head', { head: map.head + 1 })
  return `${t(`inspect.kinds.${map.kind}`)}, ${t('inspect.layer', { layer: map.layer + 1 })}, ${head}`
}

export function KindSelect({ layout, value, onChange }: { layout: AttentionLayout; value: AttentionKind; onChange: (kind: AttentionKind) => void }) {
  const { t } = useTranslation()
  return (
    <label>
      {t('inspect.kind')}
      <select value={value} onChange={(event) => onChange(event.target.value as AttentionKind)} data-testid="attention-kind">
        {layout.map((l) => (
          <option key={l.kind} value={l.kind}>
            {t(`inspect.kinds.${l.kind}`)}
          </option>
        ))}
      </select>
    </label>
  )
}

export interface AttentionExplorerProps {
  layout: AttentionLayout
  kind: AttentionKind
  onKind: (kind: AttentionKind) => void
  /** The maps of `kind` (other kinds are ignored). */
  maps: AttentionMap[]
  fileName: string
}

export function AttentionExplorer({ layout, kind, onKind, maps, fileName }: AttentionExplorerProps) {
  const { t } = useTranslation()
  const [view, setView] = useState<'model' | 'head'>('model')
  const shape = layout.find((l) => l.kind === kind)
  const ofKind = maps.filter((m) => m.kind === kind)
  return (
    <div className="attention-explorer">
      <div className="tools">
        <KindSelect layout={layout} value={kind} onChange={onKind} />
        <span role="tablist" className="tabs">
          {(['model', 'head'] as const).map((v) => (
            <button key={v} type="button" role="tab" aria-selected={view === v} className={view === v ? 'chosen' : undefined} onClick={() => setView(v)} data-testid={`view-${v}`}>
              {t(v === 'model' ? 'inspect.modelView' : 'inspect.headView')}
            </button>
          ))}
        </span>
      </div>
      {shape && ofKind.length > 0 && view === 'model' && <ModelView maps={ofKind} layers={shape.layers} heads={shape.heads} fileName={fileName} />}
      {shape && ofKind.length > 0 && view === 'head' && <HeadView key={kind} maps={ofKind} layers={shape.layers} heads={shape.heads} fileName={`${fileName}-${kind}`} />}
    </div>
  )
}
