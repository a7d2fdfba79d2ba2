// Tokenizers trained here carry SentencePiece's nmt_nfkc rules in the model file, so Google's spm_encode, given raw
// text, gives the same ids as kotoba tokenizer encode: full-width letters, half-width katakana, ligatures and all.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { readModelProto } from '../models/tokenizer/model-proto.ts'
import { buildDoubleArray, forEachPrefix } from '../models/tokenizer/normalization/double-array.ts'
import { normalizationRule } from '../models/tokenizer/normalization/rule.ts'
import { writeModelProto } from '../models/tokenizer/model-writer.ts'
import { trainBpe } from '../models/tokenizer/bpe-trainer.ts'
import { en } from '../renderer/src/i18n/en.ts'
import { ja } from '../renderer/src/i18n/ja.ts'
import { engineJa } from '../renderer/src/i18n/engine-ja.ts'
import { parseJsonOutput, repoRoot, runCli, tempDir } from './helpers.ts'

const bible = readFileSync(join(repoRoot, 'main', 'engine', 'sample', 'bible.en-es.tsv'), 'utf8').trimEnd().split('\n').map((line) => line.split('\t') as [string, string])

function strings(tree: unknown): string[] {
  if (typeof tree === 'string') return tree.split('\n').filter((line) => line.trim().length > 0)
  if (tree && typeof tree === 'object') return Object.values(tree).flatMap(strings)
  return []
}

/** ASCII as full-width forms (Ａ, ，, １) and spaces as ideographic spaces: what NFKC folds back. */
const fullWidth = (text: string): string => text.replace(/[!-~]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0)).replaceAll(' ', '\u3000')

function spm(tool: 'spm_encode' | 'spm_normalize', args: string[], lines: string[]): string[] {
  return execFileSync(tool, args, { input: `${lines.join('\n')}\n`, maxBuffer: 1 << 28 }).toString('utf8').replace(/\n$/, '').split('\n')
}

test('the double-array trie finds exactly the keys that prefix a text, as darts-clone’s commonPrefixSearch', () => {
  let seed = 7
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  const keys = new Map<string, number>()
  for (let i = 0; i < 3000; i++) {
    const length = 1 + Math.floor(random() * 6)
    const key = Array.from({ length }, () => 1 + Math.floor(random() * (random() < 0.7 ? 6 : 255))) // dense and sparse branching
    keys.set(key.join(','), i)
  }
  const entries = [...keys].map(([key, value]) => ({ key: Uint8Array.from(key.split(',').map(Number)), value }))
  const units = buildDoubleArray(entries)
  for (let probe = 0; probe < 2000; probe++) {
    const text = Uint8Array.from({ length: 8 }, () => 1 + Math.floor(random() * (random() < 0.7 ? 6 : 255)))
    const expected: [number, number][] = []
    for (let length = 1; length <= text.length; length++) {
      const value = keys.get(Array.from(text.subarray(0, length)).join(','))
      if (value !== undefined) expected.push([value, length])
    }
    const found: [number, number][] = []
    forEachPrefix(units, text, 0, text.length, (value, length) => found.push([value, length]))
    assert.deepEqual(found, expected)
  }
  for (const { key, value } of entries.slice(0, 500)) {
    const found: number[] = []
    forEachPrefix(units, key, 0, key.length, (v, length) => length === key.length && found.push(v))
    assert.deepEqual(found, [value])
  }
})

test('our nmt_nfkc rules, read by spm itself, normalise every character as our normaliser does and as spm’s built-in table', (t) => {
  const rule = normalizationRule('nmt_nfkc')
  const model = join(tempDir(t), 'rules.model')
  writeFileSync(model, writeModelProto(trainBpe(['hello world', 'ｆｏｏ bar'], { vocabSize: 40 })))
  assert.equal(readModelProto(readFileSync(model)).normalization, 'nmt_nfkc')

  // Each character of the BMP and the first supplementary planes between two letters, plus sequences that compose.
  const lines: string[] = []
  for (let cp = 1; cp < 0x30000; cp++) {
    if (cp === 0x0a || cp === 0x0d || (cp >= 0xd800 && cp <= 0xdfff)) continue
    lines.push(`a${String.fromCodePoint(cp)}b`)
  }
  lines.push('\u1100\u1161\u11a8 \u3131\u314f', 'e\u0301 A\u030a', 'ｶﾞｷﾞ ﾊﾟ', '  ＡＢＣ\u3000 ｄｅｆ  ', '\ufb01ne ① ㍻ x²')
  const withOurRules = spm('spm_normalize', [`--model=${model}`], lines)
  const withBuiltIn = spm('spm_normalize', ['--normalization_rule_name=nmt_nfkc'], lines)
  assert.equal(withOurRules.length, lines.length)
  const ours = lines.map((line) => rule.normalizer.normalize(line).replaceAll('\u2581', ' ').trim())
  const mismatches = lines.filter((_, i) => ours[i] !== withOurRules[i])
  assert.deepEqual(mismatches.slice(0, 5), [], 'our normaliser and spm running our compiled rules agree on every line')

  // Where spm's built-in table (older Unicode) differs, it is only on characters that table does not know yet.
  const differing = lines.filter((_, i) => withOurRules[i] !== withBuiltIn[i])
  assert.deepEqual(lines.filter((line, i) => withOurRules[i] !== withBuiltIn[i] && withBuiltIn[i] !== line).slice(0, 5), [])
  assert.ok(differing.length < 400, `${differing.length} characters differ from spm's table`)
  assert.deepEqual(withOurRules.slice(-5), ['각 가', 'é Å', 'ガギ パ', 'ABC def', 'fine 1 平成 x2'])
  // NMT's extras: control characters go, odd spaces become one space, the full-width tilde stays.
  assert.equal(rule.normalizer.normalize('a\u0001b\tc\u200bd\uff5e'), '▁ab▁c▁d～')
})

test('kotoba tokenizer encode and spm_encode give the same ids on raw Japanese, English and Spanish text with full-width characters', (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'kotoba.db')
  const japanese = [...strings(ja), ...strings(engineJa)]
  const english = strings(en)
  const corpusFile = join(dir, 'mixed.txt')
  writeFileSync(corpusFile, `${[...bible.flatMap(([enLine, esLine]) => [enLine, esLine]), ...japanese, ...english].join('\n')}\n`)
  const imported = runCli(['--db', db, '--no-sample', '--json', 'corpus', 'import', corpusFile, '--name', 'mixed', '--format', 'text'])
  assert.equal(imported.status, 0, imported.stderr)

  const probes = [
    ...japanese, // the app's Japanese strings: full-width punctuation and brackets, （）「」、
    ...bible.slice(0, 60).flatMap(([enLine, esLine]) => [enLine, esLine]),
    ...bible.slice(0, 60).flatMap(([enLine, esLine]) => [fullWidth(enLine), fullWidth(esLine)]),
    'ｶﾀｶﾅ と ﾊﾝｶｸ、①②③ ㈱ ㌔ \ufb01nal x² ½ Ⅻ',
    '  leading\tand\u00a0odd\u2003spaces\u200b  ',
  ]
  assert.ok(japanese.length > 300)
  for (const [type, normalization] of [
    ['bpe', 'nmt_nfkc'],
    ['unigram', 'nmt_nfkc'],
    ['bpe', 'identity'],
  ] as const) {
    const name = `${type}-${normalization}`
    const trained = runCli(['--db', db, '--no-sample', '--json', 'tokenizer', 'train', '--corpus', 'mixed', '--name', name, '--type', type, '--vocab-size', '2000', '--normalization', normalization])
    assert.equal(trained.status, 0, trained.stderr)
    assert.equal(parseJsonOutput<{ normalization: string }>(trained).normalization, normalization)
    const encoded = runCli(['--db', db, '--no-sample', '--json', 'tokenizer', 'encode', '--name', name, '--ids'], { input: `${probes.join('\n')}\n` })
    assert.equal(encoded.status, 0, encoded.stderr)
    const workbenchIds = parseJsonOutput<{ ids: number[][] }>(encoded).ids
    const model = join(dir, `${name}.model`)
    assert.equal(runCli(['--db', db, '--no-sample', 'tokenizer', 'export', '--name', name, '--out', model]).status, 0)
    const spmIds = spm('spm_encode', [`--model=${model}`, '--output_format=id'], probes).map((line) => (line === '' ? [] : line.split(' ').map(Number)))
    const agreeing = probes.filter((_, i) => JSON.stringify(spmIds[i]) === JSON.stringify(workbenchIds[i])).length
    assert.equal(agreeing, probes.length, `${name}: ${probes.length - agreeing} of ${probes.length} lines differ`)

    // The rule is really applied: a full-width line encodes as its ASCII original under nmt_nfkc, not under identity.
    const ascii = probes.indexOf(bible[0]![0])
    const wide = probes.indexOf(fullWidth(bible[0]![0]))
    if (normalization === 'nmt_nfkc') assert.deepEqual(workbenchIds[wide], workbenchIds[ascii])
    else assert.notDeepEqual(workbenchIds[wide], workbenchIds[ascii])
  }
})
