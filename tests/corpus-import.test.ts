import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { CorpusFormatError, importCorpus, CorpusCancelledError, sniffFormat } from '../main/engine/corpus/import.ts'
import { findInvalidUtf8, InvalidUtf8Error } from '../main/engine/corpus/lines.ts'
import { corpusRows, listCorpora } from '../main/engine/corpus/repository.ts'
import { fixturesDir, repoRoot, tempDatabase, tempDir, writeLargeTsv } from './helpers.ts'

test('imports the real Bible CI slice as a parallel corpus', async (t) => {
  const { db } = await tempDatabase(t)
  const result = await importCorpus(db, { name: 'bible', files: [join(fixturesDir, 'bible.en-es.ci.tsv')], srcLang: 'en', tgtLang: 'es' })
  assert.equal(result.format, 'tsv')
  assert.equal(result.kind, 'parallel')
  assert.equal(result.rows, 154)
  const [first] = corpusRows(db, result.corpusId, 0, 1)
  assert.ok(first?.src && first.src.length > 0 && first.tgt && first.tgt.length > 0)
})

test('imports real Hamlet dialogues as JSONL, turns intact', async (t) => {
  const { db } = await tempDatabase(t)
  const result = await importCorpus(db, { name: 'hamlet', files: [join(fixturesDir, 'hamlet.dialogues.jsonl')] })
  assert.equal(result.kind, 'dialogue')
  assert.equal(result.rows, 78)
  const [first] = corpusRows(db, result.corpusId, 0, 1)
  assert.equal(first?.turns?.[0], "Who's there?")
})

test('sniffs the format from content when the extension says nothing', async (t) => {
  const dir = tempDir(t)
  const files = { tsv: 'a\tb\n', jsonl: '["hi", "hello"]\n', text: 'just a sentence\n' }
  for (const [format, content] of Object.entries(files)) {
    const path = join(dir, `${format}.dat`)
    writeFileSync(path, content)
    assert.equal(await sniffFormat([path]), format)
  }
})

test('a TSV line without a tab names its line number and imports nothing', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const path = join(dir, 'bad.tsv')
  writeFileSync(path, 'one\tuno\ntwo\tdos\n\nthree tres\nfour\tcuatro\n')
  await assert.rejects(importCorpus(db, { name: 'bad', files: [path] }), (error: unknown) => {
    assert.ok(error instanceof CorpusFormatError)
    assert.equal(error.line, 4)
    assert.equal(error.message, 'bad.tsv line 4: expected "source<TAB>target", found no tab')
    return true
  })
  assert.deepEqual(listCorpora(db), [])
  assert.equal((db.prepare('SELECT count(*) AS n FROM corpus_rows').get() as { n: number }).n, 0)
})

test('a JSONL line that is not an array of strings is reported with its line number', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const path = join(dir, 'bad.jsonl')
  writeFileSync(path, '["a", "b"]\n["c", 3]\n')
  await assert.rejects(importCorpus(db, { name: 'bad', files: [path] }), /bad\.jsonl line 2: expected a JSON array of strings/)
  writeFileSync(path, '["a", "b"]\n{oops\n')
  await assert.rejects(importCorpus(db, { name: 'bad', files: [path] }), /bad\.jsonl line 2: not valid JSON/)
  assert.deepEqual(listCorpora(db), [])
})

test('invalid UTF-8 is reported with its byte offset, also across read chunks', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const path = join(dir, 'latin1.tsv')
  const head = Buffer.from('caf\u00e9\tcaf\u00e9\n'.repeat(10_000)) // valid, > 64 KiB, spans several chunks
  writeFileSync(path, Buffer.concat([head, Buffer.from([0x61, 0x09, 0x62, 0xe9, 0x0a])])) // 0xE9 alone: Latin-1 é
  await assert.rejects(importCorpus(db, { name: 'latin1', files: [path] }), (error: unknown) => {
    assert.ok(error instanceof InvalidUtf8Error)
    assert.equal(error.byteOffset, head.length + 3)
    return true
  })
  assert.deepEqual(listCorpora(db), [])
  assert.equal(findInvalidUtf8(Buffer.from('ok ✓ 日本語')), -1)
  assert.equal(findInvalidUtf8(Uint8Array.from([0x61, 0xc0, 0x80])), 1) // overlong encoding
  assert.equal(findInvalidUtf8(Uint8Array.from([0xed, 0xa0, 0x80])), 0) // UTF-16 surrogate
})

test('a cancelled import rolls back every row it had written', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const path = join(dir, 'big.tsv')
  writeLargeTsv(path, 60_000)
  let batches = 0
  await assert.rejects(
    importCorpus(db, { name: 'big', files: [path] }, { onProgress: () => batches++, isCancelled: () => batches >= 3 }),
    CorpusCancelledError,
  )
  assert.ok(batches >= 3)
  assert.deepEqual(listCorpora(db), [])
  assert.equal((db.prepare('SELECT count(*) AS n FROM corpus_rows').get() as { n: number }).n, 0)
})

test('blank lines are skipped and counted, CRLF line ends are stripped', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const path = join(dir, 'crlf.tsv')
  writeFileSync(path, 'a\tb\r\n\r\nc\td\r\n')
  const result = await importCorpus(db, { name: 'crlf', files: [path] })
  assert.equal(result.rows, 2)
  assert.deepEqual(result.skipped, { 'blank lines': 1 })
  assert.deepEqual(
    corpusRows(db, result.corpusId, 0, 10).map((r) => [r.src, r.tgt]),
    [
      ['a', 'b'],
      ['c', 'd'],
    ],
  )
})

const fixtures = join(repoRoot, 'tests', 'fixtures')

test('a Moses pair imports line by line; different line counts name both counts', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const en = join(dir, 'train.en')
  const es = join(dir, 'train.es')
  writeFileSync(en, 'one\ntwo\nthree\n')
  writeFileSync(es, 'uno\ndos\ntres\n')
  assert.equal(await sniffFormat([en, es]), 'moses')
  const result = await importCorpus(db, { name: 'moses', files: [en, es], srcLang: 'en', tgtLang: 'es' })
  assert.equal(result.format, 'moses')
  assert.deepEqual(
    corpusRows(db, result.corpusId, 0, 5).map((r) => [r.src, r.tgt]),
    [
      ['one', 'uno'],
      ['two', 'dos'],
      ['three', 'tres'],
    ],
  )
  writeFileSync(es, 'uno\ndos\n')
  await assert.rejects(importCorpus(db, { name: 'short', files: [en, es] }), /train\.en has 3 lines but train\.es has 2/)
  writeFileSync(en, Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n'))
  await assert.rejects(importCorpus(db, { name: 'long', files: [en, es] }), /train\.en has 5000 lines but train\.es has 2/)
  assert.deepEqual(listCorpora(db).map((c) => c.name), ['moses'])
})

test('TMX 1.4: picks the language pair (regional variants match), flattens inline codes, skips incomplete units', async (t) => {
  const { db } = await tempDatabase(t)
  const file = join(fixtures, 'sample.tmx')
  assert.equal(await sniffFormat([file]), 'tmx')
  const esResult = await importCorpus(db, { name: 'tmx-es', files: [file], srcLang: 'en', tgtLang: 'es' })
  assert.deepEqual(
    corpusRows(db, esResult.corpusId, 0, 5).map((r) => [r.src, r.tgt]),
    [
      ['Good morning.', 'Buenos días.'],
      ['Press Save & quit.', 'Pulse Guardar y salga.'],
    ],
  )
  assert.deepEqual(esResult.skipped, { 'translation units without both languages': 1 })
  const jaResult = await importCorpus(db, { name: 'tmx-ja', files: [file], srcLang: 'en', tgtLang: 'ja' })
  assert.equal(jaResult.rows, 3)
  assert.deepEqual(corpusRows(db, jaResult.corpusId, 1, 1)[0]?.tgt, '保存して終了します。')
})

test('malformed TMX is reported with its line and what was expected', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const broken = join(dir, 'broken.tmx')
  writeFileSync(broken, '<?xml version="1.0"?>\n<tmx version="1.4">\n<body>\n<tu><tuv xml:lang="en"><seg>Hi</seg></tuv>\n<tuv><seg>Hola</seg></tuv></tu>\n</body></tmx>\n')
  await assert.rejects(importCorpus(db, { name: 'b', files: [broken] }), /broken\.tmx line 5: <tuv> without an xml:lang attribute/)
  writeFileSync(broken, '<?xml version="1.0"?>\n<tmx version="1.4">\n<body>\n<tu><tuv xml:lang="en"><seg>Hi</tuv></tu>\n</body></tmx>\n')
  await assert.rejects(importCorpus(db, { name: 'b', files: [broken] }), /broken\.tmx line 4: malformed XML/)
  const head = Buffer.from('<?xml version="1.0"?>\n<tmx version="1.4"><body><tu><tuv xml:lang="en"><seg>caf')
  writeFileSync(broken, Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('</seg></tuv></tu></body></tmx>\n')]))
  await assert.rejects(importCorpus(db, { name: 'b', files: [broken] }), (error: unknown) => error instanceof InvalidUtf8Error && error.byteOffset === head.length)
  assert.deepEqual(listCorpora(db), [])
})

test('gettext PO and the MO compiled from it by msgfmt give the same pairs; fuzzy, untranslated and obsolete are skipped', async (t) => {
  const { db } = await tempDatabase(t)
  const po = await importCorpus(db, { name: 'po', files: [join(fixtures, 'sample.es.po')] })
  const mo = await importCorpus(db, { name: 'mo', files: [join(fixtures, 'sample.es.mo')] })
  assert.equal(po.format, 'po')
  assert.equal(mo.format, 'mo')
  const pairs = (id: number) =>
    corpusRows(db, id, 0, 20)
      .map((r) => `${r.src} → ${r.tgt}`)
      .sort()
  const expected = [
    '%d file deleted → %d archivo eliminado',
    '%d files deleted → %d archivos eliminados',
    'A line that continues → Una línea que continúa',
    'Open file → Abrir archivo',
    'Quit → Salir',
  ]
  assert.deepEqual(pairs(po.corpusId), expected)
  assert.deepEqual(pairs(mo.corpusId), expected)
  assert.deepEqual(po.skipped, { 'fuzzy entries': 1, 'untranslated entries': 1, 'obsolete entries': 1 })
})

test('a malformed PO file is reported with its line number', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const broken = join(dir, 'broken.po')
  writeFileSync(broken, 'msgid "Fine"\nmsgstr "Bien"\n\nmsgid "Broken\nmsgstr "Roto"\n')
  await assert.rejects(importCorpus(db, { name: 'b', files: [broken] }), /broken\.po line 4: End-of-line within string/)
  const notMo = join(dir, 'fake.mo')
  writeFileSync(notMo, 'this is not a catalogue')
  await assert.rejects(importCorpus(db, { name: 'b', files: [notMo] }), /fake\.mo line 1: not a compiled gettext catalogue/)
})
