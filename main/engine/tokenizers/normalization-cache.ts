// nmt_nfkc's compiled rules (SentencePiece's precompiled_charsmap) are built from the runtime's Unicode data, which
// takes ~2 s: every `kotoba tokenizer train` paid it, as much as training BPE on a million words. The engine keeps
// the compiled bytes in the database's settings, per Unicode version (a runtime with other Unicode data builds its
// own), with a SHA-256 so damaged bytes are rebuilt rather than used.
import { createHash } from 'node:crypto'
import { normalizationRule, useCompiledRule } from '../../../models/tokenizer/normalization/rule.ts'
import type { Database } from '../store/database.ts'

const cacheKey = () => `normalization/nmt_nfkc/unicode-${process.versions.unicode}`
const digest = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

/** Makes nmt_nfkc's rules available to this process's trainers: from the database when stored there for this
 *  Unicode version, else compiled and stored (a failed write, e.g. a busy, full or read-only database, only loses the cache). */
export function loadNmtNfkcRules(db: Database): void {
  const row = db.prepare('SELECT value FROM settings WHERE key = ?').get(cacheKey()) as { value: string } | undefined
  if (row) {
    const [hash, base64] = row.value.split(':')
    const bytes = Buffer.from(base64 ?? '', 'base64')
    if (hash === digest(bytes)) {
      try {
        useCompiledRule('nmt_nfkc', new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))
        return
      } catch {
        // undecodable: compiled again below
      }
    }
  }
  const compiled = normalizationRule('nmt_nfkc').precompiledCharsMap
  try {
    db.prepare('INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)').run(cacheKey(), `${digest(compiled)}:${Buffer.from(compiled).toString('base64')}`)
  } catch (error) {
    // SQLITE_BUSY, SQLITE_FULL, SQLITE_READONLY…: the training goes on with the rules it compiled.
    if (!String((error as { code?: unknown } | null)?.code ?? '').startsWith('SQLITE_')) throw error
  }
}
