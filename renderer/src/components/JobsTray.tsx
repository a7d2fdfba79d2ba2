// Live progress of long jobs (fraction, throughput, ETA) with cancel. Short answers (a translation, a chat reply)
// never show here; finished cards fade after a few seconds, failed ones stay until dismissed; a training that was
// paused or stopped says so (it can be resumed) instead of "Done".
import { useEffect, useState } from 'react'
import { useTranslation } from 'react-i18next'
import type { JobKind, JobProgress } from '../../../main/api/contract.ts'
import { useClient, useEvent, useQuery } from '../api/hooks.ts'
import { formatDuration, formatRate } from '../format.ts'
import { useEngineText } from '../i18n/engine-text.ts'

/** Answers that take a moment: their page shows the wait. */
const quietKinds = new Set<JobKind>(['run.translate', 'run.chat'])
/** How long a finished (not failed) card stays. */
const fadeAfterMs = 6000
/** Cards shown at once; the rest are counted. */
const shownCards = 4

export function JobsTray() {
  const { t } = useTranslation()
  const engineText = useEngineText()
  const client = useClient()
  const initial = useQuery('jobs.list', {})
  const [jobs, setJobs] = useState<Map<string, JobProgress>>(new Map())
  const [dismissed, setDismissed] = useState<Set<string>>(new Set())
  const dismiss = (jobId: string) => setDismissed((previous) => new Set(previous).add(jobId))
  useEvent('job.progress', (job) => setJobs((previous) => new Map(previous).set(job.jobId, job)))
  const merged = new Map<string, JobProgress>()
  // Jobs that had ended before this page opened are history, not news.
  for (const job of initial.data ?? []) if (job.status === 'running') merged.set(job.jobId, job)
  for (const [id, job] of jobs) merged.set(id, job)
  const visible = [...merged.values()].filter((job) => !dismissed.has(job.jobId) && !quietKinds.has(job.kind))
  const finished = visible.filter((job) => job.status === 'done' || job.status === 'cancelled').map((job) => job.jobId)
  useEffect(() => {
    if (finished.length === 0) return
    const timer = setTimeout(() => setDismissed((previous) => new Set([...previous, ...finished])), fadeAfterMs)
    return () => clearTimeout(timer)
  }, [finished.join()])
  if (visible.length === 0) return null
  const shown = visible.slice(-shownCards)
  return (
    <section className="jobs-tray" aria-label={t('jobs.title')} aria-live="polite">
      {visible.length > shown.length && <div className="job job-more muted">{t('jobs.more', { count: visible.length - shown.length })}</div>}
      {shown.map((job) => {
        const label = engineText(job.labelText, job.label)
        return (
          <div className={`job job-${job.status}${job.outcome ? ` job-${job.outcome}` : ''}`} key={job.jobId} data-testid="job" data-status={job.outcome ?? job.status}>
            <div className="job-label" title={label}>
              {label}
            </div>
            {job.status === 'running' ? <progress max={1} value={job.fraction ?? undefined} aria-label={label} /> : <progress max={1} value={job.status === 'done' && !job.outcome ? 1 : (job.fraction ?? 0)} aria-label={label} />}
            <div className="job-meta">
              {job.status === 'running' && (
                <>
                  <span>{job.fraction === null ? '' : `${Math.round(job.fraction * 100)}%`}</span>
                  {job.throughput !== null && <span>{t('jobs.rate', { rate: formatRate(job.throughput, job.unit === 'bytes' ? job.unit : t(`jobs.units.${job.unit}`, { defaultValue: job.unit })) })}</span>}
                  {job.etaSeconds !== null && <span>{t('jobs.eta', { eta: formatDuration(job.etaSeconds) })}</span>}
                  <button type="button" onClick={() => void client.call('jobs.cancel', { jobId: job.jobId })}>
                    {t('common.cancel')}
                  </button>
                </>
              )}
              {job.status === 'done' && <span>{job.outcome ? t(`jobs.${job.outcome}`) : t('jobs.done')}</span>}
              {job.status === 'cancelled' && <span>{t('jobs.cancelled')}</span>}
              {job.status === 'failed' && <span className="error job-error">{t('jobs.failed', { error: job.error ?? '' })}</span>}
              {job.status !== 'running' && (
                <button type="button" onClick={() => dismiss(job.jobId)}>
                  {t('jobs.dismiss')}
                </button>
              )}
            </div>
          </div>
        )
      })}
    </section>
  )
}
