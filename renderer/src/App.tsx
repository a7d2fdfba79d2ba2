import { useEffect, useRef, useState, type KeyboardEvent, type ReactElement } from 'react'
import { useTranslation } from 'react-i18next'
import type { ConnectionState } from './api/client.ts'
import { JobsTray } from './components/JobsTray.tsx'
import { languages, setLanguage, type Language } from './i18n/index.ts'
import { CorporaPage } from './pages/CorporaPage.tsx'
import { DevicesPage } from './pages/DevicesPage.tsx'
import { ChatPage } from './pages/ChatPage.tsx'
import { EmbeddingsPage } from './pages/EmbeddingsPage.tsx'
import { TranslatePage } from './pages/TranslatePage.tsx'
import { TokenizersPage } from './pages/TokenizersPage.tsx'
import { TrainingPage } from './pages/TrainingPage.tsx'
import { applyTheme, initialTheme, type Theme } from './theme.ts'

const pages = [
  { id: 'corpora', Page: CorporaPage },
  { id: 'tokenizers', Page: TokenizersPage },
  { id: 'embeddings', Page: EmbeddingsPage },
  { id: 'training', Page: TrainingPage },
  { id: 'translate', Page: TranslatePage },
  { id: 'chat', Page: ChatPage },
  { id: 'devices', Page: DevicesPage },
] as const satisfies readonly { id: string; Page: () => ReactElement }[]
type PageId = (typeof pages)[number]['id']

function pageFromHash(): PageId {
  const id = window.location.hash.replace(/^#\/?/, '')
  return pages.find((page) => page.id === id)?.id ?? 'corpora'
}

export function App({ connection }: { connection: ConnectionState }) {
  const { t, i18n } = useTranslation()
  const [page, setPage] = useState<PageId>(pageFromHash)
  const [theme, setTheme] = useState<Theme>(initialTheme)
  const navRefs = useRef<(HTMLAnchorElement | null)[]>([])

  useEffect(() => applyTheme(theme), [theme])
  useEffect(() => {
    const onHash = () => setPage(pageFromHash())
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [])
  useEffect(() => {
    document.title = `${t(`nav.${page}`)} · ${t('app.title')}`
    document.getElementById('page-title')?.focus()
  }, [page, t])
  // Alt+1…7 jumps to a page from anywhere.
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return
      const index = Number(event.key) - 1
      const target = pages[index]
      if (target) {
        event.preventDefault()
        window.location.hash = `#/${target.id}`
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])
  // Arrow keys move between navigation entries (roving focus).
  const onNavKey = (event: KeyboardEvent<HTMLElement>, index: number) => {
    const delta = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0
    const to = event.key === 'Home' ? 0 : event.key === 'End' ? pages.length - 1 : (index + delta + pages.length) % pages.length
    if (delta !== 0 || event.key === 'Home' || event.key === 'End') {
      event.preventDefault()
      navRefs.current[to]?.focus()
    }
  }
  const Current = pages.find((p) => p.id === page)!.Page
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t('app.skipToContent')}
      </a>
      <nav className="sidebar" aria-label={t('app.title')}>
        <div className="brand">{t('app.title')}</div>
        <ul>
          {pages.map((entry, index) => (
            <li key={entry.id}>
              <a
                ref={(el) => {
                  navRefs.current[index] = el
                }}
                href={`#/${entry.id}`}
                aria-current={entry.id === page ? 'page' : undefined}
                aria-keyshortcuts={`Alt+${index + 1}`}
                data-testid={`nav-${entry.id}`}
                onKeyDown={(event) => onNavKey(event, index)}
              >
                <span>{t(`nav.${entry.id}`)}</span>
                <kbd>{t('nav.shortcut', { key: index + 1 })}</kbd>
              </a>
            </li>
          ))}
        </ul>
        <div className="preferences">
          <label>
            {t('settings.theme')}
            <select value={theme} onChange={(e) => setTheme(e.target.value as Theme)} data-testid="theme-select">
              <option value="system">{t('settings.system')}</option>
              <option value="light">{t('settings.light')}</option>
              <option value="dark">{t('settings.dark')}</option>
            </select>
          </label>
          <label>
            {t('settings.language')}
            <select value={i18n.language} onChange={(e) => setLanguage(e.target.value as Language)} data-testid="language-select">
              {languages.map((lang) => (
                <option key={lang} value={lang}>
                  {lang === 'en' ? 'English' : '日本語'}
                </option>
              ))}
            </select>
          </label>
        </div>
      </nav>
      <main id="main" className="content" data-page={page}>
        {connection !== 'open' && (
          <p className="banner" role="status">
            {t(`app.connection.${connection}`)}
          </p>
        )}
        <Current />
      </main>
      <JobsTray />
    </div>
  )
}
