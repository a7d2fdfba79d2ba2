// The engine as Electron runs it: the built out/main/engine.js, forked with the system Node and
// driven over IPC by main/engine/host.ts (the same code Electron's main process uses).
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { ApiError, KotobaClient, type JobProgress } from '../main/api/contract.ts'
import { startEngineProcess, type EngineProcess } from '../main/engine/host.ts'
import { sampleCorpusNames } from '../main/engine/sample/load.ts'
import { latestSchemaVersion } from '../main/engine/store/migrations.ts'
import { cleanEnv, repoRoot, tempDir, writeLargeTsv } from './helpers.ts'

const engineScript = join(repoRoot, 'out', 'main', 'engine.js')

async function start(t: Parameters<typeof tempDir>[0], args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ engine: EngineProcess; client: KotobaClient; dir: string; dbPath: string }> {
  assert.ok(existsSync(engineScript), 'out/main/engine.js is missing: run npm run build first')
  const dir = tempDir(t)
  const dbPath = join(dir, 'kotoba.db')
  const engine = await startEngineProcess({ script: engineScript, nodePath: process.execPath, args: ['--db', dbPath, ...args], env: cleanEnv(env) })
  t.after(() => engine.close())
  return { engine, client: new KotobaClient(engine), dir, dbPath }
}

test('the bundled engine starts over IPC, reports itself and loads the sample corpora once', async (t) => {
  const { engine, client, dbPath } = await start(t)
  assert.equal(engine.dbPath, dbPath)
  const info = await client.call('app.info')
  assert.equal(info.dbPath, dbPath)
  assert.equal(info.schemaVersion, latestSchemaVersion)
  assert.ok(info.compute.active, 'some TensorFlow.js backend is active')
  assert.ok(info.compute.attempts.some((a) => a.status === 'active' && a.name === info.compute.active))
  const corpora = await client.call('corpus.list')
  const bible = corpora.find((c) => c.name === sampleCorpusNames.bible)
  assert.equal(bible?.rows, 4616)
  assert.equal(bible?.srcLang, 'en')
  assert.equal(corpora.find((c) => c.name === sampleCorpusNames.hamlet)?.rows, 78)
  const { rows } = await client.call('corpus.rows', { name: sampleCorpusNames.bible, offset: 0, limit: 1 })
  assert.equal(rows[0]?.group, 'Genesis')
})

test('a bad payload gets a clear error and the engine keeps serving', async (t) => {
  const { engine, client } = await start(t, ['--no-sample'])
  await assert.rejects(engine.call('corpus.rows', { name: 'x', limit: 'ten' }), (error: unknown) => {
    assert.ok(error instanceof ApiError)
    assert.equal(error.code, 'bad_request')
    assert.deepEqual(error.issues?.map((i) => i.path), ['limit'])
    assert.match(error.message, /^invalid params: limit: /)
    return true
  })
  await assert.rejects(engine.call('corpus.list', { surprise: true }), (error: unknown) => error instanceof ApiError && error.code === 'bad_request' && /surprise/.test(error.message))
  await assert.rejects(engine.call('corpus.explode', {}), (error: unknown) => error instanceof ApiError && error.code === 'unknown_method')
  await assert.rejects(engine.call('corpus.show', { name: 'nope' }), (error: unknown) => error instanceof ApiError && error.code === 'not_found')
  await assert.rejects(engine.call('corpus.import', { name: 'n', files: ['/definitely/not/here.tsv'] }), /no such file/)
  assert.deepEqual(await client.call('corpus.list'), [])
})

test('a job reports progress with ETA, the engine answers meanwhile, and cancelling leaves no partial rows', async (t) => {
  const { client, dir, dbPath } = await start(t, ['--no-sample'])
  const file = join(dir, 'big.tsv')
  writeLargeTsv(file, 1_000_000)
  const updates: JobProgress[] = []
  let cancelSent = false
  const finished = new Promise<JobProgress>((resolve) => {
    client.on('job.progress', (job) => {
      updates.push(job)
      if (job.status === 'running' && (job.fraction ?? 0) > 0.05 && !cancelSent) {
        cancelSent = true
        void client.call('jobs.cancel', { jobId: job.jobId })
      }
      if (job.status !== 'running') resolve(job)
    })
  })
  const { jobId } = await client.call('corpus.import', { name: 'big', files: [file] })
  // The request loop stays free while the worker writes.
  const started = Date.now()
  assert.deepEqual(await client.call('corpus.list'), [])
  assert.ok(Date.now() - started < 2000, 'the engine answered while the job ran')
  const final = await finished
  assert.equal(final.jobId, jobId)
  assert.equal(final.status, 'cancelled')
  const running = updates.filter((u) => u.status === 'running' && u.fraction !== null && u.fraction > 0)
  assert.ok(running.length > 0, 'progress was reported')
  assert.ok(running.some((u) => u.etaSeconds !== null && u.throughput !== null && u.throughput > 0), 'with throughput and ETA')
  assert.equal(final.unit, 'bytes')
  assert.ok((final.fraction ?? 1) < 1, 'it stopped midway')
  assert.deepEqual(await client.call('corpus.list'), [])
  const db = new BetterSqlite3(dbPath, { readonly: true })
  t.after(() => db.close())
  assert.equal((db.prepare('SELECT count(*) AS n FROM corpus_rows').get() as { n: number }).n, 0)
  assert.equal((db.prepare('SELECT count(*) AS n FROM corpora').get() as { n: number }).n, 0)
  assert.equal((await client.call('jobs.get', { jobId })).status, 'cancelled')
})

test('a job whose compute backend never starts is retried once in a fresh worker, then fails saying why', async (t) => {
  // A 1 ms deadline: no backend can start that fast, so every attempt counts as a hung start.
  const { client, dir } = await start(t, ['--no-sample'], { KOTOBA_COMPUTE_START_DEADLINE_MS: '1' })
  const { writeFileSync } = await import('node:fs')
  writeFileSync(join(dir, 'v.txt'), '3 2\nking 1 0\nqueen 0.9 0.1\nman 0 1\n')
  writeFileSync(join(dir, 'a.txt'), ': s\nking queen man woman\n')
  await client.call('w2v.import', { name: 'tiny', file: join(dir, 'v.txt') })
  await assert.rejects(client.call('w2v.eval', { name: 'tiny', analogies: join(dir, 'a.txt') }), /the TensorFlow.js backend did not start within 0.001 s \(2 attempts\)/)
})

test('a job that fails reports why, and a finished one commits', async (t) => {
  const { client, dir } = await start(t, ['--no-sample'])
  const { writeFileSync } = await import('node:fs')
  const bad = join(dir, 'bad.tsv')
  writeFileSync(bad, 'a\tb\nno tab here\n')
  const good = join(dir, 'good.tsv')
  writeFileSync(good, 'a\tb\nc\td\n')
  const wait = (jobId: string) =>
    new Promise<JobProgress>((resolve) => {
      const poll = async () => {
        const job = await client.call('jobs.get', { jobId })
        if (job.status === 'running') setTimeout(() => void poll(), 50)
        else resolve(job)
      }
      void poll()
    })
  const failed = await wait((await client.call('corpus.import', { name: 'bad', files: [bad] })).jobId)
  assert.equal(failed.status, 'failed')
  assert.equal(failed.error, 'bad.tsv line 2: expected "source<TAB>target", found no tab')
  const done = await wait((await client.call('corpus.import', { name: 'good', files: [good], srcLang: 'en', tgtLang: 'fr' })).jobId)
  assert.equal(done.status, 'done')
  assert.equal(done.fraction, 1)
  assert.deepEqual(
    (await client.call('corpus.list')).map((c) => [c.name, c.rows, c.tgtLang]),
    [['good', 2, 'fr']],
  )
  await assert.rejects(client.call('corpus.import', { name: 'good', files: [good] }), (error: unknown) => error instanceof ApiError && error.code === 'conflict')
  // A finished import starts the search-index job by itself.
  const indexJob = (await client.call('jobs.list')).find((job) => job.kind === 'corpus.index')
  assert.ok(indexJob, 'an index job was started')
  assert.equal((await wait(indexJob.jobId)).status, 'done')
  assert.equal((await client.call('corpus.search', { name: 'good', query: 'a' })).total, 1)
})
