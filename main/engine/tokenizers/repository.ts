// Tokenizers stored in SQLite: the SentencePiece model bytes, with what the UI lists about them.
import { readFile, writeFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { TokenizerSummary } from '../../api/contract.ts'
import { english, LocalText, message } from '../../api/messages.ts'
import { readModelProto } from '../../../models/tokenizer/model-proto.ts'
import type { Database } from '../store/database.ts'

interface TokenizerRecord {
  id: number
  name: string
  type: TokenizerSummary['type']
  side: TokenizerSummary['side']
  vocab_size: number
  meta: string
  created_at: string
}

function toSummary(record: TokenizerRecord): TokenizerSummary {
  const meta = JSON.parse(record.meta) as { source?: string; sourceText?: unknown; normalize?: string; normalization?: string }
  const sourceText = LocalText.safeParse(meta.sourceText) // absent in tokenizers stored before messages had keys
  return {
    id: record.id,
    name: record.name,
    type: record.type,
    side: record.side,
    vocabSize: record.vocab_size,
    source: meta.source ?? '',
    ...(sourceText.success ? { sourceText: sourceText.data } : {}),
    normalization: meta.normalize === 'nfkc' ? 'nfkc (workbench)' : (meta.normalization ?? ''),
    createdAt: record.created_at,
  }
}

const sourceMeta = (source: LocalText, extra: Record<string, string> = {}) => JSON.stringify({ source: english(source), sourceText: source, ...extra })

const columns = 'id, name, type, side, vocab_size, meta, created_at'

export function listTokenizers(db: Database): TokenizerSummary[] {
  return (db.prepare(`SELECT ${columns} FROM tokenizers ORDER BY created_at, id`).all() as TokenizerRecord[]).map(toSummary)
}

export function findTokenizer(db: Database, name: string): TokenizerSummary | undefined {
  const record = db.prepare(`SELECT ${columns} FROM tokenizers WHERE name = ?`).get(name) as TokenizerRecord | undefined
  return record && toSummary(record)
}

export function tokenizerModel(db: Database, id: number): Uint8Array {
  return (db.prepare('SELECT model FROM tokenizers WHERE id = ?').get(id) as { model: Buffer }).model
}

/** Stores a `.model` file (e.g. from spm_train) as a joint tokenizer; refuses bytes that are not a model. */
export async function importTokenizer(db: Database, name: string, file: string): Promise<TokenizerSummary> {
  const bytes = await readFile(file)
  const model = readModelProto(bytes)
  db.prepare('INSERT INTO tokenizers (name, type, side, vocab_size, model, meta) VALUES (?, ?, ?, ?, ?, ?)').run(
    name,
    model.modelType,
    'joint',
    model.pieces.length,
    bytes,
    sourceMeta(message('tokenizerImported', { file: basename(file) }), { normalization: model.normalization }),
  )
  return findTokenizer(db, name)!
}

/** Stores a model trained here; its normalisation rule travels inside the model, so encoders take raw text. */
export function saveTrainedTokenizer(
  db: Database,
  request: { name: string; type: TokenizerSummary['type']; side: TokenizerSummary['side']; corpusId: number; corpusName: string },
  bytes: Uint8Array,
  vocabSize: number,
  normalization: string,
): void {
  db.prepare('INSERT INTO tokenizers (name, type, side, vocab_size, corpus_id, model, meta) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    request.name,
    request.type,
    request.side,
    vocabSize,
    request.corpusId,
    Buffer.from(bytes),
    sourceMeta(message('tokenizerTrained', { corpus: request.corpusName, side: request.side }), { normalization }),
  )
}

/** Whether text must be NFKC-normalised before encoding: models trained here before their rule was written into
 *  the model carry an identity normaliser and were learned from NFKC text. */
export function needsNfkc(db: Database, id: number): boolean {
  const row = db.prepare("SELECT json_extract(meta, '$.normalize') AS normalize FROM tokenizers WHERE id = ?").get(id) as { normalize: string | null }
  return row.normalize === 'nfkc'
}

export async function exportTokenizer(db: Database, id: number, out: string): Promise<number> {
  const bytes = tokenizerModel(db, id)
  await writeFile(out, bytes)
  return bytes.length
}
