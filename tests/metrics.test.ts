// BLEU, chrF and TER against sacreBLEU's published example and hand-computed cases.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { corpusBleu } from '../models/metrics/bleu.ts'
import { corpusChrf } from '../models/metrics/chrf.ts'
import { corpusTer, translationEdits } from '../models/metrics/ter.ts'
import { tokenize13a } from '../models/metrics/tokenize-13a.ts'

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
