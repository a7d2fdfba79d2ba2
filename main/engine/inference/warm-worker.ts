// The warm inference worker: keeps the last used models loaded so a translation or chat reply costs a decode, not a
// thread start, a backend start and a checkpoint load. Requests are answered one at a time, in order.
import { parentPort, workerData } from 'node:worker_threads'
import { explainGpuLoss } from '../compute/gpu-loss.ts'
import { startCompute } from '../jobs/context.ts'
import { expectedErrorCode } from '../store/conditions.ts'
import { openDatabase } from '../store/database.ts'
import { loadDialogueRun, type LoadedDialogue } from '../training/chat.ts'
import { loadRun, type LoadedRun } from '../training/inference.ts'
import { findRun } from '../training/repository.ts'
import { chatReply, ChatReplyParams, translateLines, TranslateParams } from './answers.ts'
import type { WarmReply, WarmRequest, WarmWorkerData } from './protocol.ts'

const { dbPath, backend, maxModels } = workerData as WarmWorkerData
const db = openDatabase(dbPath)
const post = (reply: WarmReply): void => parentPort!.postMessage(reply)

interface Cached {
  /** Which stored weights it holds: run id and checkpoint id(s); a new best checkpoint or a recreated run differs. */
  version: string
  loaded: LoadedRun | LoadedDialogue
  usedAt: number
}
const cache = new Map<string, Cached>()

/** The checkpoint a request would load, without reading its weights. */
function versionOf(runName: string, checkpoint: number | undefined, average: number | undefined): string {
  const run = findRun(db, runName)
  if (!run) throw new Error(`no run named '${runName}'`)
  const sql =
    average !== undefined
      ? 'SELECT group_concat(id) AS ids FROM (SELECT id FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT ?)'
      : checkpoint !== undefined
        ? 'SELECT id AS ids FROM checkpoints WHERE run_id = ? AND step = ?'
        : 'SELECT id AS ids FROM checkpoints WHERE run_id = ? ORDER BY is_best DESC, step DESC LIMIT 1'
  const row = db.prepare(sql).get(...(average !== undefined ? [run.id, average] : checkpoint !== undefined ? [run.id, checkpoint] : [run.id])) as { ids: string | number | null } | undefined
  return `${run.id}:${row?.ids ?? 'none'}`
}

async function cached<T extends LoadedRun | LoadedDialogue>(key: string, version: string, load: () => Promise<T>): Promise<T> {
  const hit = cache.get(key)
  if (hit && hit.version === version) {
    hit.usedAt = performance.now()
    return hit.loaded as T
  }
  if (hit) forget(key)
  const loaded = await load()
  cache.set(key, { version, loaded, usedAt: performance.now() })
  // Least recently used models go first: each holds its weights in backend memory.
  while (cache.size > maxModels) forget([...cache.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt)[0]![0])
  return loaded
}

function forget(key: string): void {
  cache.get(key)?.loaded.model.dispose()
  cache.delete(key)
}

async function answer(request: WarmRequest): Promise<unknown> {
  if (request.task === 'translate') {
    const params = TranslateParams.parse(request.params)
    const key = `translate|${params.run}|${params.checkpoint ?? ''}|${params.average ?? ''}`
    const loaded = await cached(key, versionOf(params.run, params.checkpoint, params.average), () => loadRun(db, params.run, params.checkpoint, params.average))
    return await translateLines(loaded, params)
  }
  const params = ChatReplyParams.parse(request.params)
  const key = `chat|${params.run}|${params.checkpoint ?? ''}`
  const loaded = await cached(key, versionOf(params.run, params.checkpoint, undefined), () => loadDialogueRun(db, params.run, params.checkpoint))
  return await chatReply(loaded, params)
}

// The pool threads of the wasm backend are unref'd: keep this thread's loop alive while it serves.
setInterval(() => {}, 60_000)
const started = startCompute({ jobId: 'warm-inference', kind: 'run.translate', params: null, dbPath, backend })
let queue: Promise<void> = Promise.resolve()

parentPort!.on('message', (request: WarmRequest) => {
  queue = queue.then(async () => {
    try {
      await started
      post({ type: 'result', id: request.id, result: await answer(request) })
    } catch (caught) {
      // A lost GPU: retryable, so the engine asks again of a fresh worker, which starts a new device.
      const error = await explainGpuLoss(caught)
      const retryable = (error as { retryable?: unknown } | null)?.retryable === true || (error as Error | null)?.name === 'JobStalledError'
      post({ type: 'error', id: request.id, error: error instanceof Error ? error.message : String(error), code: expectedErrorCode(error) ?? undefined, retryable })
    }
  })
})
