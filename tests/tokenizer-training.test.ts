// BPE tokenizers we train load in sentencepiece-js and in Google's spm_encode and give both the same pieces and ids.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { SentencePieceProcessor } from '@sctg/sentencepiece-js'
import { trainBpe } from '../models/tokenizer/bpe-trainer.ts'
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
  // The model carries no NFKC table (identity normaliser): characters it never saw, such as full-width letters
  // and digits absent from the Bible, are <unk> (id 0). The engine normalises text before encoding.
  assert.ok(jsIds[5]!.includes(0))
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
