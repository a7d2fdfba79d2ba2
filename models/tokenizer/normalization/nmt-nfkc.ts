// SentencePiece's default normalisation rule, nmt_nfkc, built from this runtime's Unicode data the way
// spm's normalizer::Builder does (BuildNFKCMap, BuildNmtNFKCMap, RemoveRedundantMap): NFKC as rewrite
// rules from character sequences to their normal form, plus NMT's whitespace and control-character rules.

/** Rules keyed and valued by strings of code points; a value may be empty (the key is deleted). */
export type CharsMap = Map<string, string>

const maxCodePoint = 0x10ffff

function isUnicodeCharacter(cp: number): boolean {
  if (cp >= 0xd800 && cp <= 0xdfff) return false // surrogates
  if (cp >= 0xfdd0 && cp <= 0xfdef) return false // noncharacters
  return (cp & 0xfffe) !== 0xfffe
}

/** Rewrites `text` with `rules`, longest key first (at most `maxLength` code points), one character at a time otherwise. */
export function applyRules(rules: CharsMap, text: string, maxLength: number): string {
  const chars = Array.from(text)
  let out = ''
  for (let i = 0; i < chars.length; ) {
    let matched = 0
    for (let length = Math.min(maxLength, chars.length - i); length > 0 && matched === 0; length--) {
      const replacement = rules.get(chars.slice(i, i + length).join(''))
      if (replacement !== undefined) {
        out += replacement
        matched = length
      }
    }
    if (matched === 0) {
      out += chars[i]
      matched = 1
    }
    i += matched
  }
  return out
}

/** Every sequence of characters whose NFKD is `nfkd`, from each normal character's unnormalised forms. */
function expandUnnormalized(nfkd: number[], normalToOriginal: Map<number, number[]>): string[] {
  let results = [''] // strings of code points
  for (const cp of nfkd) {
    const originals = [cp, ...(normalToOriginal.get(cp) ?? [])] // a fully decomposed character is its own original too
    results = results.flatMap((prefix) => originals.map((original) => prefix + String.fromCodePoint(original)))
  }
  return results
}

/** Drops rules that the shorter rules already imply (spm's RemoveRedundantMap), and checks none is lost. */
function removeRedundant(rules: CharsMap): CharsMap {
  const kept: CharsMap = new Map()
  let maxLength = 0
  const byLength = new Map<number, [string, string][]>()
  for (const [key, value] of rules) {
    const length = Array.from(key).length
    maxLength = Math.max(maxLength, length)
    if (length === 1) kept.set(key, value)
    else {
      const list = byLength.get(length)
      if (list) list.push([key, value])
      else byLength.set(length, [[key, value]])
    }
  }
  for (let length = 2; length <= maxLength; length++) {
    for (const [key, value] of byLength.get(length) ?? []) if (applyRules(kept, key, length - 1) !== value) kept.set(key, value)
  }
  for (const [key, value] of rules) {
    if (applyRules(kept, key, maxLength) !== value) throw new Error(`normalisation rule for '${key}' is lost when redundant rules are removed`)
  }
  return kept
}

const blockSize = 256

/** Whether any character in [start, start + 256) decomposes: one NFKD call over the block, each character after a
 *  separator (a starter that never combines), so that no reordering of marks reaches across characters. */
function blockDecomposes(start: number): boolean {
  let block = ''
  for (let cp = start; cp < start + blockSize; cp++) if (isUnicodeCharacter(cp)) block += `\u0001${String.fromCodePoint(cp)}`
  return block.normalize('NFKD') !== block
}

/** NFKC as rules (spm's BuildNFKCMap). */
export function buildNfkcRules(): CharsMap {
  const rules: CharsMap = new Map()
  const normalToOriginal = new Map<number, number[]>() // a fully decomposed character ← the other characters decomposing to it alone
  const decomposed = new Map<string, number[]>() // multi-character NFKD forms
  for (let cp = 1; cp <= maxCodePoint; cp++) {
    if (cp % blockSize === 0 && !blockDecomposes(cp)) {
      cp += blockSize - 1 // nothing here changes under NFKD (and so neither under NFKC)
      continue
    }
    if (!isUnicodeCharacter(cp)) continue
    const char = String.fromCodePoint(cp)
    const nfkd = char.normalize('NFKD')
    // Most characters have no decomposition, and then NFKC leaves them alone too.
    if (nfkd !== char) {
      const nfkc = char.normalize('NFKC')
      if (nfkc !== char) rules.set(char, nfkc)
    }
    const nfkdCodePoints = Array.from(nfkd, (c) => c.codePointAt(0)!)
    if (nfkdCodePoints.length === 1) {
      if (nfkdCodePoints[0] === cp) continue // itself: expandUnnormalized adds it
      const list = normalToOriginal.get(nfkdCodePoints[0]!)
      if (list) list.push(cp)
      else normalToOriginal.set(nfkdCodePoints[0]!, [cp])
    } else decomposed.set(nfkd, nfkdCodePoints)
  }
  // Sequences that compose: e + U+0301 → é, and every spelling of it from compatibility characters.
  for (const [nfkd, codePoints] of decomposed) {
    const composed = nfkd.normalize('NFC')
    if (composed === nfkd) continue
    for (const original of expandUnnormalized(codePoints, normalToOriginal)) if (original !== composed) rules.set(original, composed)
  }
  return removeRedundant(rules)
}

/** nmt_nfkc: NFKC, with NMT's extra whitespace and control characters (spm's BuildNmtNFKCMap). */
export function buildNmtNfkcRules(): CharsMap {
  const rules = buildNfkcRules()
  // Other code points treated as whitespace.
  for (const cp of [0x09, 0x0a, 0x0c, 0x0d, 0x1680, 0x200b, 0x200c, 0x200e, 0x200f, 0x2028, 0x2029, 0x2581, 0xfeff, 0xfffd]) {
    rules.set(String.fromCodePoint(cp), ' ')
  }
  // ASCII and C1 control characters are removed.
  for (const cp of [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0b, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x7f, 0x8f, 0x9f]) {
    rules.set(String.fromCodePoint(cp), '')
  }
  // The full-width tilde stays: Japanese uses it apart from the ASCII one.
  rules.delete('\uff5e')
  return removeRedundant(rules)
}
