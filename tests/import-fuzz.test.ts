// Fuzzing the importers (issue 17): every fixture format cut short or with bytes flipped, a few hundred seeded cases.
// Each import either succeeds whole or fails with a clear error naming the file and the line or byte, never a raw
// Node error, and never leaves a partial corpus behind.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { test } from 'node:test'
import { importCorpus } from '../main/engine/corpus/import.ts'
import { listCorpora } from '../main/engine/corpus/repository.ts'
import type { CorpusFormat } from '../main/api/contract.ts'
import { Random } from '../models/core/random.ts'
import { fixturesDir, tempDatabase, tempDir } from './helpers.ts'

interface Case {
  format: CorpusFormat
  files: string[]
  srcLang?: string
  tgtLang?: string
}

function mutate(bytes: Buffer, random: Random): { bytes: Buffer; how: string } {
  const kind = random.integer(3)
  if (kind === 0 || bytes.length < 2) {
    const at = random.integer(bytes.length)
    return { bytes: bytes.subarray(0, at), how: `truncated at ${at}` }
  }
  const copy = Buffer.from(bytes)
  const flips = 1 + random.integer(8)
  for (let i = 0; i < flips; i++) copy[random.integer(copy.length)] = random.integer(256)
  if (kind === 1) return { bytes: copy, how: `${flips} bytes changed` }
  const at = random.integer(copy.length)
  return { bytes: copy.subarray(0, at), how: `${flips} bytes changed, truncated at ${at}` }
}

/** What a clear error says: the file by name, and where (a line, a byte, or that nothing usable was found). */
const clearError = /(line \d+|byte (offset )?\d+|no (parallel|dialogue|monolingual) rows found|not a compiled gettext catalogue|has \d+ lines but .* has \d+|no <tu>|lines? \d+)/

test('a few hundred damaged imports: each succeeds whole or fails clearly, and none leaves a partial corpus', async (t) => {
  const { db } = await tempDatabase(t)
  const dir = tempDir(t)
  const bible = readFileSync(join(fixturesDir, 'bible.en-es.ci.tsv'), 'utf8').split('\n').slice(0, 40)
  writeFileSync(join(dir, 'base.en'), bible.map((l) => l.split('\t')[0]).join('\n') + '\n')
  writeFileSync(join(dir, 'base.es'), bible.map((l) => l.split('\t')[1] ?? '').join('\n') + '\n')
  writeFileSync(join(dir, 'base.txt'), bible.map((l) => l.split('\t')[0]).join('\n') + '\n')
  writeFileSync(join(dir, 'base.tsv'), bible.join('\n') + '\n')
  const jsonl = readFileSync(join(fixturesDir, 'hamlet.dialogues.jsonl'), 'utf8').split('\n').slice(0, 8).join('\n') + '\n'
  writeFileSync(join(dir, 'base.jsonl'), jsonl)
  const sources: (Case & { mutated: number })[] = [
    { format: 'tsv', files: [join(dir, 'base.tsv')], mutated: 0 },
    { format: 'text', files: [join(dir, 'base.txt')], mutated: 0 },
    { format: 'jsonl', files: [join(dir, 'base.jsonl')], mutated: 0 },
    { format: 'moses', files: [join(dir, 'base.en'), join(dir, 'base.es')], mutated: 1 },
    { format: 'tmx', files: [join(fixturesDir, 'sample.tmx')], srcLang: 'en', tgtLang: 'es', mutated: 0 },
    { format: 'po', files: [join(fixturesDir, 'sample.es.po')], mutated: 0 },
    { format: 'mo', files: [join(fixturesDir, 'sample.es.mo')], mutated: 0 },
  ]
  const random = new Random(2026)
  const outcomes = { imported: 0, refused: 0 }
  const casesPerFormat = 50
  for (const source of sources) {
    const original = readFileSync(source.files[source.mutated]!)
    for (let i = 0; i < casesPerFormat; i++) {
      const { bytes, how } = mutate(original, random)
      const files = [...source.files]
      const damaged = join(dir, `damaged-${i}-${basename(files[source.mutated]!)}`)
      writeFileSync(damaged, bytes)
      files[source.mutated] = damaged
      const name = `${source.format}-${i}`
      const what = `${source.format}, ${how}`
      try {
        const result = await importCorpus(db, { name, files, format: source.format, srcLang: source.srcLang, tgtLang: source.tgtLang })
        const listed = listCorpora(db).find((c) => c.name === name)
        assert.equal(listed?.rows, result.rows, `${what}: the imported corpus is whole`)
        outcomes.imported++
      } catch (error) {
        assert.ok(error instanceof Error, `${what}: an Error`)
        assert.ok(!/^(TypeError|RangeError|ReferenceError)$/.test(error.name), `${what}: not a raw ${error.name}: ${error.message}`)
        assert.ok(!/ERR_|ENOENT|Cannot read properties|undefined|offset out of range/i.test(error.message), `${what}: not a raw Node error: ${error.message}`)
        assert.ok(error.message.includes(basename(damaged)) || error.message.includes(basename(files[0]!)), `${what}: the error names the file: ${error.message}`)
        assert.match(error.message, clearError, `${what}: the error says where: ${error.message}`)
        assert.equal(listCorpora(db).some((c) => c.name === name), false, `${what}: no corpus after a refused import`)
        outcomes.refused++
      }
      const leftover = db.prepare("SELECT count(*) AS n FROM corpora WHERE state = 'importing'").get() as { n: number }
      assert.equal(leftover.n, 0, `${what}: nothing half-imported remains`)
    }
  }
  const orphanRows = db.prepare('SELECT count(*) AS n FROM corpus_rows WHERE corpus_id NOT IN (SELECT id FROM corpora)').get() as { n: number }
  assert.equal(orphanRows.n, 0)
  assert.equal(outcomes.imported + outcomes.refused, sources.length * casesPerFormat)
  assert.ok(outcomes.refused > 50 && outcomes.imported > 50, `both outcomes occur (${JSON.stringify(outcomes)})`)
  t.diagnostic(`${outcomes.imported} damaged files imported whole, ${outcomes.refused} refused with a clear error`)
})
