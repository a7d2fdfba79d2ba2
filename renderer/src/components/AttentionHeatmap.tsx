// An attention matrix as a canvas heatmap (one draw for any size, so 200+ tokens stay responsive):
// target pieces down, source pieces across; hover shows the weight, a click on a row highlights its
// alignment. Viridis for weights; in difference mode the values are signed (blue less, red more). Target pieces
// label the rows, source pieces the columns. Exports PNG and SVG.
import { useEffect, useMemo, useRef, useState } from 'react'
import { useTranslation } from 'react-i18next'
import { colourCss, colourBytes, legendGradient } from './colour-map.ts'

export interface HeatmapProps {
  srcTokens: string[]
  tgtTokens: string[]
  /** [tgt][src]; in difference mode, values in [-1, 1]. */
  weights: number[][]
  difference?: boolean
  label: string
  fileName?: string
}

const cell = 22
const labelFont = '12px ui-monospace, Menlo, monospace'

/** Paints a matrix one pixel per cell and scales it into the box: one draw call for any size. */
export function paintMatrix(context: CanvasRenderingContext2D, weights: readonly (readonly number[])[], x: number, y: number, width: number, height: number, difference = false): void {
  const rows = weights.length
  const cols = weights[0]?.length ?? 0
  if (rows === 0 || cols === 0) return
  const pixels = new ImageData(cols, rows)
  weights.forEach((row, r) =>
    row.forEach((value, c) => {
      const [red, green, blue] = colourBytes(value, difference)
      const at = (r * cols + c) * 4
      pixels.data[at] = red
      pixels.data[at + 1] = green
      pixels.data[at + 2] = blue
      pixels.data[at + 3] = 255
    }),
  )
  const scratch = document.createElement('canvas')
  scratch.width = cols
  scratch.height = rows
  scratch.getContext('2d')!.putImageData(pixels, 0, 0)
  context.imageSmoothingEnabled = false
  context.drawImage(scratch, x, y, width, height)
}

/** Sizes a canvas for a CSS box of width × height at the screen's pixel ratio and clears it; null before it mounts. */
export function prepareCanvas(element: HTMLCanvasElement | null, width: number, height: number): CanvasRenderingContext2D | null {
  const context = element?.getContext('2d')
  if (!element || !context) return null
  const ratio = window.devicePixelRatio || 1
  element.width = width * ratio
  element.height = height * ratio
  context.setTransform(ratio, 0, 0, ratio, 0, 0)
  context.clearRect(0, 0, width, height)
  return context
}

export function download(name: string, href: string): void {
  const link = document.createElement('a')
  link.href = href
  link.download = name
  link.click()
}

function margins(srcTokens: string[], tgtTokens: string[]): { left: number; top: number } {
  const longest = (tokens: string[]) => Math.max(1, ...tokens.map((t) => [...t].length))
  return { left: Math.min(160, 10 + 7.5 * longest(tgtTokens)), top: Math.min(160, 10 + 7.5 * longest(srcTokens)) }
}

/** The same picture as SVG text (for papers and slides). */
export function heatmapSvg({ srcTokens, tgtTokens, weights, difference = false }: HeatmapProps): string {
  const { left, top } = margins(srcTokens, tgtTokens)
  const width = left + srcTokens.length * cell
  const height = top + tgtTokens.length * cell
  const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="12">`, `<rect width="${width}" height="${height}" fill="#fff"/>`]
  weights.forEach((row, r) =>
    row.forEach((value, c) => parts.push(`<rect x="${left + c * cell}" y="${top + r * cell}" width="${cell - 1}" height="${cell - 1}" fill="${colourCss(value, difference)}"><title>${value.toFixed(3)}</title></rect>`)),
  )
  tgtTokens.forEach((token, r) => parts.push(`<text x="${left - 4}" y="${top + r * cell + cell * 0.7}" text-anchor="end">${escape(token)}</text>`))
  srcTokens.forEach((token, c) => {
    const x = left + c * cell + cell * 0.7
    parts.push(`<text transform="translate(${x} ${top - 4}) rotate(-90)">${escape(token)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('')
}

export function AttentionHeatmap(props: HeatmapProps) {
  const { srcTokens, tgtTokens, weights, difference = false, label, fileName = 'attention' } = props
  const { t } = useTranslation()
  const canvas = useRef<HTMLCanvasElement>(null)
  const [hover, setHover] = useState<{ row: number; col: number } | null>(null)
  const [selectedRow, setSelectedRow] = useState<number | null>(null)
  const { left, top } = useMemo(() => margins(srcTokens, tgtTokens), [srcTokens, tgtTokens])
  const width = left + srcTokens.length * cell
  const height = top + tgtTokens.length * cell

  useEffect(() => {
    const element = canvas.current
    const context = prepareCanvas(element, width, height)
    if (!element || !context) return
    const text = getComputedStyle(element).color
    weights.forEach((row, r) =>
      row.forEach((value, c) => {
        context.fillStyle = colourCss(value, difference)
        context.fillRect(left + c * cell, top + r * cell, cell - 1, cell - 1)
      }),
    )
    if (selectedRow !== null && weights[selectedRow]) {
      const row = weights[selectedRow]!
      const best = row.indexOf(Math.max(...row))
      context.strokeStyle = '#f5a623'
      context.lineWidth = 2
      context.strokeRect(left, top + selectedRow * cell, srcTokens.length * cell - 1, cell - 1)
      context.strokeRect(left + best * cell, top, cell - 1, tgtTokens.length * cell - 1)
    }
    context.fillStyle = text
    context.font = labelFont
    context.textAlign = 'right'
    tgtTokens.forEach((token, r) => context.fillText(token, left - 4, top + r * cell + cell * 0.7))
    context.textAlign = 'left'
    srcTokens.forEach((token, c) => {
      context.save()
      context.translate(left + c * cell + cell * 0.7, top - 4)
      context.rotate(-Math.PI / 2)
      context.fillText(token, 0, 0)
      context.restore()
    })
  }, [weights, srcTokens, tgtTokens, difference, selectedRow, left, top, width, height])

  const cellAt = (event: React.MouseEvent<HTMLCanvasElement>) => {
    const box = event.currentTarget.getBoundingClientRect()
    const col = Math.floor((event.clientX - box.left - left) / cell)
    const row = Math.floor((event.clientY - box.top - top) / cell)
    return row >= 0 && col >= 0 && row < tgtTokens.length && col < srcTokens.length ? { row, col } : null
  }
  const hovered = hover ? weights[hover.row]?.[hover.col] : undefined
  return (
    <figure className="heatmap" data-testid="attention-heatmap">
      <figcaption>
        {label}
        <span className="heatmap-tools">
          <button type="button" onClick={() => download(`${fileName}.png`, canvas.current!.toDataURL('image/png'))}>
            {t('attention.png')}
          </button>
          <button type="button" onClick={() => download(`${fileName}.svg`, `data:image/svg+xml;charset=utf-8,${encodeURIComponent(heatmapSvg(props))}`)}>
            {t('attention.svg')}
          </button>
        </span>
      </figcaption>
      <div className="heatmap-scroll">
        <canvas
          ref={canvas}
          role="img"
          aria-label={label}
          tabIndex={0}
          style={{ width, height }}
          onMouseMove={(event) => setHover(cellAt(event))}
          onMouseLeave={() => setHover(null)}
          onClick={(event) => {
            const at = cellAt(event)
            setSelectedRow(at && at.row !== selectedRow ? at.row : null)
          }}
          onKeyDown={(event) => {
            if (event.key === 'ArrowDown') setSelectedRow((r) => Math.min(tgtTokens.length - 1, (r ?? -1) + 1))
            else if (event.key === 'ArrowUp') setSelectedRow((r) => Math.max(0, (r ?? 1) - 1))
            else if (event.key === 'Escape') setSelectedRow(null)
            else return
            event.preventDefault()
          }}
        />
      </div>
      <div className="heatmap-legend" aria-hidden>
        <span>{difference ? '−1' : '0'}</span>
        <span className="heatmap-legend-bar" style={{ background: legendGradient(difference) }} />
        <span>{difference ? '+1' : '1'}</span>
        <span className="muted">{t('attention.axes')}</span>
      </div>
      <p className="heatmap-readout" aria-live="polite">
        {hover && hovered !== undefined
          ? t('attention.readout', { tgt: tgtTokens[hover.row], src: srcTokens[hover.col], weight: hovered.toFixed(3) })
          : selectedRow !== null
            ? t('attention.aligned', { tgt: tgtTokens[selectedRow], src: srcTokens[weights[selectedRow]!.indexOf(Math.max(...weights[selectedRow]!))] })
            : t('attention.hint')}
      </p>
    </figure>
  )
}
