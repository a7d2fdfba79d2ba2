export type Theme = 'system' | 'light' | 'dark'
const storageKey = 'kotoba.theme'

export function initialTheme(): Theme {
  const saved = localStorage.getItem(storageKey)
  return saved === 'light' || saved === 'dark' ? saved : 'system'
}

/** Sets data-theme on <html>; "system" follows prefers-color-scheme through CSS. */
export function applyTheme(theme: Theme): void {
  localStorage.setItem(storageKey, theme)
  if (theme === 'system') delete document.documentElement.dataset.theme
  else document.documentElement.dataset.theme = theme
}
