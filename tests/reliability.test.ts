// Faults a careful user meets (issue 17), replayed on real processes and a real SQLite file: a long import beside a
// training in another process, a disk that fills up during a checkpoint, and SIGTERM/SIGHUP to a training.
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { Random } from '../models/core/random.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { cleanEnv, cliPath, parseJsonOutput, repoRoot, runCli, tempDir, writeLargeTsv } from './helpers.ts'

const dir = tempDir({ after })
const templateDb = join(dir, 'template.db')
const letters = 'abcdefgh'

/** A prepared database (reversal corpus, split, BPE tokenizer), copied for each test. */
before(async () => {
  const random = new Random(11)
  const lines = Array.from({ length: 600 }, () => {
    const sequence = Array.from({ length: 3 + random.integer(4) }, () => letters[random.integer(letters.length)]!)
    return `${sequence.join(' ')}\t${[...sequence].reverse().join(' ')}`
  })
  writeFileSync(join(dir, 'reverse.tsv'), `${lines.join('\n')}\n`)
  const engine = await Engine.open({ dbPath: templateDb, loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
  const wait = async (started: unknown) => {
    const job = await engine.jobs.wait((started as { jobId: string }).jobId)
    assert.equal(job.status, 'done', job.error ?? '')
  }
  await wait(await engine.handle('corpus.import', { name: 'reverse', files: [join(dir, 'reverse.tsv')] }))
  await engine.handle('corpus.split', { name: 'reverse', dev: 20, test: 20, seed: 3 })
  await wait(await engine.handle('tokenizer.train', { corpus: 'reverse', name: 'letters', type: 'bpe', vocabSize: 50 }))
  await engine.close()
})

function copyTemplate(to: string): string {
  const db = new BetterSqlite3(templateDb, { readonly: true })
  db.exec(`VACUUM INTO '${to.replaceAll("'", "''")}'`)
  db.close()
  return to
}

const trainConfig = { seq2seq: { cell: 'gru', embeddingSize: 16, hiddenSize: 32, dropout: 0 }, training: { tokenBudget: 200, lr: 5e-3, logEvery: 1, validEvery: 1000, validSentences: 5 } }

function startTraining(dbPath: string, name: string, maxSteps: number, checkpointEvery: number, env: NodeJS.ProcessEnv = {}, model = trainConfig.seq2seq): { child: ChildProcess; output: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const config = join(dir, `${name}.json`)
  writeFileSync(config, JSON.stringify({ seq2seq: model, training: { ...trainConfig.training, checkpointEvery } }))
  const args = [cliPath, '--db', dbPath, '--no-sample', '--backend', 'wasm', '--json', 'train', '--model', 'seq2seq', '--corpus', 'reverse', '--tokenizer', 'letters', '--name', name, '--max-steps', String(maxSteps), '--config', config]
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const output = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  )
  return { child, output }
}

/** Polls a read-only query until it holds (or fails the test after `ms`). */
async function until(what: string, check: () => boolean, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function reader(dbPath: string) {
  const db = new BetterSqlite3(dbPath, { readonly: true })
  return {
    run: (name: string) => db.prepare('SELECT status, step, error FROM runs WHERE name = ?').get(name) as { status: string; step: number; error: string | null } | undefined,
    checkpoints: (name: string) => (db.prepare('SELECT c.step FROM checkpoints c JOIN runs r ON r.id = c.run_id WHERE r.name = ? ORDER BY c.step').all(name) as { step: number }[]).map((r) => r.step),
    corpus: (name: string) => db.prepare('SELECT state, (SELECT count(*) FROM corpus_rows WHERE corpus_id = corpora.id) AS rows FROM corpora WHERE name = ?').get(name) as { state: string; rows: number } | undefined,
    close: () => db.close(),
  }
}

test('a long import and a training in two other processes both succeed: no writer waits for the whole import', async (t) => {
  const dbPath = copyTemplate(join(tempDir(t), 'kotoba.db'))
  const big = join(tempDir(t), 'big.tsv')
  const importRows = 400_000 // ~15 s of import: longer than the 10 s busy timeout that one import transaction used to exceed
  writeLargeTsv(big, importRows)
  const db = reader(dbPath)
  t.after(() => db.close())

  const importer = spawn(process.execPath, [cliPath, '--db', dbPath, '--no-sample', '--json', 'corpus', 'import', big, '--name', 'big'], { cwd: repoRoot, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let importOut = ''
  let importErr = ''
  importer.stdout!.on('data', (chunk: Buffer) => (importOut += chunk.toString()))
  importer.stderr!.on('data', (chunk: Buffer) => (importErr += chunk.toString()))
  const imported = new Promise<number | null>((resolve) => importer.once('exit', resolve))
  await until('the import to commit its first rows', () => (db.corpus('big')?.rows ?? 0) > 0)

  // While rows are committed, nobody sees a partial corpus.
  const listed = parseJsonOutput<{ corpora: { name: string }[] }>(runCli(['--db', dbPath, '--no-sample', '--json', 'corpus', 'list']))
  assert.ok(!listed.corpora.some((c) => c.name === 'big'), 'a corpus being imported is not listed')
  assert.equal(db.corpus('big')?.state, 'importing')

  const training = startTraining(dbPath, 'beside-import', 40, 5)
  const [trained, importCode] = await Promise.all([training.output, imported])
  assert.equal(importCode, 0, `the import succeeded:\n${importErr}`)
  assert.equal(JSON.parse(importOut).rows, importRows)
  assert.equal(trained.code, 0, `the training succeeded:\n${trained.stdout}\n${trained.stderr}`)
  assert.equal(JSON.parse(trained.stdout).status, 'done')
  assert.deepEqual(db.run('beside-import'), { status: 'done', step: 40, error: null })
  assert.deepEqual(db.corpus('big'), { state: 'ready', rows: importRows })
})

test('an import killed midway leaves nothing visible, and the next start removes its rows', async (t) => {
  const dbPath = copyTemplate(join(tempDir(t), 'kotoba.db'))
  const big = join(tempDir(t), 'big.tsv')
  writeLargeTsv(big, 200_000)
  const db = reader(dbPath)
  t.after(() => db.close())
  const importer = spawn(process.execPath, [cliPath, '--db', dbPath, '--no-sample', '--json', 'corpus', 'import', big, '--name', 'killed'], { cwd: repoRoot, env: cleanEnv(), stdio: 'ignore' })
  await until('the import to commit rows', () => (db.corpus('killed')?.rows ?? 0) > 10_000)
  importer.kill('SIGKILL')
  await new Promise((resolve) => importer.once('exit', resolve))
  assert.equal(db.corpus('killed')?.state, 'importing', 'the killed import left its chunks, hidden')
  const listed = parseJsonOutput<{ corpora: { name: string }[] }>(runCli(['--db', dbPath, '--no-sample', '--json', 'corpus', 'list']))
  assert.deepEqual(listed.corpora.map((c) => c.name), ['reverse'])
  assert.equal(db.corpus('killed'), undefined, 'the next engine start removed the abandoned import')
  const again = runCli(['--db', dbPath, '--no-sample', '--json', 'corpus', 'import', join(dir, 'reverse.tsv'), '--name', 'killed'])
  assert.equal(again.status, 0, again.stderr)
})

/** A small tmpfs for the database; where mounting is not allowed, SQLite's page limit makes the same SQLITE_FULL. */
function smallDisk(t: { after: (fn: () => void) => void }, megabytes: number): { dir: string; fill: () => void; free: () => void; simulated: boolean } {
  const mountPoint = mkdtempSync(join(tmpdir(), 'kotoba-full-'))
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${megabytes}m`, 'tmpfs', mountPoint]).status === 0
  t.after(() => {
    if (mounted) spawnSync('umount', ['-l', mountPoint])
    rmSync(mountPoint, { recursive: true, force: true })
  })
  const filler = join(mountPoint, 'filler')
  return {
    dir: mountPoint,
    simulated: !mounted,
    fill: () => {
      if (!mounted) return
      // Write until the disk says no: every byte SQLite would grow into is taken.
      const block = Buffer.alloc(64 * 1024)
      try {
        for (;;) writeFileSync(filler, block, { flag: 'a' })
      } catch (error) {
        assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC')
      }
      try {
        for (;;) writeFileSync(filler, Buffer.alloc(512), { flag: 'a' })
      } catch {
        // full to the last block
      }
    },
    free: () => rmSync(filler, { force: true }),
  }
}

test('a full disk during a checkpoint: a disk_full error, the run paused at its last good checkpoint, reads still work, resume finishes', async (t) => {
  const disk = smallDisk(t, 24)
  mkdirSync(disk.dir, { recursive: true })
  const dbPath = join(disk.dir, 'kotoba.db')
  copyFileSync(copyTemplate(join(dir, `full-${Date.now()}.db`)), dbPath)
  const db = reader(dbPath)
  t.after(() => db.close())
  // Simulated: the database may not grow past its current size plus about ten checkpoints.
  const pages = Math.ceil(statSync(dbPath).size / 4096) + 300
  const training = startTraining(dbPath, 'filled', 120, 1, disk.simulated ? { KOTOBA_MAX_DB_PAGES: String(pages) } : {})
  await until('the first checkpoint', () => db.checkpoints('filled').length > 0)
  disk.fill()
  const result = await training.output
  assert.notEqual(result.code, 0, 'the command reports the failure')
  const error = JSON.parse(result.stdout) as { error: string; code: string }
  assert.equal(error.code, 'disk_full', result.stdout)
  assert.match(error.error, /disk is full/)
  assert.doesNotMatch(result.stderr, /SqliteError|\n\s+at /, 'no stack trace')

  // Reading works while the disk is still full.
  const listed = runCli(['--db', dbPath, '--no-sample', '--json', 'runs', 'list'])
  assert.equal(listed.status, 0, listed.stdout + listed.stderr)
  const shown = parseJsonOutput<{ status: string; step: number; checkpoints: { step: number }[] }>(runCli(['--db', dbPath, '--no-sample', '--json', 'runs', 'show', 'filled']))
  assert.equal(shown.status, 'paused')
  const last = Math.max(...shown.checkpoints.map((c) => c.step))
  assert.equal(shown.step, last, 'paused at its last whole checkpoint')
  assert.ok(last >= 1 && last < 120)

  disk.free()
  const finished = spawnSync(process.execPath, [cliPath, '--db', dbPath, '--no-sample', '--backend', 'wasm', '--json', 'runs', 'resume', 'filled'], { cwd: repoRoot, env: cleanEnv(), encoding: 'utf8', timeout: 300_000 })
  assert.equal(finished.status, 0, finished.stdout + finished.stderr)
  assert.deepEqual(JSON.parse(finished.stdout).status, 'done', 'resumed from the checkpoint and finished')
})

for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
  test(`${signal} to a training saves a checkpoint at the current step and leaves the run paused`, async (t) => {
    const dbPath = copyTemplate(join(tempDir(t), 'kotoba.db'))
    const db = reader(dbPath)
    t.after(() => db.close())
    const training = startTraining(dbPath, 'signalled', 100_000, 1000)
    await until('a few steps', () => (db.run('signalled')?.step ?? 0) >= 3)
    training.child.kill(signal)
    const result = await training.output
    assert.equal(result.signal, null, `the process handled ${signal} and exited by itself:\n${result.stderr}`)
    const run = db.run('signalled')!
    assert.equal(run.status, 'paused')
    assert.ok(run.step >= 3)
    assert.deepEqual(db.checkpoints('signalled'), [run.step], 'a checkpoint at the step it stopped (none was due before)')
  })
}

test('a wasm pool helper thread that dies mid-step costs a retried step, not the run', async (t) => {
  const dbPath = copyTemplate(join(tempDir(t), 'kotoba.db'))
  // The helper exits while holding a job of some product, a few steps in (as a thread killed from outside would).
  // Products big enough to be split across the pool's threads.
  const model = { cell: 'gru', embeddingSize: 64, hiddenSize: 256, dropout: 0 } as const
  const training = startTraining(dbPath, 'lost-helper', 12, 4, { KOTOBA_FAULT_POOL_HELPER_EXIT: '40' }, model)
  const result = await training.output
  assert.equal(result.code, 0, `the run finished:\n${result.stdout}\n${result.stderr}`)
  assert.equal(JSON.parse(result.stdout).status, 'done')
  assert.match(result.stderr, /a helper thread exited in \S+; the pool was restarted; retrying the step/)
  const db = new BetterSqlite3(dbPath, { readonly: true })
  t.after(() => db.close())
  const retried = db.prepare("SELECT count(*) AS n FROM metrics WHERE name = 'train/retried_steps'").get() as { n: number }
  assert.equal(retried.n, 1, 'one step was retried')
  const losses = db.prepare("SELECT count(*) AS n FROM metrics WHERE name = 'train/loss'").get() as { n: number }
  assert.equal(losses.n, 12, 'every step has its one loss point')
})

test('a helper thread that dies during a reinforced phase’s rollouts costs a retried batch, not the run', async (t) => {
  const dbPath = copyTemplate(join(tempDir(t), 'kotoba.db'))
  const model = { cell: 'gru', embeddingSize: 64, hiddenSize: 256, dropout: 0 } as const
  const parent = await startTraining(dbPath, 'policy', 4, 4, {}, model).output
  assert.equal(parent.code, 0, parent.stderr)
  // The first products the phase runs are its rollouts' (sampling and greedy decoding of the batch, split across the pool).
  const args = [cliPath, '--db', dbPath, '--no-sample', '--backend', 'wasm', '--json', 'train', '--from', 'policy', '--name', 'policy-scst', '--rl', 'scst', '--steps', '3']
  const result = spawnSync(process.execPath, args, { cwd: repoRoot, env: cleanEnv({ KOTOBA_FAULT_POOL_HELPER_EXIT: '3' }), encoding: 'utf8', timeout: 300_000 })
  assert.equal(result.status, 0, `the phase finished:\n${result.stdout}\n${result.stderr}`)
  assert.equal(JSON.parse(result.stdout).status, 'done')
  assert.match(result.stderr, /a helper thread exited in \S+; the pool was restarted; retrying the batch/)
  const db = new BetterSqlite3(dbPath, { readonly: true })
  t.after(() => db.close())
  const metric = (name: string) => (db.prepare("SELECT count(*) AS n FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.name = 'policy-scst' AND m.name = ?").get(name) as { n: number }).n
  assert.equal(metric('train/retried_steps'), 1, 'one batch was made again')
  assert.equal(metric('rl/reward'), 3, 'every update logged its reward once')
})

test('inputs over the documented limits and bad files get clear, short errors on the CLI (no raw Node errors, no echo)', async (t) => {
  const work = tempDir(t)
  const dbPath = copyTemplate(join(work, 'kotoba.db'))
  const cli = (...args: string[]) => runCli(['--db', dbPath, '--no-sample', '--json', ...args])
  const refused = (result: ReturnType<typeof runCli>, code: string, message: RegExp) => {
    assert.notEqual(result.status, 0, result.stdout)
    const body = parseJsonOutput<{ error: string; code: string }>(result)
    assert.equal(body.code, code, body.error)
    assert.match(body.error, message)
    assert.ok(body.error.length < 400, 'short enough to read')
    assert.doesNotMatch(result.stderr, /\n\s+at \S+ \(/, 'no stack trace')
    return body
  }
  // Names: empty-looking, control characters, huge — refused without repeating them.
  refused(cli('corpus', 'show', '   '), 'bad_request', /a name needs a visible character/)
  const escape = refused(cli('corpus', 'show', 'a\u001b[31mred'), 'bad_request', /control characters/)
  assert.ok(!escape.error.includes('\u001b'))
  const huge = 'n'.repeat(100_000) // (a process argument holds at most 128 KiB)
  refused(cli('corpus', 'show', huge), 'bad_request', /at most 200 characters/)
  // Steps: bounded.
  refused(cli('train', '--model', 'seq2seq', '--corpus', 'reverse', '--tokenizer', 'letters', '--name', 'r', '--max-steps', '1e12'), 'bad_request', /maxSteps: .*10000000/)
  // --config: missing, not JSON.
  refused(cli('train', '--model', 'seq2seq', '--corpus', 'reverse', '--tokenizer', 'letters', '--name', 'r', '--config', join(work, 'none.json')), 'usage', /--config .*none\.json: no such file/)
  writeFileSync(join(work, 'bad.json'), '{ not json')
  refused(cli('train', '--model', 'seq2seq', '--corpus', 'reverse', '--tokenizer', 'letters', '--name', 'r', '--config', join(work, 'bad.json')), 'usage', /is not valid JSON/)
  // Import: a line over the limit is named; a binary is not taken for vectors; a cut-short .mo says truncated.
  writeFileSync(join(work, 'long.txt'), `short line\n${'x'.repeat((1 << 20) + 10)}\nmore\n`)
  refused(cli('corpus', 'import', join(work, 'long.txt'), '--name', 'long'), 'too_large', /long\.txt line 2: longer than 1,048,576 characters/)
  refused(cli('w2v', 'import', process.execPath, '--name', 'vectors'), 'bad_request', /not a word2vec file/)
  const mo = readFileSync(join(repoRoot, 'tests', 'fixtures', 'sample.es.mo'))
  writeFileSync(join(work, 'cut.mo'), mo.subarray(0, Math.floor(mo.length / 2)))
  refused(cli('corpus', 'import', join(work, 'cut.mo'), '--name', 'cut'), 'failed', /cut\.mo byte \d+: truncated/)
  // Export: into a missing folder, onto an existing file (unless --force).
  refused(cli('corpus', 'export', 'reverse', '--out', join(work, 'missing', 'out.tsv')), 'not_found', /the folder .*missing does not exist/)
  writeFileSync(join(work, 'taken.tsv'), 'keep me\n')
  refused(cli('corpus', 'export', 'reverse', '--out', join(work, 'taken.tsv')), 'conflict', /exists; overwrite it with --force/)
  assert.equal(readFileSync(join(work, 'taken.tsv'), 'utf8'), 'keep me\n', 'the existing file is untouched')
  assert.equal(cli('corpus', 'export', 'reverse', '--out', join(work, 'taken.tsv'), '--force').status, 0)
  // Translate: a source sentence over the piece limit.
  const trained = await startTraining(dbPath, 'tiny', 2, 2).output
  assert.equal(trained.code, 0, trained.stderr)
  const longSentence = Array.from({ length: 1500 }, (_, i) => letters[i % letters.length]).join(' ')
  refused(runCli(['--db', dbPath, '--no-sample', '--backend', 'wasm', '--json', 'translate', '--run', 'tiny'], { input: `${longSentence}\n` }), 'too_large', /is [\d,]+ pieces long; at most 1024/)
  refused(runCli(['--db', dbPath, '--no-sample', '--json', 'translate', '--run', 'tiny'], { input: `${'a'.repeat(25_000)}\n` }), 'bad_request', /at most 20,000 characters/)
})

test('single-thread training is bit-reproducible for a seed, and a paused-and-resumed run matches an uninterrupted one exactly', async (t) => {
  const work = tempDir(t)
  // seq2seq with dropout on: two clean runs, then one interrupted (SIGTERM pauses it) and resumed.
  const model = { cell: 'lstm', embeddingSize: 16, hiddenSize: 32, dropout: 0.2 } as const
  const oneThread = { KOTOBA_WASM_THREADS: '1' }
  const curve = (dbPath: string, name: string) => {
    const db = new BetterSqlite3(dbPath, { readonly: true })
    const values = (db.prepare("SELECT m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.name = ? AND m.name = 'train/loss' ORDER BY m.step").all(name) as { step: number; value: number }[]).map((r) => [r.step, r.value])
    db.close()
    return values
  }
  const runs: string[] = []
  for (const copy of ['a', 'b', 'c']) {
    const dbPath = copyTemplate(join(work, `${copy}.db`))
    runs.push(dbPath)
    const training = startTraining(dbPath, 'same', 16, copy === 'c' ? 1000 : 8, oneThread, model)
    if (copy === 'c') {
      const db = reader(dbPath)
      await until('some steps', () => (db.run('same')?.step ?? 0) >= 5)
      db.close()
      training.child.kill('SIGTERM')
      assert.equal((await training.output).code, 0)
      const resumed = spawnSync(process.execPath, [cliPath, '--db', dbPath, '--no-sample', '--backend', 'wasm', '--json', 'runs', 'resume', 'same'], { cwd: repoRoot, env: cleanEnv(oneThread), encoding: 'utf8' })
      assert.equal(resumed.status, 0, resumed.stderr)
    } else assert.equal((await training.output).code, 0)
  }
  const [first, second, interrupted] = runs.map((dbPath) => curve(dbPath, 'same'))
  assert.equal(first!.length, 16)
  assert.deepEqual(second, first, 'two clean single-thread runs: the same losses, bit for bit')
  assert.deepEqual(interrupted, first, 'paused and resumed: the same losses as straight through')

  // word2vec: one thread, paused mid-training and resumed, ends with the vectors of an uninterrupted run.
  const big = join(work, 'words.tsv')
  writeLargeTsv(big, 40_000)
  const vectorsOf = (dbPath: string) => {
    const db = new BetterSqlite3(dbPath, { readonly: true })
    const row = db.prepare("SELECT e.vectors FROM embeddings e JOIN runs r ON r.id = e.run_id WHERE r.name = 'w' ORDER BY e.step DESC LIMIT 1").get() as { vectors: Buffer }
    const losses = (db.prepare("SELECT m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.name = 'w' AND m.name = 'train/loss' ORDER BY m.step").all() as { value: number }[]).map((r) => r.value)
    db.close()
    return { vectors: row.vectors, losses }
  }
  const w2vArgs = (dbPath: string) => [cliPath, '--db', dbPath, '--no-sample', '--json', 'w2v', 'train', '--corpus', 'big', '--side', 'src', '--name', 'w', '--threads', '1', '--epochs', '4', '--dim', '16', '--min-count', '1', '--no-eval', '--seed', '5']
  const results = []
  for (const copy of ['straight', 'paused']) {
    const dbPath = copyTemplate(join(work, `w2v-${copy}.db`))
    assert.equal(runCli(['--db', dbPath, '--no-sample', '--json', 'corpus', 'import', big, '--name', 'big']).status, 0)
    const child = spawn(process.execPath, w2vArgs(dbPath), { cwd: repoRoot, env: cleanEnv(), stdio: 'ignore' })
    const exited = new Promise((resolve) => child.once('exit', resolve))
    if (copy === 'paused') {
      const db = new BetterSqlite3(dbPath, { readonly: true })
      await until('the first epoch', () => ((db.prepare("SELECT step FROM runs WHERE name = 'w'").get() as { step?: number } | undefined)?.step ?? 0) >= 1)
      db.close()
      child.kill('SIGTERM')
      await exited
      const resumed = runCli(['--db', dbPath, '--no-sample', '--json', 'w2v', 'resume', 'w'])
      assert.equal(resumed.status, 0, resumed.stderr)
    } else await exited
    results.push(vectorsOf(dbPath))
  }
  assert.equal(results[1]!.losses.length, 4)
  assert.deepEqual(results[1]!.losses, results[0]!.losses, 'the same loss per epoch')
  assert.ok(results[1]!.vectors.equals(results[0]!.vectors), 'the same final vectors, bit for bit')
})
