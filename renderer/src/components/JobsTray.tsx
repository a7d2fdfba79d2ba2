// Live progress of long jobs (fraction, throughput, ETA) with cancel.
import { useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { JobProgress } from '../../../main/api/contract.ts'
import { useClient, useEvent, useQuery } from '../api/hooks.ts'
import { formatDuration, formatRate } from '../format.ts'

export function JobsTray() {
  const { t } = useTranslation()
  const client = useClient()
  const initial = useQuery('jobs.list', {})
  const [jobs, setJobs] = useState<Map<string, JobProgress>>(new Map())
  const [dismissed, setDismissed] = useState<Set<string>>(new Set())
  useEvent('job.progress', (job) => setJobs((previous) => new Map(previous).set(job.jobId, job)))
  const merged = new Map<string, JobProgress>()
  for (const job of initial.data ?? []) merged.set(job.jobId, job)
  for (const [id, job] of jobs) merged.set(id, job)
  const visible = [...merged.values()].filter((job) => !dismissed.has(job.jobId))
  if (visible.length === 0) return null
  return (
    <section className="jobs-tray" aria-label={t('jobs.title')} aria-live="polite">
      {visible.map((job) => (
        <div className={`job job-${job.status}`} key={job.jobId} data-testid="job">
          <div className="job-label">{job.label}</div>
          <progress max={1} value={job.fraction ?? undefined} aria-label={job.label} />
          <div className="job-meta">
            {job.status === 'running' && (
              <>
                <span>{job.fraction === null ? '' : `${Math.round(job.fraction * 100)}%`}</span>
                {job.throughput !== null && <span>{t('jobs.rate', { rate: formatRate(job.throughput, job.unit) })}</span>}
                {job.etaSeconds !== null && <span>{t('jobs.eta', { eta: formatDuration(job.etaSeconds) })}</span>}
                <button type="button" onClick={() => void client.call('jobs.cancel', { jobId: job.jobId })}>
                  {t('common.cancel')}
                </button>
              </>
            )}
            {job.status === 'done' && <span>{t('jobs.done')}</span>}
            {job.status === 'cancelled' && <span>{t('jobs.cancelled')}</span>}
            {job.status === 'failed' && <span className="error">{t('jobs.failed', { error: job.error ?? '' })}</span>}
            {job.status !== 'running' && (
              <button type="button" onClick={() => setDismissed((previous) => new Set(previous).add(job.jobId))}>
                {t('jobs.dismiss')}
              </button>
            )}
          </div>
        </div>
      ))}
    </section>
  )
}
