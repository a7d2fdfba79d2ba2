// The head view (after BertViz): query tokens on the left, key tokens on the right, a line per weight with the
// weight as opacity and one colour per head. Drawn on one canvas, so long sentences stay responsive.
import { useEffect, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { AttentionMap } from '../../../main/api/contract.ts'
import { download, prepareCanvas } from './AttentionHeatmap.tsx'

export const headColours = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']
const rowHeight = 18
const columnWidth = 150
const gap = 160
const font = '12px ui-monospace, Menlo, monospace'

export interface HeadViewProps {
  /** Every head of one kind, all layers. */
  maps: AttentionMap[]
  layers: number
  heads: number
  fileName: string
}

/** The same lines as SVG (for papers and slides): every shown head of the layer, weights below 0.02 left out. */
function headViewSvg(maps: AttentionMap[], shown: boolean[], rows: string[], cols: string[], width: number, height: number): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const y = (index: number) => 4 + index * rowHeight + rowHeight / 2
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="12">`, `<rect width="${width}" height="${height}" fill="#fff"/>`]
  for (const map of maps) {
    const head = map.head ?? 0
    if (!shown[head]) continue
    const colour = headColours[head % headColours.length]!
    map.weights.forEach((row, r) =>
      row.forEach((weight, c) => {
        if (weight >= 0.02) parts.push(`<line x1="${columnWidth + 4}" y1="${y(r)}" x2="${columnWidth + gap - 4}" y2="${y(c)}" stroke="${colour}" stroke-width="2" stroke-opacity="${Math.min(1, weight).toFixed(3)}"/>`)
      }),
    )
  }
  rows.forEach((token, r) => parts.push(`<text x="${columnWidth}" y="${y(r) + 4}" text-anchor="end">${escape(token)}</text>`))
  cols.forEach((token, c) => parts.push(`<text x="${columnWidth + gap}" y="${y(c) + 4}">${escape(token)}</text>`))
  parts.push('</svg>')
  return parts.join('')
}

export function HeadView({ maps, layers, heads, fileName }: HeadViewProps) {
  const { t } = useTranslation()
  const canvas = useRef<HTMLCanvasElement>(null)
  const [layer, setLayer] = useState(layers - 1)
  const [shown, setShown] = useState<boolean[]>(() => Array.from({ length: heads }, () => true))
  /** A query (left) or key (right) token under the pointer: only its lines are drawn. */
  const [focus, setFocus] = useState<{ side: 'query' | 'key'; index: number } | null>(null)
  const layerMaps = maps.filter((m) => m.layer === Math.min(layer, layers - 1))
  const first = layerMaps[0]
  const rows = first?.rowTokens ?? []
  const cols = first?.colTokens ?? []
  const height = Math.max(rows.length, cols.length) * rowHeight + 8
  const width = columnWidth * 2 + gap

  useEffect(() => {
    const element = canvas.current
    const context = prepareCanvas(element, width, height)
    if (!element || !context) return
    const y = (index: number) => 4 + index * rowHeight + rowHeight / 2
    context.lineWidth = 2
    for (const map of layerMaps) {
      const head = map.head ?? 0
      if (!shown[head]) continue
      context.strokeStyle = headColours[head % headColours.length]!
      map.weights.forEach((row, r) => {
        if (focus?.side === 'query' && focus.index !== r) return
        row.forEach((weight, c) => {
          if (weight < 0.02 || (focus?.side === 'key' && focus.index !== c)) return
          context.globalAlpha = Math.min(1, weight)
          context.beginPath()
          context.moveTo(columnWidth + 4, y(r))
          context.lineTo(columnWidth + gap - 4, y(c))
          context.stroke()
        })
      })
    }
    context.globalAlpha = 1
    context.font = font
    context.textBaseline = 'middle'
    context.fillStyle = getComputedStyle(element).color
    context.textAlign = 'right'
    rows.forEach((token, r) => {
      context.font = focus?.side === 'query' && focus.index === r ? `bold ${font}` : font
      context.fillText(token, columnWidth, y(r))
    })
    context.textAlign = 'left'
    cols.forEach((token, c) => {
      context.font = focus?.side === 'key' && focus.index === c ? `bold ${font}` : font
      context.fillText(token, columnWidth + gap, y(c))
    })
  }, [layerMaps, shown, focus, rows, cols, width, height])

  const pick = (event: React.MouseEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect()
    const x = event.clientX - box.left
    const index = Math.floor((event.clientY - box.top - 4) / rowHeight)
    if (x < columnWidth + 8 && index >= 0 && index < rows.length) return { side: 'query' as const, index }
    if (x > columnWidth + gap - 8 && index >= 0 && index < cols.length) return { side: 'key' as const, index }
    return null
  }
  return (
    <figure className="heatmap" data-testid="head-view">
      <figcaption>
        <span className="tools">
          <label>
            {t('inspect.layerFilter')}
            <select value={Math.min(layer, layers - 1)} onChange={(event) => setLayer(Number(event.target.value))} data-testid="head-view-layer">
              {Array.from({ length: layers }, (_, i) => (
                <option key={i} value={i}>
                  {i + 1}
                </option>
              ))}
            </select>
          </label>
          {Array.from({ length: heads }, (_, head) => (
            <label key={head} className="head-toggle" style={{ color: headColours[head % headColours.length] }}>
              <input type="checkbox" checked={shown[head] ?? true} onChange={(event) => setShown((s) => s.map((v, i) => (i === head ? event.target.checked : v)))} />
              {t('inspect.head', { head: head + 1 })}
            </label>
          ))}
        </span>
        <span className="heatmap-tools">
          <button type="button" onClick={() => download(`${fileName}-heads.png`, canvas.current!.toDataURL('image/png'))}>
            {t('attention.png')}
          </button>
          <button type="button" onClick={() => download(`${fileName}-heads.svg`, `data:image/svg+xml;charset=utf-8,${encodeURIComponent(headViewSvg(layerMaps, shown, rows, cols, width, height))}`)}>
            {t('attention.svg')}
          </button>
        </span>
      </figcaption>
      <div className="heatmap-scroll">
        <canvas
          ref={canvas}
          role="img"
          tabIndex={0}
          aria-label={t('inspect.headView')}
          style={{ width, height }}
          onMouseMove={(event) => setFocus(pick(event))}
          onMouseLeave={() => setFocus(null)}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown') setFocus((f) => ({ side: 'query', index: Math.min(rows.length - 1, f?.side === 'query' ? f.index + 1 : 0) }))
            else if (event.key === 'ArrowUp') setFocus((f) => ({ side: 'query', index: Math.max(0, f?.side === 'query' ? f.index - 1 : 0) }))
            else if (event.key === 'Escape') setFocus(null)
            else return
            event.preventDefault()
          }}
        />
      </div>
      <p className="heatmap-readout">{t('inspect.headHint')}</p>
    </figure>
  )
}
