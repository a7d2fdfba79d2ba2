// The engine's messages: English filled from the one table (nested messages included), and a Japanese table
// that keeps every placeholder of its English original (a translation that drops {{name}} would lose the name).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { engineMessages, english, formatMessage, LocalText, message, threadCount, type MessageKey } from '../main/api/messages.ts'
import { engineJa } from '../renderer/src/i18n/engine-ja.ts'

const placeholders = (template: string) => [...template.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort()

test('English messages fill their values, nested messages first', () => {
  const wasm = message('wasm', { simd: message('simdOn'), threads: threadCount(2), note: '', products: message('withFusedMultiplyAdd', { threads: threadCount(1) }) })
  assert.equal(english(wasm), 'WebAssembly, SIMD on, 2 threads, matrix products on 1 thread with fused multiply-add')
  assert.equal(english(message('jobTokenizer', { type: 'bpe', name: 'b', vocabSize: 300, corpus: 'c' })), 'Train bpe tokenizer b (300) on c')
  // A missing value stays visible rather than vanishing.
  assert.equal(english(message('jobTrain')), 'Train {{name}}')
  // Messages travel as JSON and are checked at the boundary.
  assert.deepEqual(LocalText.parse(JSON.parse(JSON.stringify(wasm))), wasm)
  assert.equal(LocalText.safeParse({ key: 'no-such-message' }).success, false)
})

test('the Japanese table has every message, with the same placeholders', () => {
  for (const key of Object.keys(engineMessages) as MessageKey[]) {
    assert.ok(engineJa[key].length > 0, key)
    assert.deepEqual(placeholders(engineJa[key]), placeholders(engineMessages[key]), `placeholders of ${key}`)
  }
  const forced = message('forcedUnusable', { name: 'tensorflow', detail: message('notInstalled', { module: '@tensorflow/tfjs-node', why: message('whyLibtensorflow') }) })
  const japanese = formatMessage(forced, (key) => engineJa[key])
  assert.match(japanese, /^指定されたバックエンド「tensorflow」はここでは使えません：@tensorflow\/tfjs-node：未インストール（任意の依存パッケージ。/)
  assert.doesNotMatch(japanese, /\{\{/)
})
