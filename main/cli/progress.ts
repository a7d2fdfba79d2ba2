// A one-line progress bar for terminals: fraction, throughput and ETA of a job.
import type { JobProgress } from '../api/contract.ts'

function duration(seconds: number): string {
  const s = Math.round(seconds)
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

function rate(job: JobProgress): string {
  if (job.throughput === null) return ''
  return job.unit === 'bytes' ? `${(job.throughput / 1048576).toFixed(1)} MB/s` : `${Math.round(job.throughput)} ${job.unit}/s`
}

export class ProgressBar {
  private lastDraw = 0
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly width = 30,
  ) {}

  update(job: JobProgress): void {
    const now = Date.now()
    if (now - this.lastDraw < 100 && job.status === 'running') return
    this.lastDraw = now
    const fraction = job.fraction ?? 0
    const filled = Math.round(fraction * this.width)
    const bar = job.fraction === null ? '?'.repeat(this.width) : '█'.repeat(filled) + '░'.repeat(this.width - filled)
    const eta = job.etaSeconds === null ? '' : `ETA ${duration(job.etaSeconds)}`
    const text = `${bar} ${(fraction * 100).toFixed(0).padStart(3)}%  ${rate(job)}  ${eta}`
    this.stream.write(`\r${text.slice(0, (this.stream.columns ?? 80) - 1)}\x1b[K`)
  }

  finish(job: JobProgress): void {
    this.update({ ...job, status: 'running', fraction: job.status === 'done' ? 1 : job.fraction })
    this.stream.write('\n')
  }
}
