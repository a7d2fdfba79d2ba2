import { useTranslation } from 'react-i18next'
import { useQuery } from '../api/hooks.ts'
import { PageHeader } from '../components/EmptyState.tsx'
import { formatBytes } from '../format.ts'
import { useEngineText } from '../i18n/engine-text.ts'

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
          </dl>
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
