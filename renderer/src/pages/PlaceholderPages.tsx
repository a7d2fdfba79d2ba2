// Pages whose features arrive with later work: each says what the user needs first.
import { useTranslation } from 'react-i18next'
import { EmptyState, PageHeader } from '../components/EmptyState.tsx'

function Simple({ section }: { section: 'embeddings' }) {
  const { t } = useTranslation()
  return (
    <>
      <PageHeader title={t(`${section}.title`)} intro={t(`${section}.intro`)} />
      <EmptyState message={t(`${section}.empty`)} />
    </>
  )
}

export const EmbeddingsPage = () => <Simple section="embeddings" />
