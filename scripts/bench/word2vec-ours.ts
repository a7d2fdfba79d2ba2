// One side of the word2vec benchmark, in its own process so its peak memory is its own: the engine imports a
// one-sentence-per-line corpus into a fresh SQLite file and trains word2vec on it, then writes the vectors.
// usage: node --import tsx scripts/bench/word2vec-ours.ts corpus.txt threads epochs out.vec
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Result } from '../../main/api/contract.ts'
import { Engine } from '../../main/engine/engine.ts'
import { defaultWorkerEntry } from '../../main/engine/runtime.ts'

const [corpus, threads, epochs, out] = process.argv.slice(2) as [string, string, string, string]
const dir = mkdtempSync(join(tmpdir(), 'kotoba-w2v-bench-'))
const engine = await Engine.open({ dbPath: join(dir, 'bench.db'), loadSample: false, backend: 'wasm', worker: defaultWorkerEntry() })
try {
  const imported = (await engine.handle('corpus.import', { name: 'brown', files: [corpus], format: 'text' })) as { jobId: string }
  await engine.jobs.wait(imported.jobId)
  const started = performance.now()
  const { jobId } = (await engine.handle('w2v.train', { name: 'bench', corpus: 'brown', architecture: 'skipgram', negative: 5, window: 5, dim: 100, minCount: 5, sample: 1e-3, epochs: Number(epochs), threads: Number(threads), analogies: null, similarity: null })) as Result<'w2v.train'>
  const job = await engine.jobs.wait(jobId!)
  if (job.status !== 'done') throw new Error(job.error ?? job.status)
  const jobSeconds = (performance.now() - started) / 1000
  const run = (await engine.handle('w2v.show', { name: 'bench' })) as Result<'w2v.show'>
  const { counts } = (await engine.handle('w2v.vectors', { name: 'bench', limit: 200_000 })) as Result<'w2v.vectors'>
  const inVocabWords = counts!.reduce((a, b) => a + b, 0)
  const trainSeconds = run.epochLog.reduce((sum, e) => sum + inVocabWords / e.wordsPerSecond!, 0)
  await engine.handle('w2v.export', { name: 'bench', format: 'word2vec', out })
  console.log(`RESULT ${JSON.stringify({ vocab: run.vocab, inVocabWords, trainSeconds, jobSeconds, loss: run.epochLog.map((e) => e.loss), maxRssMiB: process.resourceUsage().maxRSS / 1024 })}`)
} finally {
  await engine.close()
  rmSync(dir, { recursive: true, force: true })
}
