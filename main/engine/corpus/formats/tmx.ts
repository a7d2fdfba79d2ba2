// TMX 1.4 translation memories, streamed (sax): one row per <tu> that has both chosen languages.
// Inline markup is flattened: <hi> keeps its text; <bpt>, <ept>, <ph>, <it>, <ut> hold native codes and are dropped.
import sax from 'sax'
import { readTextChunks } from '../lines.ts'
import { CorpusFormatError, skip, type CorpusRecord, type RecordBatch, type SkipCounts } from './record.ts'

const codeElements = new Set(['bpt', 'ept', 'ph', 'it', 'ut'])

export interface TmxLanguages {
  srcLang?: string
  tgtLang?: string
}

/** 'en' matches 'en', 'EN', 'en-US', 'en_GB'. */
function languageMatches(wanted: string, actual: string): boolean {
  const a = wanted.toLowerCase().replace('_', '-')
  const b = actual.toLowerCase().replace('_', '-')
  return a === b || b.startsWith(`${a}-`)
}

export async function* readTmx(file: string, languages: TmxLanguages, skipped: SkipCounts): AsyncGenerator<RecordBatch> {
  const parser = sax.parser(true, { trim: false, normalize: false, position: true })
  const pending: CorpusRecord[] = []
  let sawRoot = false
  let srcLang = languages.srcLang ?? null
  let tgtLang = languages.tgtLang ?? null
  let unit: Map<string, string> | null = null
  let tuvLang: string | null = null
  let segText: string | null = null
  let codeDepth = 0
  let failure: Error | null = null

  const fail = (detail: string): void => {
    failure ??= new CorpusFormatError(file, parser.line + 1, detail)
  }
  parser.onerror = (error) => {
    fail(`malformed XML: ${error.message.split('\n')[0]}`)
    parser.resume()
  }
  parser.onopentag = (tag) => {
    const name = tag.name.toLowerCase()
    if (!sawRoot) {
      if (name !== 'tmx') fail(`expected a <tmx> root element, found <${tag.name}>`)
      sawRoot = true
    }
    if (name === 'header' && srcLang === null) {
      const declared = tag.attributes.srclang
      if (typeof declared === 'string' && declared !== '*all*') srcLang = declared
    } else if (name === 'tu') {
      unit = new Map()
    } else if (name === 'tuv') {
      if (!unit) return fail('<tuv> outside a <tu>')
      const lang = tag.attributes['xml:lang'] ?? tag.attributes.lang
      if (typeof lang !== 'string' || lang.length === 0) return fail('<tuv> without an xml:lang attribute')
      tuvLang = lang
    } else if (name === 'seg') {
      if (tuvLang === null) return fail('<seg> outside a <tuv>')
      segText = ''
    } else if (segText !== null && codeElements.has(name)) {
      codeDepth++
    }
  }
  parser.ontext = (text) => {
    if (segText !== null && codeDepth === 0) segText += text
  }
  parser.oncdata = parser.ontext
  parser.onclosetag = (tagName) => {
    const name = tagName.toLowerCase()
    if (segText !== null && codeElements.has(name)) codeDepth--
    else if (name === 'seg' && unit && tuvLang !== null && segText !== null) {
      if (!unit.has(tuvLang)) unit.set(tuvLang, segText)
      segText = null
    } else if (name === 'tuv') tuvLang = null
    else if (name === 'tu' && unit) {
      const langs = [...unit.keys()]
      srcLang ??= langs[0] ?? null
      if (tgtLang === null && srcLang !== null) tgtLang = langs.find((lang) => !languageMatches(srcLang!, lang)) ?? null
      const src = srcLang === null ? undefined : langs.find((lang) => languageMatches(srcLang!, lang))
      const tgt = tgtLang === null ? undefined : langs.find((lang) => languageMatches(tgtLang!, lang))
      if (src === undefined || tgt === undefined) skip(skipped, 'translation units without both languages')
      else pending.push({ src: unit.get(src)!, tgt: unit.get(tgt)!, turns: null })
      unit = null
    }
  }

  let bytesRead = 0
  for await (const chunk of readTextChunks(file)) {
    bytesRead = chunk.bytesRead
    parser.write(chunk.text)
    if (failure) throw failure
    yield { records: pending.splice(0), bytesRead }
  }
  parser.close()
  if (failure) throw failure
  if (!sawRoot) throw new CorpusFormatError(file, 1, 'expected a <tmx> root element, found no XML')
  yield { records: pending.splice(0), bytesRead }
}

/** The languages a TMX would be imported with, for the corpus record. */
export function tmxLanguageNote(languages: TmxLanguages): string {
  return `${languages.srcLang ?? 'header srclang'} → ${languages.tgtLang ?? 'first other language'}`
}
