// Search, cleaning, splits and export on real SQLite files.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { cleanCorpus } from '../main/engine/corpus/clean.ts'
import { exportCorpus } from '../main/engine/corpus/export.ts'
import { importCorpus } from '../main/engine/corpus/import.ts'
import { corpusRows, deleteCorpus, findCorpus } from '../main/engine/corpus/repository.ts'
import { indexCorpus, isIndexed, searchCorpus, unindexedCorpora } from '../main/engine/corpus/search.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { splitCorpus } from '../main/engine/corpus/split.ts'
import { loadSampleOnce, sampleCorpusNames } from '../main/engine/sample/load.ts'
import { runCli, tempDatabase } from './helpers.ts'

test('full-text search finds substrings in English, Spanish and Japanese, with paging', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const file = join(dir, 'mixed.tsv')
  writeFileSync(file, 'The light shines\tLa luz brilla\nIn the darkness\tEn las tinieblas\n猫が窓を開けました。\tEl gato abrió la ventana.\nlight and light\tluz y luz\n')
  const { corpusId } = await importCorpus(db, { name: 'mixed', files: [file] })
  // Before its index is built, search scans; after, it uses FTS5. Both find the same rows.
  assert.equal(isIndexed(db, corpusId), false)
  const scanned = ['light', 'tiniebla', '窓を開'].map((q) => searchCorpus(db, corpusId, q, 0, 10).rows.map((r) => r.index))
  indexCorpus(db, corpusId)
  assert.equal(isIndexed(db, corpusId), true)
  assert.equal((db.prepare('SELECT count(*) AS n FROM corpus_fts WHERE corpus_id = ?').get(corpusId) as { n: number }).n, 4)
  assert.deepEqual(['light', 'tiniebla', '窓を開'].map((q) => searchCorpus(db, corpusId, q, 0, 10).rows.map((r) => r.index)), scanned)
  assert.deepEqual(searchCorpus(db, corpusId, 'light', 0, 10).rows.map((r) => r.index), [0, 3])
  assert.deepEqual(searchCorpus(db, corpusId, 'tiniebla', 0, 10).rows.map((r) => r.index), [1])
  assert.deepEqual(searchCorpus(db, corpusId, '窓を開', 0, 10).rows.map((r) => r.index), [2])
  assert.deepEqual(searchCorpus(db, corpusId, '猫', 0, 10).rows.map((r) => r.index), [2], 'short queries fall back to a scan')
  const paged = searchCorpus(db, corpusId, 'light', 1, 1)
  assert.equal(paged.total, 2)
  assert.deepEqual(paged.rows.map((r) => r.index), [3])
  assert.equal(searchCorpus(db, corpusId, 'nowhere to be found', 0, 10).total, 0)
  assert.equal(searchCorpus(db, corpusId, 'say "hi"', 0, 10).total, 0, 'quotes in a query are literal')
  deleteCorpus(db, 'mixed')
  assert.equal((db.prepare('SELECT count(*) AS n FROM corpus_fts').get() as { n: number }).n, 0, 'the index goes with the corpus')
})

test('cleaning normalises, trims and drops what the filters say, with a report, and keeps the index in step', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const file = join(dir, 'dirty.tsv')
  writeFileSync(
    file,
    [
      'Ｆｕｌｌｗｉｄｔｈ  text \tTexto',
      'duplicate\tduplicado',
      'duplicate\tduplicado',
      ' \tempty source',
      'short\tthis target is far far longer than its source',
      'fine sentence\tfrase buena',
    ].join('\n'),
  )
  const { corpusId } = await importCorpus(db, { name: 'dirty', files: [file] })
  indexCorpus(db, corpusId)
  const report = cleanCorpus(db, corpusId, { normalize: true, trim: true, dropEmpty: true, dedupe: true, maxRatio: 3 })
  assert.equal(isIndexed(db, corpusId), false, 'cleaning invalidates the index')
  indexCorpus(db, corpusId)
  assert.equal(report.before, 6)
  assert.equal(report.kept, 3)
  assert.deepEqual(report.dropped, { duplicate: 1, empty: 1, 'length ratio above 3': 1 })
  assert.equal(report.changed.NFKC, 1)
  assert.ok((report.changed.whitespace ?? 0) >= 2)
  assert.deepEqual(
    corpusRows(db, corpusId, 0, 10).map((r) => [r.index, r.src, r.tgt]),
    [
      [0, 'Fullwidth text', 'Texto'],
      [1, 'duplicate', 'duplicado'],
      [2, 'fine sentence', 'frase buena'],
    ],
  )
  assert.deepEqual(searchCorpus(db, corpusId, 'Fullwidth', 0, 10).rows.map((r) => r.index), [0])
  const meta = JSON.parse((db.prepare('SELECT meta FROM corpora WHERE id = ?').get(corpusId) as { meta: string }).meta) as { cleaning: { report: unknown }[] }
  assert.deepEqual(meta.cleaning[0]!.report, report, 'the report is recorded with the corpus')
  assert.throws(() => cleanCorpus(db, corpusId, { normalize: false, trim: false, dropEmpty: false, dedupe: false, minLength: 1000 }), /drop every row/)
  assert.equal(corpusRows(db, corpusId, 0, 10).length, 3, 'a refused clean changes nothing')
})

test('random splits are reproducible with a seed; group splits never share a group between splits', async (t) => {
  const { db } = await tempDatabase(t)
  await loadSampleOnce(db)
  const bible = findCorpus(db, sampleCorpusNames.bible)!
  const first = splitCorpus(db, bible.id, { dev: 100, test: 0.05, seed: 7, by: 'random' })
  assert.deepEqual(first, { train: 4616 - 100 - 231, dev: 100, test: 231 })
  const pick = () => (db.prepare("SELECT idx FROM corpus_rows WHERE corpus_id = ? AND split = 'dev' ORDER BY idx").all(bible.id) as { idx: number }[]).map((r) => r.idx)
  const devA = pick()
  splitCorpus(db, bible.id, { dev: 100, test: 0.05, seed: 7, by: 'random' })
  assert.deepEqual(pick(), devA, 'same seed, same split')
  splitCorpus(db, bible.id, { dev: 100, test: 0.05, seed: 8, by: 'random' })
  assert.notDeepEqual(pick(), devA)

  const byBook = splitCorpus(db, bible.id, { dev: 300, test: 300, seed: 1, by: 'group' })
  assert.equal(byBook.train + byBook.dev + byBook.test, 4616)
  const splitsPerBook = db.prepare('SELECT grp, count(DISTINCT split) AS n FROM corpus_rows WHERE corpus_id = ? GROUP BY grp').all(bible.id) as { grp: string; n: number }[]
  assert.ok(splitsPerBook.every((book) => book.n === 1), 'every book sits in exactly one split')
  assert.ok(byBook.groups!.test.length >= 1 && byBook.groups!.dev.length >= 1)
  assert.throws(() => splitCorpus(db, bible.id, { dev: 3000, test: 3000, seed: 1, by: 'random' }), /leave no training rows/)
  const hamlet = findCorpus(db, sampleCorpusNames.hamlet)!
  assert.throws(() => splitCorpus(db, hamlet.id, { dev: 5, test: 5, seed: 1, by: 'group' }), /without a grouping key/)
})

test('export writes what import reads back, per split too', async (t) => {
  const { dir, db } = await tempDatabase(t)
  await loadSampleOnce(db)
  const bible = findCorpus(db, sampleCorpusNames.bible)!
  splitCorpus(db, bible.id, { dev: 50, test: 50, seed: 3, by: 'random' })
  const out = join(dir, 'test.tsv')
  assert.equal(exportCorpus(db, bible, out, 'tsv', 'test'), 50)
  const reimported = await importCorpus(db, { name: 'again', files: [out] })
  assert.equal(reimported.rows, 50)
  const exported = readFileSync(out, 'utf8').trimEnd().split('\n')
  const original = db.prepare("SELECT src, tgt FROM corpus_rows WHERE corpus_id = ? AND split = 'test' ORDER BY idx").all(bible.id) as { src: string; tgt: string }[]
  assert.deepEqual(exported, original.map((r) => `${r.src}\t${r.tgt}`))
  const hamlet = findCorpus(db, sampleCorpusNames.hamlet)!
  const dialogues = join(dir, 'hamlet.jsonl')
  assert.equal(exportCorpus(db, hamlet, dialogues, 'jsonl'), 78)
  assert.equal((await importCorpus(db, { name: 'hamlet-again', files: [dialogues] })).rows, 78)
  assert.throws(() => exportCorpus(db, hamlet, join(dir, 'x.tsv'), 'tsv'), /no target side/)
})

test('length statistics: means, maxima and histograms in characters, per side and for dialogue turns', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const file = join(dir, 'lengths.tsv')
  writeFileSync(file, ['a\tbb', 'abcde\tb', `${'x'.repeat(10)}\tb`, `${'y'.repeat(30)}\t日本語です`].join('\n'))
  const { corpusId } = await importCorpus(db, { name: 'lengths', files: [file] })
  const { corpusStats } = await import('../main/engine/corpus/stats.ts')
  const stats = corpusStats(db, { id: corpusId, kind: 'parallel' })
  const src = stats.sides.find((s) => s.side === 'src')!
  assert.equal(src.mean, (1 + 5 + 10 + 30) / 4)
  assert.equal(src.max, 30)
  assert.equal(src.histogram.bucketSize, 2) // ceil(31 / 30)
  const expected = new Array<number>(16).fill(0)
  for (const length of [1, 5, 10, 30]) expected[Math.floor(length / 2)]! += 1
  assert.deepEqual(src.histogram.counts, expected)
  const tgt = stats.sides.find((s) => s.side === 'tgt')!
  assert.equal(tgt.max, 5, 'characters, not bytes: 日本語です is 5')
  assert.deepEqual(stats.splits, [{ split: 'none', rows: 4 }])
  await loadSampleOnce(db)
  const hamlet = corpusStats(db, { id: findCorpus(db, sampleCorpusNames.hamlet)!.id, kind: 'dialogue' })
  assert.equal(hamlet.sides[0]!.side, 'turns')
  assert.equal(hamlet.sides[0]!.histogram.counts.reduce((a, b) => a + b), 933, 'every turn of Hamlet is counted')
})

test('an index build stops between chunks when asked, leaving the corpus pending; a CLI import leaves indexing to the next long-running engine', async (t) => {
  const { dir, db } = await tempDatabase(t)
  const file = join(dir, 'many.tsv')
  writeFileSync(file, Array.from({ length: 25_000 }, (_, i) => `line ${i} of the light\tlínea ${i} de la luz`).join('\n') + '\n')
  const { corpusId } = await importCorpus(db, { name: 'many', files: [file] })
  let chunks = 0
  const progress: number[] = []
  assert.equal(indexCorpus(db, corpusId, () => chunks++ >= 1, (done) => progress.push(done)), false, 'stopped after its first chunk')
  assert.deepEqual(progress, [10_000])
  assert.equal(isIndexed(db, corpusId), false)
  assert.deepEqual(unindexedCorpora(db), ['many'])
  assert.equal(searchCorpus(db, corpusId, 'line 24999 ', 0, 5).total, 1, 'a pending corpus is searched by a scan, all of it')
  assert.equal(indexCorpus(db, corpusId), true)
  assert.equal((db.prepare('SELECT count(*) AS n FROM corpus_fts WHERE corpus_id = ?').get(corpusId) as { n: number }).n, 25_000, 'a new build starts over: no row twice')
  assert.deepEqual(unindexedCorpora(db), [])

  // The command exits once the rows are in; the app's engine (or `kotoba serve`) indexes the corpus when it starts.
  const cliDb = join(dir, 'cli.db')
  const imported = runCli(['--db', cliDb, '--json', '--no-sample', 'corpus', 'import', file, '--name', 'many'])
  assert.equal(imported.status, 0, imported.stderr)
  const engine = await Engine.open({ dbPath: cliDb, loadSample: false, worker: defaultWorkerEntry() })
  t.after(() => engine.close())
  const indexJob = engine.jobs.list().find((job) => job.kind === 'corpus.index')
  assert.ok(indexJob, 'the engine starts indexing the corpus the command left pending')
  assert.equal((await engine.jobs.wait(indexJob.jobId)).status, 'done')
  assert.deepEqual(unindexedCorpora(engine.db), [])
})
