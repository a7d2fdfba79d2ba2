// gettext catalogues (.po text and compiled .mo): msgid → msgstr; plural entries give one row per form
// (msgid → msgstr[0], msgid_plural → msgstr[1]); fuzzy, untranslated and obsolete entries and the header are skipped.
import { readFile } from 'node:fs/promises'
import gettextParser, { type GetTextTranslations } from 'gettext-parser'
import { CorpusFormatError, skip, type CorpusRecord, type RecordBatch, type SkipCounts } from './record.ts'

const moMagic = [0x950412de, 0xde120495]

function rows(catalogue: GetTextTranslations, skipped: SkipCounts): CorpusRecord[] {
  const records: CorpusRecord[] = []
  for (const context of Object.values(catalogue.translations)) {
    for (const entry of Object.values(context)) {
      if (entry.msgid === '') continue // the header entry
      if (entry.comments?.flag?.split(/,\s*/).includes('fuzzy')) skip(skipped, 'fuzzy entries')
      else if (entry.msgstr.every((s) => s.length === 0)) skip(skipped, 'untranslated entries')
      else {
        records.push({ src: entry.msgid, tgt: entry.msgstr[0] ?? '', turns: null })
        if (entry.msgid_plural && entry.msgstr[1]) records.push({ src: entry.msgid_plural, tgt: entry.msgstr[1], turns: null })
      }
    }
  }
  // gettext-parser keeps obsolete (#~) entries apart from the live ones.
  const obsolete = Object.values(catalogue.obsolete ?? {}).reduce((count, context) => count + Object.keys(context).length, 0)
  if (obsolete > 0) skipped['obsolete entries'] = obsolete
  return records
}

export async function* readGettext(format: 'po' | 'mo', file: string, skipped: SkipCounts): AsyncGenerator<RecordBatch> {
  const bytes = await readFile(file)
  let catalogue: GetTextTranslations
  if (format === 'mo') {
    const magic = bytes.length >= 4 ? bytes.readUInt32LE(0) : 0
    if (!moMagic.includes(magic)) throw new CorpusFormatError(file, 1, 'not a compiled gettext catalogue (bad magic number)')
    catalogue = gettextParser.mo.parse(bytes)
  } else {
    try {
      catalogue = gettextParser.po.parse(bytes, { validation: true })
    } catch (error) {
      const message = (error as Error).message.replace(/^Error parsing PO data: /, '')
      const found = /at line (\d+)/.exec(message)
      // The parser counts the newline that ends an unterminated string before it reports it.
      const line = found ? Number(found[1]) - (message.startsWith('End-of-line') ? 1 : 0) : 1
      throw new CorpusFormatError(file, line, message.replace(/ at line \d+/, ''))
    }
  }
  yield { records: rows(catalogue, skipped), bytesRead: bytes.length }
}

/** .mo files start with the gettext magic number. */
export function isMoFile(head: Uint8Array): boolean {
  if (head.length < 4) return false
  const magic = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true)
  return moMagic.includes(magic)
}
