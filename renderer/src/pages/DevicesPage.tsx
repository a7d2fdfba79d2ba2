import { useTranslation } from 'react-i18next'
import { computeLimitNames, type ComputeReport, type GpuAdapter } from '../../../main/api/contract.ts'
import { useQuery } from '../api/hooks.ts'
import { PageHeader } from '../components/EmptyState.tsx'
import { formatBytes } from '../format.ts'
import { useEngineText } from '../i18n/engine-text.ts'

/** A limit's value: sizes in bytes as such, counts as numbers. */
function limitValue(name: string, value: number): string {
  return /Size$/.test(name) && value >= 1024 ? formatBytes(value) : value.toLocaleString()
}

function LimitRows({ names, limits }: { names: readonly string[]; limits: Record<string, number> }) {
  return (
    <>
      {names.map((name) => (
        <tr key={name}>
          <th scope="row">
            <code>{name}</code>
          </th>
          <td>{limitValue(name, limits[name]!)}</td>
        </tr>
      ))}
    </>
  )
}

/** The WebGPU adapter Dawn found: what it is, whether it is used, and what our kernels may rely on. */
function AdapterSection({ adapter, active }: { adapter: GpuAdapter; active: ComputeReport['active'] }) {
  const { t } = useTranslation()
  const computeLimits = computeLimitNames.filter((name) => name in adapter.limits)
  const allLimits = Object.keys(adapter.limits).sort()
  return (
    <section aria-labelledby="adapter-title" data-testid="gpu-adapter">
      <h2 id="adapter-title">{t('devices.adapter.title')}</h2>
      <dl className="facts">
        <dt>{t('devices.adapter.name')}</dt>
        <dd>{[adapter.vendor, adapter.architecture, adapter.device].filter(Boolean).join(' · ')}</dd>
        {adapter.description && (
          <>
            <dt>{t('devices.adapter.driver')}</dt>
            <dd>{adapter.description}</dd>
          </>
        )}
        <dt>{t('devices.adapter.kind')}</dt>
        <dd>{t(adapter.software ? 'devices.adapter.software' : 'devices.adapter.hardware')}</dd>
        <dt>{t('devices.adapter.use')}</dt>
        <dd>{t(active === 'webgpu' ? 'devices.adapter.inUse' : 'devices.adapter.notInUse')}</dd>
        {adapter.subgroupSizes && (
          <>
            <dt>{t('devices.adapter.subgroups')}</dt>
            <dd>{t('devices.adapter.subgroupSizes', adapter.subgroupSizes)}</dd>
          </>
        )}
        <dt>{t('devices.adapter.features')}</dt>
        <dd data-testid="gpu-features">{adapter.features.length > 0 ? adapter.features.join(', ') : t('devices.adapter.noFeatures')}</dd>
      </dl>
      <h3>{t('devices.adapter.limits')}</h3>
      <table className="data" data-testid="gpu-limits">
        <tbody>
          <LimitRows names={computeLimits} limits={adapter.limits} />
        </tbody>
      </table>
      <details>
        <summary>{t('devices.adapter.allLimits', { count: allLimits.length })}</summary>
        <table className="data">
          <tbody>
            <LimitRows names={allLimits} limits={adapter.limits} />
          </tbody>
        </table>
      </details>
    </section>
  )
}

export function DevicesPage() {
  const { t } = useTranslation()
  const engineText = useEngineText()
  const info = useQuery('app.info', {})
  const data = info.data
  return (
    <>
      <PageHeader title={t('devices.title')} intro={t('devices.intro')} />
      {info.loading && !data && <p className="muted">{t('common.loading')}</p>}
      {info.error && <p className="error">{t('common.error', { message: info.error })}</p>}
      {data && (
        <>
          <dl className="facts">
            <dt>{t('devices.active')}</dt>
            <dd data-testid="active-backend">{data.compute.active ?? t('devices.none')}</dd>
            <dt>{t('devices.reason')}</dt>
            <dd>{data.compute.error !== null ? engineText(data.compute.errorText, data.compute.error) : engineText(data.compute.reasonText, data.compute.reason)}</dd>
            {data.compute.device !== null && (
              <>
                <dt>{t('devices.device')}</dt>
                <dd data-testid="compute-device">{data.compute.device}</dd>
                <dt>{t('devices.lastRun')}</dt>
                <dd data-testid="last-run">
                  {data.compute.lastRun
                    ? t('devices.lastRunValue', {
                        run: data.compute.lastRun.run,
                        rate: Math.round(data.compute.lastRun.tokensPerSecond).toLocaleString(),
                        step: data.compute.lastRun.step,
                        at: new Date(data.compute.lastRun.at).toLocaleString(),
                      })
                    : t('devices.noRun')}
                </dd>
                {data.compute.memoryLimit && (
                  <>
                    <dt>{t('devices.memoryLimit')}</dt>
                    <dd data-testid="memory-limit">
                      {t('devices.memoryLimitValue', { mib: Math.round(data.compute.memoryLimit.bytes / 2 ** 20).toLocaleString(), variable: data.compute.memoryLimit.variable })}
                    </dd>
                  </>
                )}
              </>
            )}
          </dl>
          {data.compute.adapter && <AdapterSection adapter={data.compute.adapter} active={data.compute.active} />}
          <h2>{t('devices.tried')}</h2>
          <table className="data" data-testid="backends-table">
            <tbody>
              {data.compute.attempts.map((attempt) => (
                <tr key={attempt.name} className={`backend-${attempt.status}`}>
                  <th scope="row">{attempt.name}</th>
                  <td>
                    <span className={`badge badge-${attempt.status}`}>{t(`devices.status.${attempt.status}`)}</span>
                  </td>
                  <td>{engineText(attempt.detailText, attempt.detail)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>{t('devices.memory', { tensors: data.compute.tensors, bytes: formatBytes(data.compute.bytes) })}</p>
          <p className="muted">{t('devices.app', { version: data.version, node: data.node, platform: data.platform })}</p>
          <p className="muted">{t('devices.database', { path: data.dbPath, schema: data.schemaVersion })}</p>
          <button type="button" onClick={info.reload}>
            {t('devices.refresh')}
          </button>
        </>
      )}
    </>
  )
}
