// The normalisation rule a trained tokenizer carries in its model file, as spm_train's --normalization_rule_name.
import { compileCharsMap, SpmNormalizer } from './charsmap.ts'
import { buildNmtNfkcRules } from './nmt-nfkc.ts'

/** nmt_nfkc: NFKC plus NMT whitespace rules (spm's default); identity: text is used as it is. */
export type NormalizationName = 'nmt_nfkc' | 'identity'

export interface NormalizationRule {
  name: NormalizationName
  /** The compiled rules (empty for identity), written to NormalizerSpec.precompiled_charsmap. */
  precompiledCharsMap: Uint8Array
  normalizer: SpmNormalizer
}

const built = new Map<NormalizationName, NormalizationRule>()

/** The rule by name; nmt_nfkc is compiled from this runtime's Unicode data once per process (about 2 s), unless
 *  useCompiledRule gave it. */
export function normalizationRule(name: NormalizationName): NormalizationRule {
  let rule = built.get(name)
  if (!rule) {
    const precompiledCharsMap = name === 'identity' ? new Uint8Array(0) : compileCharsMap(buildNmtNfkcRules())
    rule = { name, precompiledCharsMap, normalizer: new SpmNormalizer(precompiledCharsMap) }
    built.set(name, rule)
  }
  return rule
}

/** Uses rules compiled earlier (by normalizationRule in a process with the same Unicode data) instead of compiling
 *  them again. Throws on bytes that do not decode as a charsmap. */
export function useCompiledRule(name: Exclude<NormalizationName, 'identity'>, precompiledCharsMap: Uint8Array): void {
  if (precompiledCharsMap.length === 0) throw new Error(`${name}: empty compiled rules`)
  built.set(name, { name, precompiledCharsMap, normalizer: new SpmNormalizer(precompiledCharsMap) })
}
