import assert from 'node:assert/strict'
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { AppInfo, CorpusSummary } from '../main/api/contract.ts'
import { bundleIsCurrent } from '../main/bundle-freshness.mjs'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'

test('kotoba and its job workers run a bundle only while it is newer than every file it is built from, else the source', (t) => {
  const root = tempDir(t)
  const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds)
  const write = (path: string, seconds: number) => {
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, '')
    at(path, seconds)
  }
  for (const file of ['main/cli/index.ts', 'main/engine/engine.ts', 'models/seq2seq/model.ts', 'package.json']) write(join(root, file), 1000)
  for (const folder of ['main/cli', 'main/engine', 'main', 'models/seq2seq', 'models']) at(join(root, folder), 1000)
  assert.equal(bundleIsCurrent(root, 'cli.js', {}), false, 'not built yet')
  write(join(root, 'out/main/cli.js'), 2000)
  assert.equal(bundleIsCurrent(root, 'cli.js', {}), true)
  assert.equal(bundleIsCurrent(root, 'job-worker.js', {}), false, 'each bundle by its own time')
  assert.equal(bundleIsCurrent(root, 'cli.js', { KOTOBA_SOURCE: '1' }), false, 'asked for the source')
  at(join(root, 'models/seq2seq/model.ts'), 3000)
  assert.equal(bundleIsCurrent(root, 'cli.js', {}), false, 'a source file edited after the build')
  at(join(root, 'models/seq2seq/model.ts'), 1000)
  rmSync(join(root, 'main/engine/engine.ts'))
  assert.equal(bundleIsCurrent(root, 'cli.js', {}), false, 'a source file deleted after the build (its folder changed)')
  at(join(root, 'main/engine'), 1000)
  assert.equal(bundleIsCurrent(root, 'cli.js', {}), true)
  at(join(root, 'package.json'), 3000)
  assert.equal(bundleIsCurrent(root, 'cli.js', {}), false, 'the package changed after the build')

  // Both entries answer alike here.
  const versions = [runCli(['--version']), runCli(['--version'], { env: { KOTOBA_SOURCE: '1' } })]
  for (const result of versions) assert.equal(result.status, 0, result.stderr)
  assert.match(versions[0]!.stdout, /^\d+\.\d+\.\d+\n$/)
  assert.equal(versions[1]!.stdout, versions[0]!.stdout)
})

test('kotoba --json info prints one JSON object: version, database, backend and why, tensors, a memory cap where one is set, and an error for one that is not a number', (t) => {
  const db = join(tempDir(t), 'info.db')
  const result = runCli(['--db', db, '--json', 'info'])
  assert.equal(result.status, 0, result.stderr)
  const info = parseJsonOutput<AppInfo>(result)
  assert.equal(info.dbPath, db)
  assert.match(info.version, /^\d+\.\d+\.\d+/)
  assert.equal(info.compute.active, 'wasm', 'wasm is the best backend that installs on this kind of machine')
  assert.match(info.compute.reason, /best backend/)
  assert.deepEqual(
    info.compute.attempts.map((a) => [a.name, a.status]),
    [
      ['tensorflow-gpu', 'failed'],
      ['tensorflow', 'failed'],
      ['webgpu', 'failed'],
      ['wasm', 'active'],
      ['cpu', 'not-tried'],
    ],
  )
  assert.match(info.compute.attempts[0]!.detail, /@tensorflow\/tfjs-node-gpu: not installed/)
  assert.equal(typeof info.compute.tensors, 'number')
  assert.equal(info.compute.memoryLimit, null, 'no memory cap unless one is set')
  assert.ok(existsSync(db))

  // A cap on the wasm backend's memory is reported, so a user who set it long ago sees why batches split.
  const capped = parseJsonOutput<AppInfo>(runCli(['--db', db, '--json', 'info'], { env: { KOTOBA_WASM_MEMORY_MIB: '512' } }))
  assert.deepEqual(capped.compute.memoryLimit, { bytes: 512 * 2 ** 20, variable: 'KOTOBA_WASM_MEMORY_MIB' })
  assert.match(runCli(['--db', db, 'info'], { env: { KOTOBA_WASM_MEMORY_MIB: '512' } }).stdout, /^memory: +at most 512\.0 MiB \(KOTOBA_WASM_MEMORY_MIB\)$/m)
  // One that is not a number is an error, not a reason to compute on a slower backend.
  const bad = runCli(['--db', db, '--json', 'info'], { env: { KOTOBA_GPU_MEMORY_MIB: '8GB' } })
  assert.equal(bad.status, 1)
  assert.equal(parseJsonOutput<{ error: string }>(bad).error, "KOTOBA_GPU_MEMORY_MIB must be a positive number of MiB, not '8GB'")
})

test('kotoba info names what the backend computes on, the last run there, and a WebGPU adapter it found (here a software one, skipped)', (t) => {
  const db = join(tempDir(t), 'adapter.db')
  // Chromium's SwiftShader (CI installs chromium): Dawn finds a software adapter, which is not used unless forced.
  const env = { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' }
  const info = parseJsonOutput<AppInfo>(runCli(['--db', db, '--json', 'info'], { env }))
  assert.equal(info.compute.active, 'wasm')
  assert.equal(info.compute.attempts.find((a) => a.name === 'webgpu')?.status, 'skipped')
  const adapter = info.compute.adapter!
  assert.equal(adapter.software, true)
  assert.match(adapter.architecture, /swiftshader/i)
  assert.ok(adapter.limits['maxStorageBuffersPerShaderStage']! >= 8)
  assert.equal(info.compute.lastRun, null)
  const text = runCli(['--db', db, 'info'], { env })
  assert.equal(text.status, 0, text.stderr)
  assert.match(text.stdout, new RegExp(`^device: +${info.compute.device!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'))
  assert.match(text.stdout, /^adapter: +google · swiftshader .*\(software\), not in use$/m)
  assert.match(text.stdout, /^ +features: .*\bsubgroups\b/m)
  assert.match(text.stdout, new RegExp(`^ +limits: +maxStorageBuffersPerShaderStage ${adapter.limits['maxStorageBuffersPerShaderStage']}, maxStorageBufferBindingSize \\d+`, 'm'))
  assert.match(text.stdout, /^last run: none on this device yet$/m)
})

test('--backend forces one backend; a forced backend that cannot start is an error, not a silent fallback', (t) => {
  const db = join(tempDir(t), 'b.db')
  const cpu = parseJsonOutput<AppInfo>(runCli(['--db', db, '--json', '--backend', 'cpu', 'info']))
  assert.equal(cpu.compute.active, 'cpu')
  assert.equal(cpu.compute.forced, 'cpu')
  const viaEnv = parseJsonOutput<AppInfo>(runCli(['--db', db, '--json', 'info'], { env: { KOTOBA_BACKEND: 'cpu' } }))
  assert.equal(viaEnv.compute.active, 'cpu')
  const forcedMissing = runCli(['--db', db, '--json', '--backend', 'tensorflow', 'info'])
  assert.equal(forcedMissing.status, 1)
  assert.match(parseJsonOutput<{ error: string }>(forcedMissing).error, /forced backend 'tensorflow' is not usable here: @tensorflow\/tfjs-node: not installed/)
  const unknown = runCli(['--db', db, '--json', '--backend', 'quantum', 'info'])
  assert.notEqual(unknown.status, 0)
  assert.match(parseJsonOutput<{ error: string }>(unknown).error, /quantum/)
})

test('corpus import/list/show over the CLI, with --db and KOTOBA_DB choosing the database', (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'pairs.tsv')
  writeFileSync(file, 'good morning\tbuenos días\ngood night\tbuenas noches\n')
  const imported = runCli(['--db', join(dir, 'a.db'), '--json', 'corpus', 'import', file, '--name', 'greetings', '--src', 'en', '--tgt', 'es'])
  assert.equal(imported.status, 0, imported.stderr)
  assert.equal(parseJsonOutput<CorpusSummary>(imported).rows, 2)
  const listed = parseJsonOutput<{ corpora: CorpusSummary[] }>(runCli(['--json', 'corpus', 'list'], { env: { KOTOBA_DB: join(dir, 'a.db') } }))
  assert.deepEqual(
    listed.corpora.map((c) => c.name),
    ['sample-bible-en-es', 'sample-hamlet-dialogues', 'greetings'],
  )
  const other = parseJsonOutput<{ corpora: CorpusSummary[] }>(runCli(['--db', join(dir, 'b.db'), '--no-sample', '--json', 'corpus', 'list']))
  assert.deepEqual(other.corpora, [])
  const shown = runCli(['--db', join(dir, 'a.db'), 'corpus', 'show', 'greetings'])
  assert.equal(shown.status, 0)
  assert.match(shown.stdout, /greetings: 2 parallel rows en→es/)
  assert.match(shown.stdout, /1\tgood morning\tbuenos días/)
  writeFileSync(join(dir, 'train.en'), 'yes\nno\n')
  writeFileSync(join(dir, 'train.es'), 'sí\nno\n')
  const moses = runCli(['--db', join(dir, 'a.db'), '--json', 'corpus', 'import', join(dir, 'train.en'), join(dir, 'train.es'), '--name', 'pair'])
  assert.equal(moses.status, 0, moses.stderr)
  assert.equal(parseJsonOutput<CorpusSummary>(moses).rows, 2)
  const table = runCli(['--db', join(dir, 'a.db'), 'corpus', 'list'])
  assert.match(table.stdout, /^name\s+kind\s+languages\s+rows\s+source$/m)
})

test('errors are one JSON object with "error" and a non-zero exit', (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'e.db')
  const bad = join(dir, 'bad.tsv')
  writeFileSync(bad, 'fine\tbien\nbroken line\n')
  const failed = runCli(['--db', db, '--json', 'corpus', 'import', bad, '--name', 'bad'])
  assert.equal(failed.status, 1)
  assert.deepEqual(parseJsonOutput(failed), { error: 'bad.tsv line 2: expected "source<TAB>target", found no tab', code: 'failed' })
  const missing = runCli(['--db', db, '--json', 'corpus', 'show', 'nope'])
  assert.equal(missing.status, 1)
  assert.deepEqual(parseJsonOutput(missing), { error: "no corpus named 'nope'", code: 'not_found' })
  const usage = runCli(['--db', db, '--json', 'corpus', 'import', bad])
  assert.equal(usage.status, 1)
  assert.match(parseJsonOutput<{ error: string }>(usage).error, /--name/)
  const exportUsage = runCli(['--db', db, '--json', 'export', 'model'])
  assert.equal(exportUsage.status, 1)
  assert.match(parseJsonOutput<{ error: string }>(exportUsage).error, /--run/)
  const w2vUsage = runCli(['--db', db, '--json', 'w2v', 'train'])
  assert.equal(w2vUsage.status, 1)
  assert.match(parseJsonOutput<{ error: string }>(w2vUsage).error, /--corpus/)
  const noRun = runCli(['--db', db, '--json', 'chat', '--run', 'x'])
  assert.equal(noRun.status, 1)
  assert.deepEqual(parseJsonOutput(noRun), { error: "no run named 'x'", code: 'not_found' })
  const noTokenizer = runCli(['--db', db, '--json', 'train', '--model', 'seq2seq', '--corpus', 'sample-bible-en-es', '--tokenizer', 'nope', '--name', 'r'])
  assert.equal(noTokenizer.status, 1)
  assert.deepEqual(parseJsonOutput(noTokenizer), { error: "no tokenizer named 'nope'", code: 'not_found' })
  const plain = runCli(['--db', db, 'corpus', 'show', 'nope'])
  assert.equal(plain.stdout, '')
  assert.match(plain.stderr, /^kotoba: no corpus named 'nope'$/m)
})

test('npm start falls back to browser mode in one clear line where Electron cannot open a window', async (t) => {
  const { spawn } = await import('node:child_process')
  const { repoRoot, cleanEnv } = await import('./helpers.ts')
  const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'start.mjs'), '--db', join(tempDir(t), 's.db')], {
    cwd: repoRoot,
    env: cleanEnv({ KOTOBA_PORT: '0', DISPLAY: '' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => child.kill('SIGTERM'))
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const deadline = Date.now() + 60_000
  while (!/serving on http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  assert.match(stdout, /Kotoba Workbench is serving on http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/)
  const notes = stderr.split('\n').filter((line) => line.includes('desktop window cannot open'))
  assert.equal(notes.length, 1)
  assert.match(notes[0]!, /^kotoba: the desktop window cannot open here \(.+\); starting browser mode instead\.$/)
})

test('corpus search, clean, split and export over the CLI', (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'ops.db')
  const found = parseJsonOutput<{ total: number; rows: { src: string }[] }>(runCli(['--db', db, '--json', 'corpus', 'search', 'sample-bible-en-es', 'Jonah', '--limit', '2']))
  assert.ok(found.total > 5)
  assert.equal(found.rows.length, 2)
  assert.ok(found.rows.every((r) => r.src.includes('Jonah')))
  const cleaned = parseJsonOutput<{ before: number; kept: number; dropped: Record<string, number> }>(runCli(['--db', db, '--json', 'corpus', 'clean', 'sample-bible-en-es', '--max-ratio', '3']))
  assert.equal(cleaned.before, 4616)
  assert.equal(cleaned.kept + Object.values(cleaned.dropped).reduce((a, b) => a + b, 0), 4616)
  const split = parseJsonOutput<{ train: number; dev: number; test: number; groups: { dev: string[]; test: string[] } }>(
    runCli(['--db', db, '--json', 'corpus', 'split', 'sample-bible-en-es', '--dev', '300', '--test', '300', '--by', 'group']),
  )
  assert.equal(split.train + split.dev + split.test, cleaned.kept)
  assert.ok(split.groups.test.length > 0)
  const out = join(dir, 'dev.tsv')
  const exported = parseJsonOutput<{ rows: number; format: string }>(runCli(['--db', db, '--json', 'corpus', 'export', 'sample-bible-en-es', '--out', out, '--split', 'dev']))
  assert.deepEqual(exported, { path: out, rows: split.dev, format: 'tsv' })
  assert.ok(existsSync(out))
  const bad = runCli(['--db', db, '--json', 'corpus', 'split', 'sample-hamlet-dialogues', '--dev', '5', '--test', '5', '--by', 'group'])
  assert.equal(bad.status, 1)
  assert.match(parseJsonOutput<{ error: string }>(bad).error, /without a grouping key/)
})

test('a run on a corpus without train/dev splits is refused before it is created, with split sizes that fit the corpus', (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'k.db')
  const file = join(dir, 'pairs.tsv')
  writeFileSync(file, `${Array.from({ length: 60 }, (_, i) => `word ${i} here\tpalabra ${i} aquí`).join('\n')}\n`)
  assert.equal(runCli(['--db', db, '--no-sample', '--json', 'corpus', 'import', file, '--name', 'u', '--format', 'tsv', '--src', 'en', '--tgt', 'es']).status, 0)
  const tokenizer = runCli(['--db', db, '--no-sample', '--json', 'tokenizer', 'train', '--corpus', 'u', '--name', 'tok', '--type', 'bpe', '--vocab-size', '60'])
  assert.equal(tokenizer.status, 0, tokenizer.stderr)
  const refused = runCli(['--db', db, '--no-sample', '--json', 'train', '--model', 'seq2seq', '--corpus', 'u', '--tokenizer', 'tok', '--name', 'r'])
  assert.equal(refused.status, 1)
  const { error, code } = parseJsonOutput<{ error: string; code: string }>(refused)
  assert.equal(code, 'bad_request')
  // 5 % of 60 rows: 3 held out each, not the 200 suggested before for any corpus.
  assert.match(error, /needs train and dev splits first \(e\.g\. kotoba corpus split u --dev 3 --test 3/)
  assert.deepEqual(parseJsonOutput(runCli(['--db', db, '--no-sample', '--json', 'runs', 'list'])), { runs: [] })
  // After the suggested split the same run is accepted.
  assert.equal(runCli(['--db', db, '--no-sample', '--json', 'corpus', 'split', 'u', '--dev', '3', '--test', '3']).status, 0)
  const trained = runCli(['--db', db, '--no-sample', '--json', 'train', '--model', 'seq2seq', '--preset', 'tiny', '--corpus', 'u', '--tokenizer', 'tok', '--name', 'r', '--max-steps', '2', '--valid-every', '2'])
  assert.equal(trained.status, 0, trained.stderr || trained.stdout)
})
