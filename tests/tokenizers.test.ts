// Tokenizers: an spm_train model imported into SQLite encodes exactly as Google's spm_encode did.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { ApiError } from '../main/api/contract.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { readModelProto } from '../models/tokenizer/model-proto.ts'
import { compileCharsMap } from '../models/tokenizer/normalization/charsmap.ts'
import { fixturesDir, parseJsonOutput, runCli, tempDir } from './helpers.ts'

const modelFile = join(fixturesDir, 'spm.model')
const sampleLines = readFileSync(join(fixturesDir, 'spm.sample.txt'), 'utf8').trimEnd().split('\n')
const expectedPieces = readFileSync(join(fixturesDir, 'spm.sample.pieces'), 'utf8').trimEnd().split('\n').map((line) => line.split(' '))
const expectedIds = readFileSync(join(fixturesDir, 'spm.sample.ids'), 'utf8').trimEnd().split('\n').map((line) => line.split(' ').map(Number))

test('the ModelProto reader lists pieces, scores, types and the model type', () => {
  const model = readModelProto(readFileSync(modelFile))
  assert.equal(model.modelType, 'unigram')
  assert.equal(model.pieces.length, 2000)
  assert.deepEqual(model.pieces.slice(0, 3).map((p) => [p.piece, p.type]), [
    ['<unk>', 'unknown'],
    ['<s>', 'control'],
    ['</s>', 'control'],
  ])
  assert.ok(model.pieces.slice(3).every((p) => p.score < 0))
  assert.throws(() => readModelProto(new TextEncoder().encode('definitely not a model')), /not a SentencePiece model/)
})

test('an imported spm_train model gives spm_encode’s pieces and ids, decodes back, and exports byte for byte', async (t) => {
  const dir = tempDir(t)
  const engine = await Engine.open({ dbPath: join(dir, 'kotoba.db'), loadSample: false, worker: defaultWorkerEntry() })
  t.after(() => engine.close())
  const summary = (await engine.handle('tokenizer.import', { name: 'bible-spm', file: modelFile })) as { vocabSize: number; type: string }
  assert.deepEqual([summary.vocabSize, summary.type], [2000, 'unigram'])
  const encoded = (await engine.handle('tokenizer.encode', { name: 'bible-spm', lines: sampleLines })) as { pieces: string[][]; ids: number[][] }
  assert.deepEqual(encoded.pieces, expectedPieces)
  assert.deepEqual(encoded.ids, expectedIds)
  const decoded = (await engine.handle('tokenizer.decode', { name: 'bible-spm', ids: expectedIds })) as { lines: string[] }
  assert.deepEqual(decoded.lines, sampleLines)
  const out = join(dir, 'copy.model')
  await engine.handle('tokenizer.export', { name: 'bible-spm', out })
  assert.deepEqual(readFileSync(out), readFileSync(modelFile))
  const vocab = (await engine.handle('tokenizer.vocab', { name: 'bible-spm', offset: 3, limit: 2 })) as { total: number; pieces: { id: number; piece: string }[] }
  assert.equal(vocab.total, 2000)
  assert.deepEqual(vocab.pieces.map((p) => [p.id, p.piece]), [
    [3, ','],
    [4, '▁the'],
  ])
  await assert.rejects(engine.handle('tokenizer.decode', { name: 'bible-spm', ids: [[5, 2000]] }), /id 2000 is outside the vocabulary/)
  const notModel = join(dir, 'fake.model')
  writeFileSync(notModel, 'hello')
  await assert.rejects(engine.handle('tokenizer.import', { name: 'fake', file: notModel }), (error: unknown) => error instanceof ApiError && /fake\.model: not a SentencePiece model/.test(error.message))
  await assert.rejects(engine.handle('tokenizer.import', { name: 'bible-spm', file: modelFile }), (error: unknown) => error instanceof ApiError && error.code === 'conflict')
})

test('kotoba tokenizer import, encode (pieces or ids) and decode over stdin', (t) => {
  const db = join(tempDir(t), 'cli.db')
  const imported = runCli(['--db', db, '--no-sample', '--json', 'tokenizer', 'import', modelFile, '--name', 'spm'])
  assert.equal(imported.status, 0, imported.stderr)
  assert.equal(parseJsonOutput<{ vocabSize: number }>(imported).vocabSize, 2000)
  const pieces = runCli(['--db', db, 'tokenizer', 'encode', '--name', 'spm'], { input: `${sampleLines.slice(0, 3).join('\n')}\n` })
  assert.equal(pieces.status, 0, pieces.stderr)
  assert.deepEqual(pieces.stdout.trimEnd().split('\n'), expectedPieces.slice(0, 3).map((p) => p.join(' ')))
  const ids = runCli(['--db', db, 'tokenizer', 'encode', '--name', 'spm', '--ids'], { input: `${sampleLines[0]}\n` })
  assert.equal(ids.stdout.trim(), expectedIds[0]!.join(' '))
  const decoded = runCli(['--db', db, 'tokenizer', 'decode', '--name', 'spm'], { input: `${expectedIds[1]!.join(' ')}\n` })
  assert.equal(decoded.stdout.trim(), sampleLines[1])
  const listed = parseJsonOutput<{ tokenizers: { name: string }[] }>(runCli(['--db', db, '--json', 'tokenizer', 'list']))
  assert.deepEqual(listed.tokenizers.map((tok) => tok.name), ['spm'])
})

test('kotoba tokenizer train learns BPE and unigram tokenizers from a stored corpus', (t) => {
  const db = join(tempDir(t), 'train.db')
  const trained = runCli(['--db', db, '--json', 'tokenizer', 'train', '--corpus', 'sample-bible-en-es', '--name', 'bible-bpe', '--type', 'bpe', '--vocab-size', '2000'])
  assert.equal(trained.status, 0, trained.stderr)
  const summary = parseJsonOutput<{ vocabSize: number; type: string; side: string; source: string }>(trained)
  assert.deepEqual([summary.vocabSize, summary.type, summary.side], [2000, 'bpe', 'joint'])
  assert.match(summary.source, /trained on sample-bible-en-es \(joint\)/)
  const pieces = runCli(['--db', db, 'tokenizer', 'encode', '--name', 'bible-bpe'], { input: 'In the beginning God created the heavens.\nＥｎ el principio\n' })
  const [english, spanish] = pieces.stdout.trimEnd().split('\n')
  assert.match(english!, /^▁In ▁the .*▁God /)
  assert.match(spanish!, /^▁En ▁el /, 'full-width input is NFKC-normalised before encoding')
  const unigram = runCli(['--db', db, '--json', 'tokenizer', 'train', '--corpus', 'sample-bible-en-es', '--name', 'u', '--type', 'unigram', '--vocab-size', '2000', '--user-symbols', '<sep>,<2es>', '--byte-fallback'])
  assert.equal(unigram.status, 0, unigram.stderr)
  assert.deepEqual(parseJsonOutput<{ vocabSize: number; type: string }>(unigram).type, 'unigram')
  const encoded = runCli(['--db', db, 'tokenizer', 'encode', '--name', 'u'], { input: 'In the beginning<sep>God 😀\n' })
  const stats = parseJsonOutput<{ corpus: string; sentences: number; piecesPerSentence: number; unknownRate: number; characterCoverage: number; vocabularyUsed: number; byteRate: number }>(
    runCli(['--db', db, '--json', 'tokenizer', 'stats', '--name', 'u', '--limit', '500']),
  )
  assert.equal(stats.corpus, 'sample-bible-en-es')
  assert.equal(stats.sentences, 500)
  assert.ok(stats.piecesPerSentence > 10 && stats.piecesPerSentence < 80, String(stats.piecesPerSentence))
  assert.equal(stats.unknownRate, 0, 'its own training text has no unknown characters')
  assert.equal(stats.characterCoverage, 1)
  assert.ok(stats.vocabularyUsed > 0.3 && stats.vocabularyUsed <= 1)
  assert.match(encoded.stdout, /^▁I.* ▁the .*<sep> G.* ▁ <0xF0> <0x9F> <0x98> <0x80>$/m, encoded.stdout) // an emoji the Bible lacks: its four UTF-8 bytes
})

test('nmt_nfkc rules compiled by one training are kept in the database for the next, and damaged ones are rebuilt', (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'cache.db')
  const key = `normalization/nmt_nfkc/unicode-${process.versions.unicode}`
  const train = (name: string) => {
    const result = runCli(['--db', db, '--json', 'tokenizer', 'train', '--corpus', 'sample-hamlet-dialogues', '--name', name, '--type', 'bpe', '--vocab-size', '300'])
    assert.equal(result.status, 0, result.stderr)
    const out = join(dir, `${name}.model`)
    assert.equal(runCli(['--db', db, 'tokenizer', 'export', '--name', name, '--out', out]).status, 0)
    return readFileSync(out)
  }
  const cached = () => {
    const store = new Database(db, { readonly: true })
    try {
      return (store.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value
    } finally {
      store.close()
    }
  }
  const compiledHere = train('first')
  const stored = cached()
  assert.ok(stored, 'the compiled rules are stored after the first training')
  const [hash, base64] = stored.split(':')
  assert.equal(createHash('sha256').update(Buffer.from(base64!, 'base64')).digest('hex'), hash)
  assert.ok(compiledHere.includes(Buffer.from(base64!, 'base64')), 'the stored bytes are the precompiled_charsmap the model carries')
  assert.deepEqual(train('second'), compiledHere, 'a training on the stored rules writes the same model, byte for byte')
  const store = new Database(db)
  // Rules of our own making, stored as the cache stores them, are what the next training uses (and writes).
  const planted = compileCharsMap(new Map([['x', 'y']]))
  store.prepare('UPDATE settings SET value = ? WHERE key = ?').run(`${createHash('sha256').update(planted).digest('hex')}:${Buffer.from(planted).toString('base64')}`, key)
  const fromPlanted = train('planted')
  assert.ok(fromPlanted.includes(Buffer.from(planted)) && !fromPlanted.includes(Buffer.from(base64!, 'base64')), 'the stored rules are the ones used')
  store.prepare('UPDATE settings SET value = ? WHERE key = ?').run(`${hash}:${base64!.slice(0, -400)}`, key)
  store.close()
  assert.deepEqual(train('third'), compiledHere, 'damaged stored rules are not used')
  assert.equal(cached(), stored, 'and are compiled and stored again')
})
