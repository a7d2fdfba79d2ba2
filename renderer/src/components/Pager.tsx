import { useTranslation } from 'react-i18next'

/** Previous / "rows a–b of n" / next, for any paged list. */
export function Pager({ offset, pageSize, total, onOffset }: { offset: number; pageSize: number; total: number; onOffset: (offset: number) => void }) {
  const { t } = useTranslation()
  return (
    <div className="pager">
      <button type="button" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - pageSize))}>
        {t('common.previous')}
      </button>
      <span>{t('common.page', { from: Math.min(total, offset + 1), to: Math.min(total, offset + pageSize), total })}</span>
      <button type="button" disabled={offset + pageSize >= total} onClick={() => onOffset(offset + pageSize)}>
        {t('common.next')}
      </button>
    </div>
  )
}
