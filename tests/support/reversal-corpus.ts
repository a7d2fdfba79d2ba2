// A reversal corpus in a real engine: 1,500 pairs of 3–7 letters and their reverse, split (40 dev, 40 test), with a
// 50-piece BPE tokenizer 'letters' — what the compression and reinforcement tests train small GRUs on.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Engine } from '../../main/engine/engine.ts'
import { Random } from '../../models/core/random.ts'

export async function waitForJob(engine: Engine, started: unknown): Promise<void> {
  const job = await engine.jobs.wait((started as { jobId: string }).jobId)
  assert.equal(job.status, 'done', job.error ?? '')
}

/** Imports corpus 'reverse' from a file written in `dir` and trains tokenizer 'letters' on it. */
export async function importReversalCorpus(engine: Engine, dir: string): Promise<void> {
  const letters = 'abcdefgh'
  const random = new Random(11)
  const lines: string[] = []
  for (let i = 0; i < 1500; i++) {
    const sequence = Array.from({ length: 3 + random.integer(5) }, () => letters[random.integer(letters.length)]!)
    lines.push(`${sequence.join(' ')}\t${[...sequence].reverse().join(' ')}`)
  }
  const file = join(dir, 'reverse.tsv')
  writeFileSync(file, `${lines.join('\n')}\n`)
  await waitForJob(engine, await engine.handle('corpus.import', { name: 'reverse', files: [file] }))
  await engine.handle('corpus.split', { name: 'reverse', dev: 40, test: 40, seed: 3 })
  await waitForJob(engine, await engine.handle('tokenizer.train', { corpus: 'reverse', name: 'letters', type: 'bpe', vocabSize: 50 }))
}
