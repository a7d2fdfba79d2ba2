export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–'
  const s = Math.round(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
}

/** A rate in the job's unit: bytes become B/s, anything else a plain count. */
export function formatRate(rate: number, unit: string): string {
  return unit === 'bytes' ? formatBytes(rate) : `${Math.round(rate).toLocaleString()} ${unit}`
}

/** A count in the page's language, compact above ten thousand (1,234 · 56.8K · 1.2M). */
export function formatCount(count: number, language?: string): string {
  return new Intl.NumberFormat(language, count >= 10_000 ? { notation: 'compact', maximumFractionDigits: 1 } : {}).format(count)
}
