// SentencePiece's precompiled character map (NormalizerSpec.precompiled_charsmap) and the normaliser that
// applies it: <trie size, uint32 LE><double-array trie over UTF-8 keys><normalised strings, each ending in \0>.
import { buildDoubleArray, forEachPrefix, type TrieEntry } from './double-array.ts'
import type { CharsMap } from './nmt-nfkc.ts'

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder()
const wordBoundary = '\u2581' // ▁
/** spm's Normalizer answers at most this many rules sharing a prefix. */
const maxSharedPrefixRules = 32

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length)
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/** spm's CompileCharsMap: the rules as the blob spm_encode and sentencepiece-js read. */
export function compileCharsMap(rules: CharsMap): Uint8Array {
  if (rules.size === 0) throw new Error('no normalisation rules to compile')
  const valueOffsets = new Map<string, number>()
  const normalizedParts: Uint8Array[] = []
  let normalizedLength = 0
  for (const value of [...new Set(rules.values())].sort()) {
    valueOffsets.set(value, normalizedLength)
    const bytes = utf8.encode(`${value}\0`)
    normalizedParts.push(bytes)
    normalizedLength += bytes.length
  }
  const entries: TrieEntry[] = [...rules].map(([key, value]) => ({ key: utf8.encode(key), value: valueOffsets.get(value)! }))
  entries.sort((a, b) => compareBytes(a.key, b.key))
  const units = buildDoubleArray(entries)
  for (const { key } of entries) {
    let shared = 0
    forEachPrefix(units, key, 0, key.length, () => shared++)
    if (shared >= maxSharedPrefixRules) throw new Error(`more than ${maxSharedPrefixRules - 1} normalisation rules share a prefix`)
  }
  const blob = new Uint8Array(4 + units.byteLength + normalizedLength)
  const view = new DataView(blob.buffer)
  view.setUint32(0, units.byteLength, true)
  for (let i = 0; i < units.length; i++) view.setUint32(4 + 4 * i, units[i]!, true)
  let at = 4 + units.byteLength
  for (const part of normalizedParts) {
    blob.set(part, at)
    at += part.length
  }
  return blob
}

interface DecodedCharsMap {
  units: Uint32Array
  normalized: Uint8Array
}

function decodeCharsMap(blob: Uint8Array): DecodedCharsMap {
  if (blob.length <= 4) throw new Error('the normalisation rules (precompiled_charsmap) are broken: too short')
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  const trieBytes = view.getUint32(0, true)
  if (trieBytes >= blob.length || trieBytes % 4 !== 0) throw new Error('the normalisation rules (precompiled_charsmap) are broken: bad trie size')
  const units = new Uint32Array(trieBytes / 4)
  for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + 4 * i, true)
  return { units, normalized: blob.subarray(4 + trieBytes) }
}

/** UTF-8 length of the character starting with `lead` (1 for a stray continuation byte). */
function utf8Length(lead: number): number {
  if (lead < 0x80) return 1
  if (lead >= 0xf0) return 4
  if (lead >= 0xe0) return 3
  if (lead >= 0xc0) return 2
  return 1
}

/**
 * spm's Normalizer with the default flags (add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces):
 * rules rewrite the longest matching prefix, runs of spaces collapse, and each word starts with ▁.
 * Without a map it only does the whitespace part (the identity rule).
 */
export class SpmNormalizer {
  private readonly map: DecodedCharsMap | undefined
  private readonly replacements = new Map<number, string>()

  /** ASCII bytes no rule starts with, short of a non-ASCII byte after them (a combining mark): copied as they are. */
  private readonly inertAscii = new Uint8Array(0x80)

  constructor(precompiledCharsMap?: Uint8Array) {
    this.map = precompiledCharsMap && precompiledCharsMap.length > 0 ? decodeCharsMap(precompiledCharsMap) : undefined
    const units = this.map?.units
    for (let byte = 1; byte < 0x80; byte++) {
      if (!units) {
        this.inertAscii[byte] = 1
        continue
      }
      const position = (units[0]! >>> 10) ^ byte
      const unit = units[position]
      if (unit === undefined || (unit & 0x800000ff) !== byte) this.inertAscii[byte] = 1 // no rule starts with it
      else if (!(unit & 0x100)) {
        const base = position ^ ((unit >>> 10) << ((unit & 0x200) >>> 6))
        let asciiFollows = false
        for (let next = 1; next < 0x80 && !asciiFollows; next++) asciiFollows = ((units[base ^ next] ?? 0) & 0x800000ff) === next
        if (!asciiFollows) this.inertAscii[byte] = 1
      }
    }
  }

  private replacement(offset: number): string {
    let text = this.replacements.get(offset)
    if (text === undefined) {
      const normalized = this.map!.normalized
      let end = offset
      while (end < normalized.length && normalized[end] !== 0) end++
      text = utf8Decoder.decode(normalized.subarray(offset, end))
      this.replacements.set(offset, text)
    }
    return text
  }

  // What `step` matched: input bytes and UTF-16 units consumed.
  private stepBytes = 0
  private stepUnits = 0

  /** The rule at byteAt (longest key wins) or the character itself: its output; sets stepBytes and stepUnits. */
  private step(text: string, bytes: Uint8Array, byteAt: number, charAt: number): string {
    const first = bytes[byteAt]!
    if (first < 0x80 && this.inertAscii[first] === 1 && !(bytes[byteAt + 1]! >= 0x80)) {
      this.stepBytes = 1
      this.stepUnits = 1
      return text[charAt]!
    }
    const units = this.map?.units
    if (units) {
      let position = units[0]! >>> 10 // the root's offset (small: never the shifted form)
      let length = 0
      let value = 0
      for (let i = byteAt; i < bytes.length; i++) {
        const byte = bytes[i]!
        position ^= byte
        const unit = units[position]
        if (unit === undefined || (unit & 0x800000ff) !== byte) break
        position ^= (unit >>> 10) << ((unit & 0x200) >>> 6)
        if (unit & 0x100) {
          length = i + 1 - byteAt
          value = units[position]! & 0x7fffffff
        }
      }
      if (length > 0) {
        let consumedUnits = 0
        for (let consumed = 0; consumed < length; ) {
          const cp = text.codePointAt(charAt + consumedUnits)!
          consumed += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4
          consumedUnits += cp > 0xffff ? 2 : 1
        }
        this.stepBytes = length
        this.stepUnits = consumedUnits
        return this.replacement(value)
      }
    }
    this.stepBytes = utf8Length(bytes[byteAt]!)
    this.stepUnits = text.codePointAt(charAt)! > 0xffff ? 2 : 1
    return this.stepUnits === 1 ? text[charAt]! : text.slice(charAt, charAt + 2)
  }

  /** The text as spm's encoder sees it: '  Ｈｉ  there ' → '▁Hi▁there'. */
  normalize(text: string): string {
    const bytes = utf8.encode(text)
    let byteAt = 0
    let charAt = 0 // index into `text` matching byteAt
    while (byteAt < bytes.length) {
      if (this.step(text, bytes, byteAt, charAt) !== ' ') break
      byteAt += this.stepBytes
      charAt += this.stepUnits
    }
    if (byteAt >= bytes.length) return ''
    let out = wordBoundary
    let previousIsSpace = true
    while (byteAt < bytes.length) {
      let output = this.step(text, bytes, byteAt, charAt)
      byteAt += this.stepBytes
      charAt += this.stepUnits
      if (output === ' ') {
        if (!previousIsSpace) out += wordBoundary
        previousIsSpace = true
        continue
      }
      if (previousIsSpace && output.startsWith(' ')) output = output.replace(/^ +/, '')
      if (output.length > 0) {
        out += output.length > 1 && output.includes(' ') ? output.replaceAll(' ', wordBoundary) : output
        previousIsSpace = output.endsWith(' ')
      }
    }
    let end = out.length
    while (end > 0 && out[end - 1] === wordBoundary) end--
    return out.slice(0, end)
  }
}
