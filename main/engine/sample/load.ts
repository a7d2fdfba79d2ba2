// Loads the bundled public-domain sample corpora into a new database, once.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { english, message } from '../../api/messages.ts'
import type { Database } from '../store/database.ts'
import { importCorpus } from '../corpus/import.ts'
import { findCorpus } from '../corpus/repository.ts'
import { indexCorpus } from '../corpus/search.ts'
import { splitCorpus } from '../corpus/split.ts'
import { packageRoot } from '../paths.ts'

export const sampleCorpusNames = { bible: 'sample-bible-en-es', hamlet: 'sample-hamlet-dialogues' } as const

const loadedKey = 'sample.loaded'

/** The sample folder ships in the source tree, which the bundled engine also runs beside. */
export function sampleDir(): string {
  return join(packageRoot(), 'main', 'engine', 'sample')
}

export async function loadSampleOnce(db: Database, dir: string = sampleDir()): Promise<boolean> {
  if (db.prepare('SELECT 1 FROM settings WHERE key = ?').get(loadedKey)) return false
  const books = readFileSync(join(dir, 'bible.en-es.books'), 'utf8').split('\n')
  // Each corpus is its own transaction; skip one that an interrupted earlier start already loaded.
  if (!findCorpus(db, sampleCorpusNames.bible)) await importCorpus(db, {
    name: sampleCorpusNames.bible,
    files: [join(dir, 'bible.en-es.tsv')],
    format: 'tsv',
    srcLang: 'en',
    tgtLang: 'es',
    source: english(message('sampleBible')),
    groupOf: (index) => books[index] ?? null,
  })
  if (!findCorpus(db, sampleCorpusNames.hamlet)) await importCorpus(db, {
    name: sampleCorpusNames.hamlet,
    files: [join(dir, 'hamlet.dialogues.jsonl')],
    format: 'jsonl',
    srcLang: 'en',
    source: english(message('sampleHamlet')),
  })
  // Shipped ready to train: the Bible split by whole books (no verse of a dev or test book is seen in training),
  // Hamlet by whole dialogues.
  splitCorpus(db, findCorpus(db, sampleCorpusNames.bible)!.id, { dev: 200, test: 200, seed: 1, by: 'group' })
  splitCorpus(db, findCorpus(db, sampleCorpusNames.hamlet)!.id, { dev: 6, test: 6, seed: 1, by: 'random' })
  for (const name of Object.values(sampleCorpusNames)) indexCorpus(db, findCorpus(db, name)!.id) // small: index at once
  db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)').run(loadedKey, new Date().toISOString())
  return true
}
