// A live line chart of run metrics (uPlot: canvas, fast with thousands of points; drag to zoom,
// double-click to reset). Several series share the x axis (training step, or epoch).
import { useEffect, useRef } from 'react'
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

export interface ChartSeries {
  label: string
  points: { step: number; value: number }[]
  color: string
  dashed?: boolean
}

/** Exponential moving average, as TensorBoard's smoothing slider (0 = raw). */
export function smooth(points: { step: number; value: number }[], weight: number): { step: number; value: number }[] {
  if (weight <= 0) return points
  let last = points[0]?.value ?? 0
  return points.map((p) => {
    last = last * weight + (1 - weight) * p.value
    return { step: p.step, value: last }
  })
}

/** Aligns several (step, value) series on one sorted x axis, with nulls where a series has no point. */
function align(series: ChartSeries[]): uPlot.AlignedData {
  const steps = [...new Set(series.flatMap((s) => s.points.map((p) => p.step)))].sort((a, b) => a - b)
  const index = new Map(steps.map((step, i) => [step, i]))
  const columns = series.map((s) => {
    const column: (number | null)[] = new Array<number | null>(steps.length).fill(null)
    for (const p of s.points) column[index.get(p.step)!] = p.value
    return column
  })
  return [steps, ...columns] as uPlot.AlignedData
}

/** Tick labels with as many significant digits as it takes to tell them apart (a learning rate of 1e-3 with
 *  ticks 0.00099, 0.001, 0.00101 must not read "0.001" three times); tiny and huge values in exponent form. */
export function tickLabels(ticks: readonly (number | null)[]): string[] {
  // uPlot leaves null where a tick is not drawn.
  const values = ticks.map((v) => v ?? Number.NaN)
  const format = (v: number, digits: number) => {
    if (Number.isNaN(v)) return ''
    if (v === 0) return '0'
    const magnitude = Math.abs(v)
    return magnitude < 1e-3 || magnitude >= 1e6 ? v.toExponential(Math.max(0, digits - 1)).replace(/\.?0+e/, 'e') : String(Number(v.toPrecision(digits)))
  }
  for (let digits = 2; digits <= 8; digits++) {
    const labels = values.map((v) => format(v, digits))
    const shown = labels.filter((l) => l !== '')
    if (new Set(shown).size === shown.length) return labels
  }
  return values.map((v) => format(v, 8))
}

export function MetricChart({ title, series, logScale = false, height = 200, xLabel = 'step' }: { title: string; series: ChartSeries[]; logScale?: boolean; height?: number; xLabel?: string }) {
  const container = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  /** Set once the user drags a zoom window; new points then keep the window until a double-click resets it. */
  const zoomed = useRef(false)
  const shape = series.map((s) => `${s.label}|${s.color}|${s.dashed ?? false}`).join(',') + String(logScale)

  useEffect(() => {
    const element = container.current
    if (!element) return
    const options: uPlot.Options = {
      width: Math.max(280, element.clientWidth),
      height,
      scales: { x: { time: false }, y: logScale ? { distr: 3 } : {} },
      axes: [{ stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' } }, { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.15)' }, size: 60, values: (_plot, splits) => tickLabels(splits) }],
      series: [{ label: xLabel }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, dash: s.dashed ? [6, 4] : undefined, points: { show: s.points.length < 60 } }))],
      cursor: { drag: { x: true, y: false } },
      hooks: { setSelect: [() => (zoomed.current = true)] },
    }
    plot.current = new uPlot(options, align(series), element)
    const unzoom = () => (zoomed.current = false)
    element.addEventListener('dblclick', unzoom)
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(280, element.clientWidth), height }))
    resize.observe(element)
    return () => {
      resize.disconnect()
      element.removeEventListener('dblclick', unzoom)
      plot.current?.destroy()
      plot.current = null
    }
    // Rebuilt only when the set of series changes; data updates go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height, xLabel])

  useEffect(() => {
    plot.current?.setData(align(series), !zoomed.current)
  }, [series])

  return (
    <figure className="chart" data-testid={`chart-${title}`}>
      <figcaption>{title}</figcaption>
      <div ref={container} />
    </figure>
  )
}
