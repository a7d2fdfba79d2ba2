// BPE and unigram tokenizers we train load in sentencepiece-js and in Google's spm_encode and give both the same pieces and ids.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { SentencePieceProcessor } from '@sctg/sentencepiece-js'
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
