import { useTranslation } from 'react-i18next'
import { useQuery } from '../api/hooks.ts'
import { EmptyState, PageHeader } from '../components/EmptyState.tsx'

export function TrainingPage() {
  const { t } = useTranslation()
  const runs = useQuery('runs.list', {})
  return (
    <>
      <PageHeader title={t('training.title')} intro={t('training.intro')} />
      {runs.error && <p className="error">{t('common.error', { message: runs.error })}</p>}
      {runs.data && runs.data.length === 0 && <EmptyState message={t('training.empty')} />}
      {runs.data && runs.data.length > 0 && (
        <table className="data">
          <thead>
            <tr>
              <th>{t('training.columns.name')}</th>
              <th>{t('training.columns.model')}</th>
              <th>{t('training.columns.status')}</th>
              <th className="num">{t('training.columns.step')}</th>
              <th>{t('training.columns.updated')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.data.map((run) => (
              <tr key={run.id}>
                <td>{run.name}</td>
                <td>{run.model}</td>
                <td>{run.status}</td>
                <td className="num">{run.step}</td>
                <td>{new Date(run.updatedAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}
