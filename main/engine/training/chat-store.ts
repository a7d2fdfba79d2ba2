// Stored conversations with dialogue runs (the engine's main thread; no tensors, so no TensorFlow.js here).
import type { ChatDetail, ChatSummary, ChatTurn } from '../../api/contract.ts'
import type { Database } from '../store/database.ts'

type ChatRow = { id: number; run: string | null; title: string; turns: number; created_at: string }

const chatSummarySql = `SELECT c.id, r.name AS run, c.title, c.created_at, (SELECT COUNT(*) FROM chat_turns t WHERE t.chat_id = c.id) AS turns
  FROM chats c LEFT JOIN runs r ON r.id = c.run_id`

const toSummary = (row: ChatRow): ChatSummary => ({ id: row.id, run: row.run, title: row.title, turns: row.turns, createdAt: row.created_at })

export function listChats(db: Database, run?: string): ChatSummary[] {
  const rows = (run ? db.prepare(`${chatSummarySql} WHERE r.name = ? ORDER BY c.id DESC`).all(run) : db.prepare(`${chatSummarySql} ORDER BY c.id DESC`).all()) as ChatRow[]
  return rows.map(toSummary)
}

export function showChat(db: Database, id: number): ChatDetail {
  const row = db.prepare(`${chatSummarySql} WHERE c.id = ?`).get(id) as ChatRow | undefined
  if (!row) throw new Error(`no conversation with id ${id}`)
  const history = (db.prepare('SELECT idx, role, text, meta FROM chat_turns WHERE chat_id = ? ORDER BY idx').all(id) as { idx: number; role: ChatTurn['role']; text: string; meta: string }[]).map(
    (t) => ({ index: t.idx, role: t.role, text: t.text, meta: JSON.parse(t.meta) as Record<string, unknown> }),
  )
  return { ...toSummary(row), history }
}

/** Seed turns alternate user, model, user, … (the corpus has no speakers). */
export function createChat(db: Database, runId: number, title: string, seed: readonly string[]): number {
  return db.transaction(() => {
    const id = Number(db.prepare('INSERT INTO chats (run_id, title) VALUES (?, ?)').run(runId, title).lastInsertRowid)
    seed.forEach((text, i) => appendTurn(db, id, i % 2 === 0 ? 'user' : 'model', text, { seeded: true }))
    return id
  })()
}

export function appendTurn(db: Database, chatId: number, role: ChatTurn['role'], text: string, meta: Record<string, unknown>): void {
  const next = (db.prepare('SELECT COALESCE(MAX(idx) + 1, 0) AS n FROM chat_turns WHERE chat_id = ?').get(chatId) as { n: number }).n
  db.prepare('INSERT INTO chat_turns (chat_id, idx, role, text, meta) VALUES (?, ?, ?, ?, ?)').run(chatId, next, role, text, JSON.stringify(meta))
}

/** Replaces the last turn (which must be the model's) in one statement. */
export function replaceLastModelTurn(db: Database, chatId: number, text: string, meta: Record<string, unknown>): void {
  const last = db.prepare('SELECT idx, role FROM chat_turns WHERE chat_id = ? ORDER BY idx DESC LIMIT 1').get(chatId) as { idx: number; role: string } | undefined
  if (!last || last.role !== 'model') throw new Error('the conversation does not end with a model reply to resample')
  db.prepare('UPDATE chat_turns SET text = ?, meta = ? WHERE chat_id = ? AND idx = ?').run(text, JSON.stringify(meta), chatId, last.idx)
}

export function deleteChat(db: Database, id: number): boolean {
  return db.prepare('DELETE FROM chats WHERE id = ?').run(id).changes > 0
}
