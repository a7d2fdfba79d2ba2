// BLEU, chrF and TER against sacreBLEU's published example and hand-computed cases.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { corpusBleu } from '../models/metrics/bleu.ts'
import { corpusChrf } from '../models/metrics/chrf.ts'
import { corpusTer, translationEdits } from '../models/metrics/ter.ts'
import { tokenize13a } from '../models/metrics/tokenize-13a.ts'
import { dialogueScores, distinctN } from '../models/metrics/dialogue.ts'
import { pairedBootstrap, sampledMetrics } from '../models/metrics/paired-bootstrap.ts'

// The sacreBLEU 2.0 README example (the project's shared data script reference-metrics.sh checks the same numbers; the test reads nothing outside the repository).
const references = [
  ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'],
  ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'],
]
const hypotheses = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.']

test('BLEU equals sacreBLEU on its README example: 48.53 (82.4/50.0/45.5/37.5, BP 0.943, 17/18)', () => {
  const bleu = corpusBleu(hypotheses, references)
  assert.equal(bleu.score.toFixed(2), '48.53')
  assert.deepEqual(bleu.precisions.map((p) => p.toFixed(1)), ['82.4', '50.0', '45.5', '37.5'])
  assert.equal(bleu.brevityPenalty.toFixed(3), '0.943')
  assert.equal(bleu.hypLength, 17)
  assert.equal(bleu.refLength, 18)
  assert.equal(bleu.signature, 'nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.0.0')
})

test('chrF equals sacreBLEU on its README example: 59.73', () => {
  const chrf = corpusChrf(hypotheses, references)
  assert.equal(chrf.score.toFixed(2), '59.73')
  assert.equal(chrf.signature, 'nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.0.0')
})

test('13a tokenisation splits punctuation but keeps numbers whole', () => {
  assert.equal(tokenize13a('Hello, world! It costs 1,000.50 dollars (approx.) -- 3-4 days.'), 'Hello , world ! It costs 1,000.50 dollars ( approx . ) -- 3 - 4 days .')
  assert.equal(tokenize13a('a &amp; b &quot;c&quot;'), 'a & b " c "')
})

test('BLEU edge cases: identical text scores 100, an empty hypothesis and a text without matches score 0', () => {
  assert.ok(Math.abs(corpusBleu(['the cat sat on the mat'], [['the cat sat on the mat']]).score - 100) < 1e-9)
  const empty = corpusBleu([''], [['the cat sat on the mat']])
  assert.equal(empty.score, 0)
  assert.equal(empty.brevityPenalty, 0)
  assert.equal(corpusBleu(['dogs bark loudly'], [['the cat sat on the mat']]).score, 0)
  // Unigram matches only: orders 2–4 are smoothed (1/2, 1/4, 1/8 of a count), so the score is small but not 0.
  const unigrams = corpusBleu(['mat the on sat cat the'], [['the cat sat on the mat']])
  const expected = Math.exp((Math.log(100) + Math.log(100 / (2 * 5)) + Math.log(100 / (4 * 4)) + Math.log(100 / (8 * 3))) / 4)
  assert.ok(Math.abs(unigrams.score - expected) < 1e-9, `${unigrams.score} vs ${expected}`)
})

test('chrF edge cases: identical text scores 100, empty or disjoint hypotheses score 0', () => {
  assert.equal(corpusChrf(['abc def'], [['abc def']]).score, 100)
  assert.equal(corpusChrf([''], [['abc def']]).score, 0)
  assert.ok(corpusChrf(['xyz'], [['abc']]).score < 1e-10) // sacreBLEU's ε terms leave ~1e-14, not exactly 0
})

test('TER counts word edits and block shifts over the average reference length (lowercased, punctuation kept)', () => {
  assert.equal(translationEdits(['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd']), 0)
  assert.equal(translationEdits(['a', 'x', 'c'], ['a', 'b', 'c']), 1) // one substitution
  assert.equal(translationEdits(['a', 'b'], ['a', 'b', 'c']), 1) // one insertion
  assert.equal(translationEdits(['c', 'd', 'a', 'b'], ['a', 'b', 'c', 'd']), 1) // one shift of a two-word block
  assert.equal(translationEdits(['x', 'y'], []), 2)
  assert.equal(corpusTer(['The Cat'], [['the cat']]).score, 0)
  // README example, by hand: 0 edits (ref 5 or 6 words), 3 (4 words each), 3 (5 or 6 words) → 6 / 15.
  const ter = corpusTer(hypotheses, references)
  assert.equal(ter.edits, 6)
  assert.equal(ter.refLength, 15)
  assert.equal(ter.score, 40)
  assert.equal(ter.signature, 'nrefs:2|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.0.0')
  assert.equal(corpusTer([''], [['']]).score, 0)
  assert.equal(corpusTer(['a'], [['']]).score, 100)
})

test('paired bootstrap (Koehn 2004): whole-set scores equal the corpus metrics; a system better on every sentence is significant, a system against itself is not', () => {
  const references = ['the cat sat on the mat .', 'a dog ran home', 'it is raining today', 'we ate bread and cheese', 'the sun is up', 'he reads a book', 'she sings well', 'they play chess']
  const weak = ['the cat sat', 'a cat ran', 'it rains', 'we ate', 'sun up', 'he reads', 'she sings', 'they play']
  const strong = references.map((r, i) => (i % 2 === 0 ? r : r.split(' ').slice(0, -1).join(' ')))
  const [weakMetrics, strongMetrics] = [sampledMetrics(weak, references, true), sampledMetrics(strong, references, true)]
  const all = references.map((_, i) => i)
  // The sufficient statistics give back the corpus scores (the same arithmetic as sacreBLEU's corpus metrics).
  assert.equal(strongMetrics.bleu!(all), corpusBleu(strong, [references]).score)
  assert.equal(strongMetrics.chrf!(all), corpusChrf(strong, [references]).score)
  assert.equal(strongMetrics.ter!(all), corpusTer(strong, [references]).score)
  assert.equal(strongMetrics.distinct2!(all), distinctN(strong, 2).inter)
  assert.ok(Math.abs(strongMetrics.f1!(all) - 100 * dialogueScores(strong, references).f1) < 1e-9)
  const compared = pairedBootstrap(references.length, weakMetrics, strongMetrics, { resamples: 500, seed: 3 })
  assert.deepEqual(compared.map((m) => m.metric), ['bleu', 'chrf', 'ter', 'f1', 'distinct1', 'distinct2', 'length'])
  for (const metric of ['bleu', 'chrf', 'f1']) {
    const m = compared.find((c) => c.metric === metric)!
    assert.ok(m.difference > 0 && m.low > 0 && m.low <= m.difference && m.difference <= m.high && m.pValue < 0.01, JSON.stringify(m))
  }
  const ter = compared.find((c) => c.metric === 'ter')!
  assert.ok(ter.difference < 0 && ter.high < 0, `fewer edits: ${JSON.stringify(ter)}`)
  assert.deepEqual(pairedBootstrap(references.length, weakMetrics, strongMetrics, { resamples: 500, seed: 3 }), compared, 'the same seed, the same resamples')
  for (const m of pairedBootstrap(references.length, weakMetrics, weakMetrics, { resamples: 200, seed: 1 })) {
    assert.ok(m.difference === 0 && m.low === 0 && m.high === 0 && m.pValue === 1, JSON.stringify(m))
  }
  // One sentence better and one worse: no significant difference in F1.
  const mixed = weak.map((w, i) => (i === 0 ? references[0]! : i === 1 ? 'nothing alike' : w))
  const f1 = pairedBootstrap(references.length, weakMetrics, sampledMetrics(mixed, references, true), { resamples: 500, seed: 2 }).find((m) => m.metric === 'f1')!
  assert.ok(f1.low < 0 && f1.high > 0 && f1.pValue > 0.05, JSON.stringify(f1))
})
