// The engine's messages in the UI's language: the key and values it sent, filled from this language's table.
import { useTranslation } from 'react-i18next'
import { engineMessages, formatMessage, type LocalText, type MessageKey } from '../../../main/api/messages.ts'
import { engineJa } from './engine-ja.ts'

const tables: Partial<Record<string, Record<MessageKey, string>>> = { en: engineMessages, ja: engineJa }

/** `text` in the current language; `english` when the engine sent no key (an older engine, or a free-form error). */
export function useEngineText(): (text: LocalText | undefined | null, english: string) => string {
  const { i18n } = useTranslation()
  const table = tables[i18n.language] ?? engineMessages
  return (text, english) => (text ? formatMessage(text, (key) => table[key]) : english)
}
