import i18next from 'i18next'
import { initReactI18next } from 'react-i18next'
import { en } from './en.ts'
import { ja } from './ja.ts'

export const languages = ['en', 'ja'] as const
export type Language = (typeof languages)[number]
const storageKey = 'kotoba.language'

/** The saved choice, else the system language when we have it, else English. */
export function initialLanguage(): Language {
  const saved = localStorage.getItem(storageKey)
  if (saved === 'en' || saved === 'ja') return saved
  return navigator.languages.some((lang) => lang.toLowerCase().startsWith('ja')) ? 'ja' : 'en'
}

export function setLanguage(language: Language): void {
  localStorage.setItem(storageKey, language)
  void i18next.changeLanguage(language)
  document.documentElement.lang = language
}

export async function initI18n(): Promise<void> {
  const lng = initialLanguage()
  document.documentElement.lang = lng
  await i18next.use(initReactI18next).init({
    resources: { en: { translation: en }, ja: { translation: ja } },
    lng,
    fallbackLng: 'en',
    interpolation: { escapeValue: false }, // React escapes
    showSupportNotice: false,
  })
}
