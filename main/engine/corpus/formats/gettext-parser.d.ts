// The part of gettext-parser (which ships no types) that the importer uses.
declare module 'gettext-parser' {
  export interface GetTextTranslation {
    msgctxt?: string
    msgid: string
    msgid_plural?: string
    msgstr: string[]
    comments?: { flag?: string; translator?: string; extracted?: string; reference?: string; previous?: string }
  }
  export interface GetTextTranslations {
    charset: string
    headers: Record<string, string>
    translations: Record<string, Record<string, GetTextTranslation>>
    obsolete?: Record<string, Record<string, GetTextTranslation>>
  }
  export const po: { parse(input: string | Buffer, options?: { defaultCharset?: string; validation?: boolean }): GetTextTranslations }
  export const mo: { parse(input: Buffer, defaultCharset?: string): GetTextTranslations }
}
