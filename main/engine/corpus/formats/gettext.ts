// gettext catalogues (.po text and compiled .mo): msgid → msgstr; plural entries give one row per form
// (msgid → msgstr[0], msgid_plural → msgstr[1]); fuzzy, untranslated and obsolete entries and the header are skipped.
import { readFile } from 'node:fs/promises'
import gettextParser, { type GetTextTranslations } from 'gettext-parser'
import { CorpusByteError, CorpusFormatError, skip, type CorpusRecord, type RecordBatch, type SkipCounts } from './record.ts'

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
    checkMoLayout(file, bytes, magic === moMagic[0])
    try {
      catalogue = gettextParser.mo.parse(bytes)
    } catch (error) {
      throw new CorpusByteError(file, 0, `corrupt catalogue: ${(error as Error).message}`)
    }
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

/** The .mo header and both string tables (N pairs of length and offset) must lie inside the file, and so must every
 *  string they point to: a cut-short file is reported as truncated, with where, before the parser reads past its end. */
function checkMoLayout(file: string, bytes: Buffer, littleEndian: boolean): void {
  const word = (offset: number) => (littleEndian ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset))
  const headerBytes = 20
  if (bytes.length < headerBytes) throw new CorpusByteError(file, bytes.length, `truncated: the file ends inside its ${headerBytes}-byte header`)
  const count = word(8)
  for (const [table, name] of [[word(12), 'original'], [word(16), 'translation']] as const) {
    if (table + count * 8 > bytes.length) throw new CorpusByteError(file, bytes.length, `truncated: the ${name} string table (${count} entries at byte ${table}) runs past the end of the file`)
    for (let i = 0; i < count; i++) {
      const [length, offset] = [word(table + i * 8), word(table + i * 8 + 4)]
      if (offset + length > bytes.length) throw new CorpusByteError(file, table + i * 8, `truncated: ${name} string ${i + 1} of ${count} (${length} bytes at byte ${offset}) runs past the end of the file (${bytes.length} bytes)`)
    }
  }
}

/** .mo files start with the gettext magic number. */
export function isMoFile(head: Uint8Array): boolean {
  if (head.length < 4) return false
  const magic = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true)
  return moMagic.includes(magic)
}
