// A run's metrics as CSV, one row per point: what `kotoba export csv` writes and the dashboard downloads.
import type { MetricPoint } from './contract.ts'

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
const csvField = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text)

/** metric, step, value, wall_time (seconds since 1970). */
export function metricsCsv(series: Readonly<Record<string, readonly MetricPoint[]>>): string {
  const rows = Object.entries(series).flatMap(([metric, points]) => points.map((p) => `${csvField(metric)},${p.step},${p.value},${p.wallTime}\n`))
  return `metric,step,value,wall_time\n${rows.join('')}`
}
