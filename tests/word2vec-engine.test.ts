// word2vec through the engine on a real SQLite file: a corpus imported from text, training on two Hogwild worker
// threads with per-epoch loss, words/s, evaluation and stored vectors; pause and resume from the last finished
// epoch; queries and their errors; word2vec text/binary and projector files that read back (and, where Debian's
// python3-gensim is installed, as CI does, that gensim's load_word2vec_format reads); the CLI.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { EngineEvent, Result } from '../main/api/contract.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { Random } from '../models/core/random.ts'
import { toWord2VecBinary } from '../models/word2vec/formats.ts'
import { WordVectors } from '../models/word2vec/word-vectors.ts'
import { cleanEnv, cliPath, parseJsonOutput, repoRoot, runCli, tempDir } from './helpers.ts'

const dir = tempDir({ after })
const dbPath = join(dir, 'kotoba.db')
let engine: Engine

const topics = [
  ['cat', 'dog', 'pet', 'fur', 'paw', 'tail', 'kitten', 'puppy'],
  ['car', 'road', 'wheel', 'drive', 'engine', 'fuel', 'truck', 'brake'],
  ['sun', 'moon', 'star', 'sky', 'night', 'orbit', 'planet', 'comet'],
]
const topicOf = (word: string) => topics.findIndex((t) => t.includes(word))

function writeCorpus(path: string, sentences: number, seed: number): void {
  const random = new Random(seed)
  const lines = Array.from({ length: sentences }, () => {
    const topic = topics[random.integer(topics.length)]!
    return Array.from({ length: 10 }, () => topic[random.integer(topic.length)]!).join(' ')
  })
  writeFileSync(path, `${lines.join('\n')}\n`)
}

async function waitJob(jobId: string) {
  const job = await engine.jobs.wait(jobId)
  assert.equal(job.status, 'done', job.error ?? '')
}

before(async () => {
  engine = await Engine.open({ dbPath, loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
  writeCorpus(join(dir, 'topics.txt'), 3000, 1)
  writeCorpus(join(dir, 'big.txt'), 60_000, 2)
  for (const [name, file] of [['topics', 'topics.txt'], ['big', 'big.txt']]) {
    await waitJob(((await engine.handle('corpus.import', { name: name!, files: [join(dir, file!)], format: 'text' })) as { jobId: string }).jobId)
  }
  writeFileSync(join(dir, 'analogies.txt'), ': animals\ncat kitten dog puppy\ncat dog kitten puppy\n: skies\nsun moon star planet\nsun unicorn star comet\n')
  writeFileSync(join(dir, 'pairs.tsv'), 'cat dog 9\ncat kitten 9\ncat car 1\nsun moon 8\nsun fuel 1\nroad wheel 7\nsky brake 0\n')
})

after(async () => {
  await engine?.close()
})

test('two Hogwild threads train word2vec: per-epoch loss, words/s, evaluation and vectors stored; topic words are neighbours', async () => {
  const events: EngineEvent[] = []
  const off = engine.on((event) => events.push(event))
  const started = (await engine.handle('w2v.train', { name: 'topics-sg', corpus: 'topics', dim: 32, epochs: 3, threads: 2, minCount: 1, analogies: join(dir, 'analogies.txt'), similarity: join(dir, 'pairs.tsv') })) as Result<'w2v.train'>
  assert.equal(started.run.status, 'created')
  await waitJob(started.jobId!)
  off()
  const run = (await engine.handle('w2v.show', { name: 'topics-sg' })) as Result<'w2v.show'>
  assert.equal(run.status, 'done')
  assert.equal(run.epoch, 3)
  assert.equal(run.vocab, 24)
  assert.deepEqual(run.storedEpochs, [1, 2, 3])
  assert.deepEqual(run.epochLog.map((e) => e.epoch), [1, 2, 3])
  assert.ok(run.epochLog.every((e) => e.loss! > 0 && e.wordsPerSecond! > 0 && e.analogy !== null && e.spearman !== null))
  assert.ok(run.epochLog[2]!.loss! < run.epochLog[0]!.loss!, `loss falls: ${run.epochLog.map((e) => e.loss)}`)
  assert.ok(events.some((e) => e.event === 'w2v.changed' && e.data.status === 'done'))
  assert.ok(events.some((e) => e.event === 'job.progress' && e.data.unit === 'words'))
  const near = (await engine.handle('w2v.neighbors', { name: 'topics-sg', word: 'cat', k: 5 })) as Result<'w2v.neighbors'>
  assert.equal(near.epoch, 3)
  assert.ok(near.neighbours.every((n) => topicOf(n.word) === 0), `cat: ${near.neighbours.map((n) => n.word)}`)
  const early = (await engine.handle('w2v.neighbors', { name: 'topics-sg', word: 'cat', k: 5, epoch: 1 })) as Result<'w2v.neighbors'>
  assert.notDeepEqual(early.neighbours, near.neighbours, 'each epoch keeps its own vectors')
  const evaluation = (await engine.handle('w2v.eval', { name: 'topics-sg', analogies: join(dir, 'analogies.txt'), similarity: join(dir, 'pairs.tsv') })) as Result<'w2v.eval'>
  assert.deepEqual(evaluation.analogy!.sections.map((s) => [s.section, s.evaluated, s.skipped]), [['animals', 2, 0], ['skies', 1, 1]])
  assert.ok(Math.abs(100 * evaluation.analogy!.total.accuracy - run.epochLog[2]!.analogy!) < 1e-9, 'eval agrees with the per-epoch tracking')
  assert.ok(evaluation.similarity!.spearman! > 0.5, `spearman ${evaluation.similarity!.spearman}`)
  const projected = (await engine.handle('w2v.vectors', { name: 'topics-sg', limit: 10 })) as Result<'w2v.vectors'>
  assert.equal(projected.words.length, 10)
  assert.equal(Buffer.from(projected.vectors, 'base64').length, 10 * 32 * 4)
  // Errors name what is wrong.
  await assert.rejects(engine.handle('w2v.neighbors', { name: 'topics-sg', word: 'unicorn' }), /not in the vocabulary: unicorn/)
  await assert.rejects(engine.handle('w2v.neighbors', { name: 'topics-sg', word: 'cat', epoch: 9 }), /no vectors for epoch 9 \(stored: 1, 2, 3\)/)
  await assert.rejects(engine.handle('w2v.train', { name: 'x', corpus: 'topics', negative: 0 }), /nothing to train/)
  await assert.rejects(engine.handle('w2v.train', { name: 'topics-sg', corpus: 'topics' }), /already exists/)
  await assert.rejects(engine.handle('w2v.train', { name: 'y', corpus: 'nope' }), /no corpus named 'nope'/)
  assert.deepEqual(((await engine.handle('runs.list', {})) as Result<'runs.list'>).map((r) => r.name), [], 'translation runs stay apart')
})

test('pausing keeps the finished epochs; resuming continues from the last one and logs every epoch once', async () => {
  // Hierarchical softmax and 10 negatives over a wide window, 10 epochs: a pause asked for after the first epoch
  // stops the run inside or at the end of a later one, never after the last.
  const started = (await engine.handle('w2v.train', { name: 'big-both', corpus: 'big', hs: true, negative: 10, window: 8, dim: 64, epochs: 10, threads: 2, minCount: 1, analogies: null, similarity: null })) as Result<'w2v.train'>
  const firstEpoch = new Promise<void>((resolve) => {
    const off = engine.on((event) => {
      if (event.event === 'w2v.changed' && event.data.name === 'big-both' && event.data.epoch >= 1) {
        off()
        resolve()
      }
    })
  })
  await firstEpoch
  const paused = (await engine.handle('w2v.pause', { name: 'big-both' })) as Result<'w2v.pause'>
  assert.equal(paused.status, 'paused')
  assert.ok(paused.epoch >= 1 && paused.epoch < 10, `paused at epoch ${paused.epoch}`)
  const kept = (await engine.handle('w2v.show', { name: 'big-both' })) as Result<'w2v.show'>
  assert.deepEqual(kept.storedEpochs, Array.from({ length: paused.epoch }, (_, i) => i + 1))
  await engine.jobs.wait(started.jobId!)
  const { jobId } = (await engine.handle('w2v.resume', { name: 'big-both' })) as Result<'w2v.resume'>
  await waitJob(jobId)
  const run = (await engine.handle('w2v.show', { name: 'big-both' })) as Result<'w2v.show'>
  assert.equal(run.status, 'done')
  assert.equal(run.method, 'skip-gram, hierarchical softmax + negative 10')
  assert.deepEqual(run.epochLog.map((e) => e.epoch), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  assert.deepEqual(run.storedEpochs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  // Hierarchical softmax's part of the loss is a normalised −log p: within a topic of eight words, at least ln 8.
  assert.ok(run.epochLog.every((e) => e.loss! > Math.log(8) * 0.97), `${run.epochLog.map((e) => e.loss)}`)
  await assert.rejects(engine.handle('w2v.resume', { name: 'big-both' }), /finished its 10 epochs/)
})

test('word2vec text, binary and projector files read back exactly, also in gensim where it is installed', async () => {
  const stored = (await engine.handle('w2v.vectors', { name: 'topics-sg', limit: 1000 })) as Result<'w2v.vectors'>
  for (const format of ['word2vec', 'word2vec-bin'] as const) {
    const out = join(dir, `topics.${format}`)
    const written = (await engine.handle('w2v.export', { name: 'topics-sg', format, out })) as Result<'w2v.export'>
    assert.deepEqual(written, { files: [out], words: 24, dim: 32 })
    const imported = (await engine.handle('w2v.import', { name: `back-${format}`, file: out })) as Result<'w2v.import'>
    assert.equal(imported.source, 'imported')
    const back = (await engine.handle('w2v.vectors', { name: `back-${format}`, limit: 1000 })) as Result<'w2v.vectors'>
    assert.deepEqual(back.words, stored.words)
    assert.equal(back.vectors, stored.vectors, `${format}: the same float32 values`)
  }
  const projector = (await engine.handle('w2v.export', { name: 'topics-sg', format: 'projector', out: join(dir, 'projector') })) as Result<'w2v.export'>
  const metadata = readFileSync(projector.files[1]!, 'utf8').trim().split('\n')
  assert.equal(metadata[0], 'word\tcount')
  assert.equal(metadata.length, 25)
  assert.equal(readFileSync(projector.files[0]!, 'utf8').trim().split('\n')[0]!.split('\t').length, 32)
  // The projector folder back, its metadata with a part-of-speech column added: kept as a label column.
  const posDir = join(dir, 'pos')
  mkdirSync(posDir)
  writeFileSync(join(posDir, 'vectors.tsv'), readFileSync(projector.files[0]!))
  writeFileSync(join(posDir, 'metadata.tsv'), [`${metadata[0]}\tpos`, ...metadata.slice(1).map((line, i) => `${line}\t${i % 3 === 0 ? 'VERB' : 'NOUN'}`)].join('\n'))
  await engine.handle('w2v.import', { name: 'back-pos', file: posDir })
  const withPos = (await engine.handle('w2v.vectors', { name: 'back-pos', limit: 1000 })) as Result<'w2v.vectors'>
  assert.deepEqual([withPos.words, withPos.counts, withPos.vectors], [stored.words, stored.counts, stored.vectors])
  assert.deepEqual(withPos.labels.pos!.slice(0, 4), ['VERB', 'NOUN', 'NOUN', 'VERB'])
  const reexported = (await engine.handle('w2v.export', { name: 'back-pos', format: 'projector', out: join(dir, 'pos-again') })) as Result<'w2v.export'>
  assert.equal(readFileSync(reexported.files[1]!, 'utf8').split('\n')[0], 'word\tcount\tpos')
  mkdirSync(join(dir, 'no-metadata'))
  writeFileSync(join(dir, 'no-metadata', 'vectors.tsv'), '1\t2\n')
  await assert.rejects(engine.handle('w2v.import', { name: 'lonely', file: join(dir, 'no-metadata') }), /metadata.tsv beside it, and there is none/)
  writeFileSync(join(dir, 'bad.txt'), '2 3\ncat 1 2 3\ndog 1 2\n')
  await assert.rejects(engine.handle('w2v.import', { name: 'bad', file: join(dir, 'bad.txt') }), /line 3: expected a word and 3 numbers/)

  // Debian's python3-gensim lives in the system Python (a pyenv or venv python3 may shadow it on PATH).
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3'
  const hasGensim = spawnSync(python, ['-c', 'import gensim'], { encoding: 'utf8' }).status === 0
  if (!hasGensim) {
    console.log('# python3-gensim is not installed here: gensim reading skipped (CI installs it)')
    return
  }
  const ours = (await engine.handle('w2v.neighbors', { name: 'topics-sg', word: 'cat', k: 3 })) as Result<'w2v.neighbors'>
  for (const [format, binary] of [['word2vec', 'False'], ['word2vec-bin', 'True']] as const) {
    const script = `import json, sys\nfrom gensim.models import KeyedVectors\nkv = KeyedVectors.load_word2vec_format(sys.argv[1], binary=${binary})\nprint(json.dumps([len(kv.index_to_key), kv.vector_size, kv.most_similar('cat', topn=3)]))`
    const result = spawnSync(python, ['-c', script, join(dir, `topics.${format}`)], { encoding: 'utf8' })
    assert.equal(result.status, 0, result.stderr)
    const [count, size, similar] = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as [number, number, [string, number][]]
    assert.deepEqual([count, size], [24, 32])
    assert.deepEqual(similar.map(([w]) => w), ours.neighbours.map((n) => n.word), `gensim (${format}) finds the same neighbours`)
    similar.forEach(([, s], i) => assert.ok(Math.abs(s - ours.neighbours[i]!.similarity) < 1e-5))
  }
})

test('a 12 MB binary file streams through the import job in 4 MiB chunks, with progress; --max-vocab keeps the first words; GloVe is detected', async () => {
  const random = new Random(9)
  const words = Array.from({ length: 30_000 }, (_, i) => `w${i}`)
  const vectors = new WordVectors(words, 100, Float32Array.from({ length: 3_000_000 }, () => random.normal()))
  const big = join(dir, 'big.bin')
  writeFileSync(big, toWord2VecBinary(vectors))
  const progress: number[] = []
  const stop = engine.on((event: EngineEvent) => {
    if (event.event === 'job.progress' && event.data.kind === 'w2v.import' && event.data.unit === 'bytes') progress.push(event.data.done)
  })
  const whole = (await engine.handle('w2v.import', { name: 'big', file: big })) as Result<'w2v.import'>
  stop()
  assert.deepEqual([whole.vocab, whole.dim], [30_000, 100])
  assert.ok(progress.some((done) => done < statSync(big).size) && progress.at(-1) === statSync(big).size, `progress in bytes: ${progress}`)
  const stored = (await engine.handle('w2v.vectors', { name: 'big', limit: 30_000 })) as Result<'w2v.vectors'>
  assert.deepEqual(stored.words.slice(-2), ['w29998', 'w29999'])
  const bytes = Buffer.from(stored.vectors, 'base64')
  const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)
  assert.deepEqual(values, vectors.vectors, 'every vector, read across chunk boundaries, is exact')
  const first = (await engine.handle('w2v.import', { name: 'big-1k', file: big, maxVocab: 1000 })) as Result<'w2v.import'>
  assert.equal(first.vocab, 1000)
  // GloVe: word2vec text without its header line, dimensions taken from the first row.
  const glove = join(dir, 'glove.6B.3d.txt')
  writeFileSync(glove, 'the 0.1 0.2 0.3\nof -1 0 1.5\n')
  const fromGlove = (await engine.handle('w2v.import', { name: 'glove', file: glove })) as Result<'w2v.import'>
  assert.deepEqual([fromGlove.vocab, fromGlove.dim], [2, 3])
  await assert.rejects(engine.handle('w2v.import', { name: 'tsv', file: join(dir, 'pos'), format: 'projector', maxVocab: 5 }), /applies to word2vec and GloVe files/)
  // GoogleNews' header (3M × 300 floats, 3.6 GB) is refused at once, naming the --max-vocab that fits in one set.
  const news = join(dir, 'news.bin')
  writeFileSync(news, Buffer.concat([Buffer.from('3000000 300\n'), toWord2VecBinary(new WordVectors(['the'], 300, new Float32Array(300))).subarray(6)]))
  await assert.rejects(engine.handle('w2v.import', { name: 'news', file: news }), /3,000,000 vectors of 300 floats are more than one embedding set can hold \(1 GB\): import the commonest words with --max-vocab 833333 or fewer/)
  assert.equal(((await engine.handle('w2v.import', { name: 'news', file: news, maxVocab: 1 })) as Result<'w2v.import'>).vocab, 1)
  for (const name of ['big', 'big-1k', 'glove', 'news']) await engine.handle('w2v.delete', { name }) // the next test lists every set
})

test('the kotoba w2v CLI trains, queries and evaluates with --json', async () => {
  await engine.close()
  const cli = (...args: string[]) => runCli(['--db', dbPath, '--no-sample', '--backend', 'wasm', '--json', 'w2v', ...args])
  const trained = parseJsonOutput<Result<'w2v.show'>>(cli('train', '--corpus', 'topics', '--name', 'cli-sg', '--sg', '--dim', '16', '--window', '3', '--negative', '3', '--min-count', '1', '--epochs', '2', '--threads', '1', '--no-eval'))
  assert.equal(trained.status, 'done')
  assert.equal(trained.config.negative, 3)
  assert.deepEqual(trained.epochLog.map((e) => e.analogy), [null, null])
  const near = parseJsonOutput<Result<'w2v.neighbors'>>(cli('neighbors', '--name', 'cli-sg', 'moon', '-k', '3'))
  assert.equal(near.neighbours.length, 3)
  const answer = parseJsonOutput<Result<'w2v.analogy'>>(cli('analogy', '--name', 'cli-sg', 'cat', 'dog', 'sun', '--method', 'mul'))
  assert.equal(answer.method, 'mul')
  const evaluation = parseJsonOutput<Result<'w2v.eval'>>(cli('eval', '--name', 'cli-sg', '--analogies', join(dir, 'analogies.txt')))
  assert.equal(evaluation.analogy!.total.evaluated + evaluation.analogy!.total.skipped, 4)
  assert.equal(evaluation.similarity, null)
  const missing = cli('neighbors', '--name', 'cli-sg', 'unicorn')
  assert.notEqual(missing.status, 0)
  assert.match(JSON.parse(missing.stdout.trim()).error, /not in the vocabulary: unicorn/)
  const listed = parseJsonOutput<{ embeddings: Result<'w2v.list'> }>(cli('list'))
  assert.deepEqual(listed.embeddings.map((e) => e.name).sort(), ['back-pos', 'back-word2vec', 'back-word2vec-bin', 'big-both', 'cli-sg', 'topics-sg'])
  engine = await Engine.open({ dbPath, loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
})

test('a training in another process (kotoba w2v train in a terminal) pauses from here after its last finished epoch', async () => {
  const child = spawn(process.execPath, [cliPath, '--db', dbPath, '--no-sample', '--json', 'w2v', 'train', '--corpus', 'big', '--name', 'elsewhere', '--hs', '--negative', '10', '--window', '8', '--dim', '64', '--epochs', '500', '--threads', '1', '--min-count', '1', '--no-eval'], { cwd: repoRoot, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.resume()
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const deadline = Date.now() + 60_000
  let shown: Result<'w2v.show'> | null = null
  while (Date.now() < deadline) {
    shown = (await engine.handle('w2v.show', { name: 'elsewhere' }).catch(() => null)) as Result<'w2v.show'> | null
    if (shown && shown.status === 'running' && shown.epoch >= 1) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.ok(shown && shown.epoch >= 1, 'the other process finished an epoch')
  assert.equal(engine.runJob('elsewhere'), null, 'no job of this engine trains it')
  const paused = (await engine.handle('w2v.pause', { name: 'elsewhere' })) as Result<'w2v.pause'>
  assert.equal(paused.status, 'paused')
  assert.ok(paused.epoch >= 1 && paused.epoch < 500, `paused at epoch ${paused.epoch}`)
  assert.equal(await exited, 0)
  const reported = parseJsonOutput<Result<'w2v.show'>>({ status: 0, stdout, stderr: '' })
  assert.deepEqual([reported.status, reported.epoch], ['paused', paused.epoch])
  const kept = (await engine.handle('w2v.show', { name: 'elsewhere' })) as Result<'w2v.show'>
  assert.deepEqual(kept.storedEpochs, Array.from({ length: paused.epoch }, (_, i) => i + 1))
  await assert.rejects(engine.handle('w2v.pause', { name: 'elsewhere' }), /not training \(status: paused\)/)
})
