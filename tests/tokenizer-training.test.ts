// BPE and unigram tokenizers we train load in sentencepiece-js and in Google's spm_encode and give both the same pieces and ids.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { SentencePieceProcessor } from '@sctg/sentencepiece-js'
import { Random } from '../models/core/random.ts'
import { trainBpe } from '../models/tokenizer/bpe-trainer.ts'
import { trainUnigram } from '../models/tokenizer/unigram-trainer.ts'
import { readModelProto } from '../models/tokenizer/model-proto.ts'
import { writeModelProto } from '../models/tokenizer/model-writer.ts'
import { repoRoot, tempDir } from './helpers.ts'

const bible = readFileSync(join(repoRoot, 'main', 'engine', 'sample', 'bible.en-es.tsv'), 'utf8').trimEnd().split('\n').map((line) => line.split('\t') as [string, string])
const japanese = ['私は日本語を勉強しています。', '猫が窓を開けました。', '今日はいい天気ですね。', '東京は日本の首都です。', '本を読むのが好きです。']
const probes = [
  'In the beginning, God created the heavens and the earth.',
  'Jesus wept, and the disciples were astonished.',
  'En el principio crió Dios los cielos y la tierra.',
  '¿Dónde está el niño que ha nacido?',
  '私は日本語を勉強しています。',
  'Ｆｕｌｌｗｉｄｔｈ text and 1234 numbers!',
]

function spmEncode(model: string, format: 'piece' | 'id', lines: string[]): string[][] {
  const output = execFileSync('spm_encode', [`--model=${model}`, `--output_format=${format}`], { input: `${lines.join('\n')}\n`, encoding: 'utf8' })
  return output.trimEnd().split('\n').map((line) => line.split(' '))
}

test('a BPE model trained here encodes identically in sentencepiece-js and spm_encode (English, Spanish, Japanese)', async (t) => {
  const corpus = [...bible.flatMap(([en, es]) => [en, es]), ...japanese, ...japanese]
  const spec = trainBpe(corpus, { vocabSize: 3000, characterCoverage: 1 })
  assert.equal(spec.pieces.length, 3000)
  const bytes = writeModelProto(spec)
  const file = join(tempDir(t), 'ours.model')
  writeFileSync(file, bytes)

  const read = readModelProto(bytes)
  assert.equal(read.modelType, 'bpe')
  assert.deepEqual(read.pieces.map((p) => p.piece), spec.pieces.map((p) => p.piece))

  const processor = new SentencePieceProcessor()
  await processor.loadFromB64StringModel(Buffer.from(bytes).toString('base64'))
  const jsPieces = probes.map((line) => processor.encodePieces(line))
  const jsIds = probes.map((line) => processor.encodeIds(line))
  assert.deepEqual(spmEncode(file, 'piece', probes), jsPieces)
  assert.deepEqual(spmEncode(file, 'id', probes).map((row) => row.map(Number)), jsIds)

  // It learned something useful: frequent words are single pieces, and decoding restores the (normalised) text.
  assert.deepEqual(jsPieces[0]!.slice(0, 2), ['▁In', '▁the'])
  assert.ok(jsPieces[0]!.includes('▁God'))
  assert.ok(jsPieces[0]!.length < 20)
  probes.slice(0, 5).forEach((line, i) => assert.equal(String(processor.decodeIds(Int32Array.from(jsIds[i]!))), line))
  // The model carries spm's nmt_nfkc rules: full-width letters encode as the ASCII ones, in every spm encoder.
  assert.deepEqual(jsIds[5], processor.encodeIds('Fullwidth text and 1234 numbers!'))
  // Pieces never join letters with punctuation or digits (as spm's split_by_unicode_script).
  for (const { piece } of spec.pieces.slice(3)) {
    const body = piece.replace(/^▁/, '')
    assert.ok(!/\p{L}/u.test(body) || !/[\p{P}\p{N}]/u.test(body), `piece '${piece}' mixes classes`)
  }
})

test('BPE merges the most frequent pair every time (ties by the pair’s symbols), as a brute-force recount does', () => {
  // Words of a few letters with skewed frequencies, so merges often lower the counts of other pairs.
  const random = new Random(4)
  const letters = 'abcdefg'
  const sentences = Array.from({ length: 400 }, () =>
    Array.from({ length: 1 + random.integer(4) }, () => Array.from({ length: 1 + random.integer(6) }, () => letters[Math.min(random.integer(7), random.integer(7))]!).join('')).join(' '),
  )
  const vocabSize = 60
  const model = trainBpe(sentences, { vocabSize, characterCoverage: 1 })
  const merges = model.pieces.filter((p) => p.type === 'normal' && [...p.piece].length > 1).map((p) => p.piece)

  // The reference: recount every pair over every word before each merge.
  const counts = new Map<string, number>()
  for (const sentence of sentences) for (const word of sentence.split(' ')) counts.set(`▁${word}`, (counts.get(`▁${word}`) ?? 0) + 1)
  const words = [...counts].map(([word, count]) => ({ symbols: [...word], count }))
  const alphabet = new Set(words.flatMap((w) => w.symbols))
  const known = new Set(alphabet)
  const expected: string[] = []
  while (expected.length < vocabSize - 3 - alphabet.size) {
    const pairs = new Map<string, { a: string; b: string; count: number }>()
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]}\u0000${symbols[i + 1]}`
        const entry = pairs.get(key) ?? { a: symbols[i]!, b: symbols[i + 1]!, count: 0 }
        entry.count += count
        pairs.set(key, entry)
      }
    }
    const best = [...pairs.values()].sort((x, y) => y.count - x.count || (x.a !== y.a ? (x.a < y.a ? -1 : 1) : x.b < y.b ? -1 : 1))[0]
    if (!best) break
    for (const word of words) {
      const next: string[] = []
      for (let i = 0; i < word.symbols.length; i++) {
        if (word.symbols[i] === best.a && word.symbols[i + 1] === best.b) {
          next.push(best.a + best.b)
          i++
        } else next.push(word.symbols[i]!)
      }
      word.symbols = next
    }
    if (known.has(best.a + best.b)) continue
    known.add(best.a + best.b)
    expected.push(best.a + best.b)
  }
  assert.ok(expected.length > 40)
  assert.deepEqual(merges, expected)
})

test('BPE training refuses a vocabulary too small for its alphabet, and empty input', () => {
  assert.throws(() => trainBpe(['abcdefghij klmnopqrst'], { vocabSize: 10 }), /cannot hold the 21 characters/)
  assert.throws(() => trainBpe(['   ', ''], { vocabSize: 100 }), /no text/)
})

test('a unigram model trained here encodes identically in sentencepiece-js and spm_encode, and as compactly as spm_train’s (within 3%)', async (t) => {
  const dir = tempDir(t)
  const sentences = bible.flatMap(([en, es]) => [en, es]).map((line) => line.normalize('NFKC'))
  const held = sentences.filter((_, i) => i % 10 === 0)
  const train = [...sentences.filter((_, i) => i % 10 !== 0), ...japanese, ...japanese]
  const spec = trainUnigram(train, { vocabSize: 2000 })
  assert.equal(spec.pieces.length, 2000)
  const bytes = writeModelProto(spec)
  const file = join(dir, 'ours.model')
  writeFileSync(file, bytes)
  assert.equal(readModelProto(bytes).modelType, 'unigram')
  const ours = new SentencePieceProcessor()
  await ours.loadFromB64StringModel(Buffer.from(bytes).toString('base64'))
  assert.deepEqual(spmEncode(file, 'piece', probes), probes.map((line) => ours.encodePieces(line)))
  assert.deepEqual(spmEncode(file, 'id', probes).map((row) => row.map(Number)), probes.map((line) => ours.encodeIds(line)))
  assert.ok(ours.encodePieces(probes[0]!).includes('▁God'))

  // Google's trainer on the same text and vocabulary size, scored on held-out lines.
  writeFileSync(join(dir, 'train.txt'), `${train.join('\n')}\n`)
  execFileSync('spm_train', [`--input=${join(dir, 'train.txt')}`, `--model_prefix=${join(dir, 'spm')}`, '--vocab_size=2000', '--model_type=unigram', '--character_coverage=0.9995', '--minloglevel=2'], { stdio: 'ignore' })
  const reference = new SentencePieceProcessor()
  await reference.load(join(dir, 'spm.model'))
  const piecesPerLine = (processor: SentencePieceProcessor) => held.reduce((sum, line) => sum + processor.encodeIds(line).length, 0) / held.length
  const [mine, theirs] = [piecesPerLine(ours), piecesPerLine(reference)]
  assert.ok(Math.abs(mine - theirs) / theirs <= 0.03, `pieces per held-out line: ours ${mine.toFixed(2)}, spm_train ${theirs.toFixed(2)}`)
})

test('user symbols stay whole and byte fallback spells unknown characters in bytes, in both implementations', async (t) => {
  const spec = trainUnigram(bible.slice(0, 800).flatMap(([en, es]) => [en, es]), { vocabSize: 1200, userSymbols: ['<sep>', '<2es>'], byteFallback: true })
  assert.deepEqual(spec.pieces.slice(3, 5).map((p) => [p.piece, p.type]), [['<sep>', 'user-defined'], ['<2es>', 'user-defined']])
  assert.equal(spec.pieces.filter((p) => p.type === 'byte').length, 256)
  const file = join(tempDir(t), 'symbols.model')
  writeFileSync(file, writeModelProto(spec))
  const processor = new SentencePieceProcessor()
  await processor.load(file)
  const lines = ['<2es> God said<sep>light', 'snow ☃ and 😀']
  const pieces = lines.map((line) => processor.encodePieces(line))
  assert.deepEqual(spmEncode(file, 'piece', lines), pieces)
  assert.ok(pieces[0]!.includes('<2es>') && pieces[0]!.includes('<sep>'))
  assert.ok(pieces[1]!.includes('<0xE2>') && pieces[1]!.includes('<0xF0>'), pieces[1]!.join(' '))
  assert.ok(!processor.encodeIds(lines[1]!).includes(0), 'no <unk> with byte fallback')
  assert.equal(String(processor.decodeIds(Int32Array.from(processor.encodeIds(lines[1]!)))), lines[1])
  assert.throws(() => trainUnigram(['a b'], { vocabSize: 300, userSymbols: ['<s>'] }), /clashes with a special piece/)
})
