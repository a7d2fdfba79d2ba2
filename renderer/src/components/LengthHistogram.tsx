// A small bar chart of text lengths (SVG: a few dozen bars, no chart library needed).
import type { CorpusStats } from '../../../main/api/contract.ts'

type Side = CorpusStats['sides'][number]

export function LengthHistogram({ side, label }: { side: Side; label: string }) {
  const { counts, bucketSize } = side.histogram
  const peak = Math.max(1, ...counts)
  const width = 320
  const height = 90
  const barWidth = width / Math.max(1, counts.length)
  return (
    <figure className="histogram" data-testid={`histogram-${side.side}`}>
      <svg viewBox={`0 0 ${width} ${height + 14}`} width={width} height={height + 14} role="img" aria-label={label}>
        {counts.map((count, i) => {
          const barHeight = (count / peak) * height
          const from = i * bucketSize
          const to = i === counts.length - 1 ? '+' : `–${from + bucketSize - 1}`
          return (
            <rect key={i} x={i * barWidth + 0.5} y={height - barHeight} width={Math.max(1, barWidth - 1)} height={barHeight} className="bar">
              <title>{`${from}${to}: ${count}`}</title>
            </rect>
          )
        })}
        <text x={0} y={height + 12} className="axis">
          0
        </text>
        <text x={width} y={height + 12} className="axis" textAnchor="end">
          {side.max}
        </text>
      </svg>
      <figcaption>{label}</figcaption>
    </figure>
  )
}
