// The model view (after BertViz): every layer × head of one attention kind as a small heatmap; click one (or
// move with the arrow keys and press Enter) to enlarge it with its tokens.
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { AttentionMap } from '../../../main/api/contract.ts'
import { AttentionHeatmap, paintMatrix, prepareCanvas } from './AttentionHeatmap.tsx'

const thumbSize = 96

function Thumbnail({ weights }: { weights: number[][] }) {
  const canvas = useRef<HTMLCanvasElement>(null)
  useEffect(() => {
    const context = prepareCanvas(canvas.current, thumbSize, thumbSize)
    if (!context) return
    // The whole tile: rows and columns are stretched to it (enlarge a head for its tokens and true proportions).
    paintMatrix(context, weights, 0, 0, thumbSize, thumbSize)
  }, [weights])
  return <canvas ref={canvas} style={{ width: thumbSize, height: thumbSize }} aria-hidden />
}

export interface ModelViewProps {
  /** Every head of one kind, any order. */
  maps: AttentionMap[]
  layers: number
  heads: number
  fileName: string
}

export function ModelView({ maps, layers, heads, fileName }: ModelViewProps) {
  const { t } = useTranslation()
  const [selected, setSelected] = useState<{ layer: number; head: number } | null>(null)
  const buttons = useRef(new Map<string, HTMLButtonElement>())
  const find = (layer: number, head: number) => maps.find((m) => m.layer === layer && m.head === head)
  const enlarged = selected ? find(selected.layer, selected.head) : undefined
  const move = (layer: number, head: number) => buttons.current.get(`${Math.max(0, Math.min(layers - 1, layer))}/${Math.max(0, Math.min(heads - 1, head))}`)?.focus()
  return (
    <div data-testid="model-view">
      <div className="model-grid" role="grid" aria-label={t('inspect.modelView')} style={{ gridTemplateColumns: `max-content repeat(${heads}, ${thumbSize + 8}px)` }}>
        <span />
        {Array.from({ length: heads }, (_, head) => (
          <span key={head} className="model-grid-label" role="columnheader">
            {t('inspect.head', { head: head + 1 })}
          </span>
        ))}
        {Array.from({ length: layers }, (_, layer) => (
          <div key={layer} role="row" style={{ display: 'contents' }}>
            <span className="model-grid-label" role="rowheader">
              {t('inspect.layer', { layer: layer + 1 })}
            </span>
            {Array.from({ length: heads }, (_, head) => {
              const map = find(layer, head)
              const isSelected = selected?.layer === layer && selected.head === head
              return (
                <button
                  key={head}
                  type="button"
                  role="gridcell"
                  className={`thumb${isSelected ? ' chosen' : ''}`}
                  aria-pressed={isSelected}
                  aria-label={t('inspect.layerHead', { layer: layer + 1, head: head + 1 })}
                  disabled={!map}
                  data-testid={`thumb-${layer}-${head}`}
                  ref={(element) => {
                    if (element) buttons.current.set(`${layer}/${head}`, element)
                    else buttons.current.delete(`${layer}/${head}`)
                  }}
                  onClick={() => setSelected(isSelected ? null : { layer, head })}
                  onKeyDown={(event) => {
                    const step = { ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0] }[event.key]
                    if (!step) return
                    event.preventDefault()
                    move(layer + step[0]!, head + step[1]!)
                  }}
                >
                  {map ? <Thumbnail weights={map.weights} /> : null}
                </button>
              )
            })}
          </div>
        ))}
      </div>
      {enlarged && (
        <AttentionHeatmap
          srcTokens={enlarged.colTokens}
          tgtTokens={enlarged.rowTokens}
          weights={enlarged.weights}
          label={t('inspect.enlarged', { kind: t(`inspect.kinds.${enlarged.kind}`), layer: enlarged.layer + 1, head: (enlarged.head ?? 0) + 1 })}
          fileName={`${fileName}-${enlarged.kind}-L${enlarged.layer + 1}H${(enlarged.head ?? 0) + 1}`}
        />
      )}
    </div>
  )
}
