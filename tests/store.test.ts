import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { latestSchemaVersion, migrations, type Migration } from '../main/engine/store/migrations.ts'
import { MigrationError, openDatabase, SchemaTooNewError, schemaVersion } from '../main/engine/store/database.ts'
import { lastRunOnDevice, recordDeviceSpeed } from '../main/engine/training/repository.ts'
import { tempDir } from './helpers.ts'

const expectedTables = [
  'attention_maps',
  'chat_turns',
  'chats',
  'checkpoints',
  'corpora',
  'corpus_fts',
  'corpus_rows',
  'embeddings',
  'metrics',
  'run_devices',
  'runs',
  'settings',
  'tokenizers',
  'validation_samples',
]

function tables(db: BetterSqlite3.Database): string[] {
  // FTS5's own shadow tables (corpus_fts_data, …) are an implementation detail.
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'corpus\\_fts\\_%' ESCAPE '\\' ORDER BY name").all() as { name: string }[]).map((r) => r.name)
}

test('an empty database is migrated to the latest schema, in WAL mode', (t) => {
  const path = join(tempDir(t), 'nested', 'folder', 'kotoba.db')
  const db = openDatabase(path)
  t.after(() => db.close())
  assert.equal(schemaVersion(db), latestSchemaVersion)
  assert.deepEqual(tables(db), expectedTables)
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1)
})

test('reopening an existing database keeps its data and re-runs nothing', (t) => {
  const path = join(tempDir(t), 'kotoba.db')
  const first = openDatabase(path)
  first.prepare("INSERT INTO corpora (name, kind, source) VALUES ('kept', 'monolingual', 'test')").run()
  first.close()
  const second = openDatabase(path)
  t.after(() => second.close())
  assert.equal(schemaVersion(second), latestSchemaVersion)
  assert.deepEqual(second.prepare('SELECT name FROM corpora').all(), [{ name: 'kept' }])
})

test('a newer migration applies on top of an existing database', (t) => {
  const path = join(tempDir(t), 'kotoba.db')
  openDatabase(path).close()
  const next: Migration = {
    version: latestSchemaVersion + 1,
    name: 'add a column',
    up: (db) => db.exec("ALTER TABLE corpora ADD COLUMN notes TEXT NOT NULL DEFAULT ''"),
  }
  const db = openDatabase(path, { migrations: [...migrations, next] })
  t.after(() => db.close())
  assert.equal(schemaVersion(db), latestSchemaVersion + 1)
  const columns = (db.prepare('PRAGMA table_info(corpora)').all() as { name: string }[]).map((c) => c.name)
  assert.ok(columns.includes('notes'))
})

test('a migration that fails midway is rolled back whole: no half-migrated database', (t) => {
  const path = join(tempDir(t), 'kotoba.db')
  openDatabase(path).close()
  const broken: Migration = {
    version: latestSchemaVersion + 1,
    name: 'breaks after its first statement',
    up: (db) => {
      db.exec('CREATE TABLE half_done (x INTEGER)')
      db.exec("INSERT INTO corpora (name, kind, source) VALUES ('from-broken', 'monolingual', 'x')")
      db.exec('THIS IS NOT SQL')
    },
  }
  assert.throws(() => openDatabase(path, { migrations: [...migrations, broken] }), (error: unknown) => {
    assert.ok(error instanceof MigrationError)
    assert.match(error.message, /migration \d+ \(breaks after its first statement\) failed and was rolled back/)
    return true
  })
  const db = new BetterSqlite3(path)
  t.after(() => db.close())
  assert.equal(db.pragma('user_version', { simple: true }), latestSchemaVersion)
  assert.ok(!tables(db).includes('half_done'))
  assert.deepEqual(db.prepare("SELECT * FROM corpora WHERE name = 'from-broken'").all(), [])
})

test('a database from a newer app version is refused with a clear error', (t) => {
  const path = join(tempDir(t), 'kotoba.db')
  const raw = new BetterSqlite3(path)
  raw.pragma(`user_version = ${latestSchemaVersion + 5}`)
  raw.close()
  assert.throws(() => openDatabase(path), (error: unknown) => {
    assert.ok(error instanceof SchemaTooNewError)
    assert.match(error.message, new RegExp(`schema version ${latestSchemaVersion + 5}.*only knows up to ${latestSchemaVersion}`))
    return true
  })
})

test('blobs are checked against their declared shape', (t) => {
  const db = openDatabase(join(tempDir(t), 'kotoba.db'))
  t.after(() => db.close())
  const run = db.prepare("INSERT INTO runs (name, model, config) VALUES ('r', 'seq2seq', '{}')").run().lastInsertRowid
  const insert = db.prepare(
    `INSERT INTO attention_maps (run_id, step, probe_idx, attn_type, rows, cols, data, src_tokens, tgt_tokens)
     VALUES (?, 0, 0, 'cross', ?, ?, ?, '[]', '[]')`,
  )
  const weights = Buffer.from(new Float32Array([0.25, 0.75, 0.5, 0.5, 1, 0]).buffer)
  insert.run(run, 3, 2, weights)
  assert.throws(() => insert.run(run, 2, 2, weights), /CHECK constraint failed/)
  const stored = db.prepare('SELECT data FROM attention_maps').get() as { data: Buffer }
  assert.deepEqual([...new Float32Array(stored.data.buffer, stored.data.byteOffset, 6)], [0.25, 0.75, 0.5, 0.5, 1, 0])
})

test('training speed is kept per run and device; the newest run on a device is the one reported; deleting a run forgets it', async (t) => {
  const db = openDatabase(join(tempDir(t), 'kotoba.db'))
  t.after(() => db.close())
  const addRun = (name: string) => Number(db.prepare("INSERT INTO runs (name, model, config) VALUES (?, 'seq2seq', '{}')").run(name).lastInsertRowid)
  const [first, second] = [addRun('first'), addRun('second')]
  const cpu = { backend: 'wasm', device: 'Some CPU @ 3.0GHz' } as const
  const gpu = { backend: 'webgpu', device: 'nvidia hopper' } as const
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5)) // updated_at has millisecond resolution
  assert.equal(lastRunOnDevice(db, cpu), null)
  recordDeviceSpeed(db, first, cpu, 1000, 10)
  await tick()
  recordDeviceSpeed(db, second, cpu, 1500, 10)
  await tick()
  recordDeviceSpeed(db, first, gpu, 90_000, 20)
  assert.deepEqual({ ...lastRunOnDevice(db, cpu)!, at: '' }, { run: 'second', backend: 'wasm', device: cpu.device, tokensPerSecond: 1500, step: 10, at: '' })
  assert.equal(lastRunOnDevice(db, gpu)?.run, 'first')
  // The same run logging again updates its row (latest window), and is then the newest on that device.
  await tick()
  recordDeviceSpeed(db, first, cpu, 1200, 30)
  assert.deepEqual([lastRunOnDevice(db, cpu)?.run, lastRunOnDevice(db, cpu)?.tokensPerSecond, lastRunOnDevice(db, cpu)?.step], ['first', 1200, 30])
  assert.equal((db.prepare('SELECT count(*) AS n FROM run_devices').get() as { n: number }).n, 3)
  db.prepare('DELETE FROM runs WHERE id = ?').run(first)
  assert.equal(lastRunOnDevice(db, cpu)?.run, 'second')
  assert.equal(lastRunOnDevice(db, gpu), null)
})
