// Runs, their metrics, checkpoints, validation samples and attention maps in SQLite.
import { RunConfig, type AttentionKind, type BackendName, type DeviceThroughput, type AttentionLayout, type AttentionMap, type AttentionOutput, type CheckpointSummary, type MetricPoint, type RunStatus, type RunSummary, type StoredEvaluation } from '../../api/contract.ts'
import type { Database } from '../store/database.ts'
import { processAlive, retryWhileBusy } from '../store/conditions.ts'

interface RunRecord {
  id: number
  name: string
  model: string
  status: RunStatus
  step: number
  config: string
  error: string | null
  corpus_name: string | null
  created_at: string
  updated_at: string
  pid: number | null
  checkpoint_step: number | null
}

export interface StoredRun extends RunSummary {
  config: RunConfig
  error: string | null
}

const runColumns = `r.id, r.name, r.model, r.status, r.step, r.config, r.error, r.created_at, r.updated_at, r.pid,
  (SELECT name FROM corpora c WHERE c.id = r.corpus_id) AS corpus_name,
  (SELECT max(step) FROM checkpoints k WHERE k.run_id = r.id) AS checkpoint_step`

const interruptedNote = 'interrupted: the engine stopped while training; resume continues from the last checkpoint'

/** A run marked running by a process that is gone is paused at its last checkpoint. The next engine start writes
 *  that down (markInterruptedRuns); reading says so at once, even where nothing can be written (a full disk). */
function interrupted(r: RunRecord): boolean {
  return r.status === 'running' && (r.pid === null || (r.pid !== process.pid && !processAlive(r.pid)))
}

function toRun(r: RunRecord): StoredRun {
  const config = RunConfig.parse(JSON.parse(r.config))
  const gone = interrupted(r)
  return {
    id: r.id,
    name: r.name,
    model: r.model,
    status: gone ? 'paused' : r.status,
    step: gone ? (r.checkpoint_step ?? 0) : r.step,
    corpus: r.corpus_name,
    maxSteps: config.training.maxSteps,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    config,
    error: gone ? (r.error ?? interruptedNote) : r.error,
  }
}

export function listRuns(db: Database): StoredRun[] {
  return (db.prepare(`SELECT ${runColumns} FROM runs r WHERE r.model != 'word2vec' ORDER BY r.created_at DESC, r.id DESC`).all() as RunRecord[]).map(toRun)
}

export function findRun(db: Database, name: string): StoredRun | undefined {
  const record = db.prepare(`SELECT ${runColumns} FROM runs r WHERE r.name = ? AND r.model != 'word2vec'`).get(name) as RunRecord | undefined
  return record ? toRun(record) : undefined
}

/** Translation, dialogue and word2vec runs share one namespace of names. */
export function runNameTaken(db: Database, name: string): boolean {
  return db.prepare('SELECT 1 FROM runs WHERE name = ?').get(name) !== undefined
}

export function createRun(db: Database, name: string, config: RunConfig, corpusId: number, tokenizerId: number): StoredRun {
  db.prepare('INSERT INTO runs (name, model, corpus_id, tokenizer_id, config) VALUES (?, ?, ?, ?, ?)').run(name, config.model, corpusId, tokenizerId, JSON.stringify(config))
  return findRun(db, name)!
}

export function updateRun(db: Database, runId: number, changes: { status?: RunStatus; step?: number; error?: string | null; config?: RunConfig }): void {
  const sets: string[] = ["updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"]
  const values: unknown[] = []
  if (changes.status !== undefined) sets.push('status = ?') && values.push(changes.status)
  if (changes.step !== undefined) sets.push('step = ?') && values.push(changes.step)
  if (changes.error !== undefined) sets.push('error = ?') && values.push(changes.error)
  if (changes.config !== undefined) sets.push('config = ?') && values.push(JSON.stringify(changes.config))
  db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, runId)
}


/** Runs left 'running' by an engine that died (crash, SIGKILL): marked paused, to resume from their last checkpoint. */
export function markInterruptedRuns(db: Database): string[] {
  const running = db.prepare("SELECT id, name, pid FROM runs WHERE status = 'running'").all() as { id: number; name: string; pid: number | null }[]
  const dead = running.filter((r) => r.pid === null || r.pid === process.pid || !processAlive(r.pid))
  const mark = db.prepare("UPDATE runs SET status = 'paused', pid = NULL, error = ? WHERE id = ?")
  for (const run of dead) mark.run(interruptedNote, run.id)
  return dead.map((r) => r.name)
}

export function requestRunControl(db: Database, runId: number, control: 'pause' | 'stop' | null): void {
  db.prepare('UPDATE runs SET control = ? WHERE id = ?').run(control, runId)
}

export function runControl(db: Database, runId: number): 'pause' | 'stop' | null {
  return (db.prepare('SELECT control FROM runs WHERE id = ?').get(runId) as { control: 'pause' | 'stop' | null } | undefined)?.control ?? null
}

/** Whether another live process is training the run. */
export function trainedElsewhere(db: Database, runId: number): boolean {
  const row = db.prepare("SELECT pid FROM runs WHERE id = ? AND status = 'running'").get(runId) as { pid: number | null } | undefined
  return !!row?.pid && row.pid !== process.pid && processAlive(row.pid)
}

/** Records which process trains the run (null when it stops). */
export function setRunProcess(db: Database, runId: number, pid: number | null): void {
  db.prepare('UPDATE runs SET pid = ? WHERE id = ?').run(pid, runId)
}

// ---- metrics -------------------------------------------------------------------------------

export interface MetricRecord {
  metric: string
  step: number
  value: number
  signature?: string
}

export function recordMetrics(db: Database, runId: number, points: readonly MetricRecord[]): void {
  const insert = db.prepare('INSERT OR REPLACE INTO metrics (run_id, name, step, value, wall_time, meta) VALUES (?, ?, ?, ?, ?, ?)')
  const now = Date.now() / 1000
  const write = db.transaction(() => {
    for (const p of points) insert.run(runId, p.metric, p.step, p.value, now, p.signature ?? null)
  })
  retryWhileBusy(() => write.immediate())
}

/** Test-set evaluations stored with a run ('test/…' metrics at a checkpoint's step), newest step first. */
export function testEvaluations(db: Database, runId: number): StoredEvaluation[] {
  const rows = db.prepare("SELECT name, step, value, wall_time, meta FROM metrics WHERE run_id = ? AND name LIKE 'test/%' ORDER BY step DESC, name").all(runId) as { name: string; step: number; value: number; wall_time: number; meta: string | null }[]
  const byStep = new Map<number, StoredEvaluation>()
  for (const row of rows) {
    const evaluation = byStep.get(row.step) ?? { split: 'test', step: row.step, scores: [], evaluatedAt: row.wall_time }
    evaluation.scores.push({ metric: row.name.slice('test/'.length), score: row.value, signature: row.meta })
    evaluation.evaluatedAt = Math.max(evaluation.evaluatedAt, row.wall_time)
    byStep.set(row.step, evaluation)
  }
  return [...byStep.values()]
}

export function metricSeries(db: Database, runId: number, names: string[] | undefined, afterStep: number): { series: Record<string, MetricPoint[]>; signatures: Record<string, string> } {
  const rows = db
    .prepare('SELECT name, step, value, wall_time, meta FROM metrics WHERE run_id = ? AND step > ? ORDER BY name, step')
    .all(runId, afterStep) as { name: string; step: number; value: number; wall_time: number; meta: string | null }[]
  const series: Record<string, MetricPoint[]> = {}
  const signatures: Record<string, string> = {}
  for (const row of rows) {
    if (names && !names.includes(row.name)) continue
    ;(series[row.name] ??= []).push({ step: row.step, value: row.value, wallTime: row.wall_time })
    if (row.meta) signatures[row.name] = row.meta
  }
  return { series, signatures }
}

// ---- checkpoints ---------------------------------------------------------------------------

export interface CheckpointBlobs {
  weights: Uint8Array
  optimizer: Uint8Array | null
  /** JSON-serialisable trainer state: optimizer step count, epoch position, schedule state, best metric. */
  meta: Record<string, unknown>
}

/** The step of the run's newest checkpoint, or null before the first. */
export function latestCheckpointStep(db: Database, runId: number): number | null {
  return (db.prepare('SELECT max(step) AS step FROM checkpoints WHERE run_id = ?').get(runId) as { step: number | null }).step
}

export function saveCheckpoint(db: Database, runId: number, step: number, blobs: CheckpointBlobs): number {
  const result = db
    .prepare('INSERT OR REPLACE INTO checkpoints (run_id, step, weights, optimizer, meta) VALUES (?, ?, ?, ?, ?)')
    .run(runId, step, blobs.weights, blobs.optimizer, JSON.stringify(blobs.meta))
  return Number(result.lastInsertRowid)
}

export function markBestCheckpoint(db: Database, runId: number, checkpointId: number): void {
  db.transaction(() => {
    db.prepare('UPDATE checkpoints SET is_best = 0 WHERE run_id = ?').run(runId)
    db.prepare('UPDATE checkpoints SET is_best = 1 WHERE id = ?').run(checkpointId)
  })()
}

/** Keeps the best checkpoint and the `keep` most recent ones. */
export function pruneCheckpoints(db: Database, runId: number, keep: number): void {
  db.prepare(
    'DELETE FROM checkpoints WHERE run_id = ? AND is_best = 0 AND id NOT IN (SELECT id FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT ?)',
  ).run(runId, runId, keep)
}

export interface StoredCheckpoint extends CheckpointBlobs {
  id: number
  step: number
}

/** A checkpoint by step, or the best (default) or the latest one. */
export function loadCheckpoint(db: Database, runId: number, which: { step: number } | 'best' | 'latest'): StoredCheckpoint | undefined {
  const query =
    which === 'latest'
      ? db.prepare('SELECT id, step, weights, optimizer, meta FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT 1').get(runId)
      : which === 'best'
        ? db.prepare('SELECT id, step, weights, optimizer, meta FROM checkpoints WHERE run_id = ? ORDER BY is_best DESC, step DESC LIMIT 1').get(runId)
        : db.prepare('SELECT id, step, weights, optimizer, meta FROM checkpoints WHERE run_id = ? AND step = ?').get(runId, which.step)
  const row = query as { id: number; step: number; weights: Buffer; optimizer: Buffer | null; meta: string } | undefined
  if (!row) return undefined
  return { id: row.id, step: row.step, weights: new Uint8Array(row.weights), optimizer: row.optimizer ? new Uint8Array(row.optimizer) : null, meta: JSON.parse(row.meta) as Record<string, unknown> }
}

/** The weights of the last `count` checkpoints, newest first. */
export function recentCheckpointWeights(db: Database, runId: number, count: number): { step: number; weights: Uint8Array }[] {
  return (db.prepare('SELECT step, weights FROM checkpoints WHERE run_id = ? ORDER BY step DESC LIMIT ?').all(runId, count) as { step: number; weights: Buffer }[]).map((r) => ({
    step: r.step,
    weights: new Uint8Array(r.weights),
  }))
}

export function listCheckpoints(db: Database, runId: number): CheckpointSummary[] {
  const rows = db.prepare('SELECT id, step, is_best, created_at FROM checkpoints WHERE run_id = ? ORDER BY step').all(runId) as { id: number; step: number; is_best: number; created_at: string }[]
  const validation = db.prepare("SELECT name, value FROM metrics WHERE run_id = ? AND step = ? AND name LIKE 'dev/%'")
  return rows.map((r) => ({
    id: r.id,
    step: r.step,
    isBest: r.is_best === 1,
    createdAt: r.created_at,
    metrics: Object.fromEntries((validation.all(runId, r.step) as { name: string; value: number }[]).map((m) => [m.name, m.value])),
  }))
}

/** Forgets what was logged after `step` (a resumed run continues from its checkpoint). */
export function truncateAfter(db: Database, runId: number, step: number): void {
  db.transaction(() => {
    db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step)
    db.prepare('DELETE FROM validation_samples WHERE run_id = ? AND step > ?').run(runId, step)
    db.prepare('DELETE FROM attention_maps WHERE run_id = ? AND step > ?').run(runId, step)
    db.prepare('DELETE FROM checkpoints WHERE run_id = ? AND step > ?').run(runId, step)
  })()
}

// ---- validation samples and attention ----------------------------------------------------

export interface ValidationSample {
  index: number
  source: string
  reference: string
  hypothesis: string
}

/** Dev samples (source, reference, hypothesis) stored at each validation. */
export const samplesStored = 10

export function saveSamples(db: Database, runId: number, step: number, samples: readonly ValidationSample[]): void {
  const insert = db.prepare('INSERT OR REPLACE INTO validation_samples (run_id, step, idx, source, reference, hypothesis) VALUES (?, ?, ?, ?, ?, ?)')
  const write = db.transaction(() => {
    for (const s of samples) insert.run(runId, step, s.index, s.source, s.reference, s.hypothesis)
  })
  retryWhileBusy(() => write.immediate())
}

export function sampleSteps(db: Database, runId: number): number[] {
  return (db.prepare('SELECT DISTINCT step FROM validation_samples WHERE run_id = ? ORDER BY step').all(runId) as { step: number }[]).map((r) => r.step)
}

export function samplesAt(db: Database, runId: number, step: number): ValidationSample[] {
  return db.prepare('SELECT idx AS "index", source, reference, hypothesis FROM validation_samples WHERE run_id = ? AND step = ? ORDER BY idx').all(runId, step) as ValidationSample[]
}

/** One validation's maps (every probe, kind, layer and head) in one transaction. */
/** `output`: whose target the maps were computed on: the model's greedy hypothesis, or the dev reference (forced). */
export function saveAttentionMaps(db: Database, runId: number, checkpointId: number | null, maps: readonly AttentionMap[], output: AttentionOutput = 'hypothesis'): void {
  const insert = db.prepare(
    'INSERT INTO attention_maps (run_id, checkpoint_id, step, probe_idx, attn_type, layer, head, rows, cols, data, src_tokens, tgt_tokens, output) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  )
  const write = db.transaction(() => {
    for (const map of maps) {
      const rows = map.rowTokens.length
      const cols = map.colTokens.length
      const data = new Float32Array(rows * cols)
      map.weights.forEach((row, r) => data.set(row.slice(0, cols), r * cols))
      // src_tokens holds the column (key) tokens, tgt_tokens the row (query) tokens.
      insert.run(runId, checkpointId, map.step, map.probe, map.kind, map.layer, map.head ?? 0, rows, cols, Buffer.from(data.buffer), JSON.stringify(map.colTokens), JSON.stringify(map.rowTokens), output)
    }
  })
  retryWhileBusy(() => write.immediate())
}

type MapRow = { step: number; probe_idx: number; attn_type: AttentionKind; layer: number; head: number; rows: number; cols: number; data: Buffer; src_tokens: string; tgt_tokens: string }
const mapColumns = 'step, probe_idx, attn_type, layer, head, rows, cols, data, src_tokens, tgt_tokens'

function toMap(row: MapRow): AttentionMap {
  const values = new Float32Array(new Uint8Array(row.data).buffer)
  const weights = Array.from({ length: row.rows }, (_, r) => Array.from(values.subarray(r * row.cols, (r + 1) * row.cols)))
  return {
    step: row.step,
    probe: row.probe_idx,
    kind: row.attn_type,
    layer: row.layer,
    head: row.head,
    rowTokens: JSON.parse(row.tgt_tokens) as string[],
    colTokens: JSON.parse(row.src_tokens) as string[],
    weights,
  }
}

/** Validation steps with stored maps, the number of probes, and per kind the layers and heads stored. */
export function attentionOverview(db: Database, runId: number): { steps: number[]; probes: number; layout: AttentionLayout } {
  const steps = (db.prepare("SELECT DISTINCT step FROM attention_maps WHERE run_id = ? AND output = 'hypothesis' ORDER BY step").all(runId) as { step: number }[]).map((r) => r.step)
  const probes = (db.prepare('SELECT COUNT(DISTINCT probe_idx) AS n FROM attention_maps WHERE run_id = ?').get(runId) as { n: number }).n
  const order: AttentionKind[] = ['encoder-self', 'decoder-self', 'cross']
  const layout = (db.prepare('SELECT attn_type AS kind, MAX(layer) + 1 AS layers, MAX(head) + 1 AS heads FROM attention_maps WHERE run_id = ? GROUP BY attn_type').all(runId) as AttentionLayout).sort(
    (a, b) => order.indexOf(a.kind) - order.indexOf(b.kind),
  )
  return { steps, probes, layout }
}

/** Every head of one kind (ordered by layer, then head) for a probe at a step. */
export function attentionGrid(db: Database, runId: number, probe: number, step: number, kind: AttentionKind, output: AttentionOutput = 'hypothesis'): AttentionMap[] {
  const rows = db.prepare(`SELECT ${mapColumns} FROM attention_maps WHERE run_id = ? AND probe_idx = ? AND step = ? AND attn_type = ? AND output = ? ORDER BY layer, head`).all(runId, probe, step, kind, output) as MapRow[]
  return rows.map(toMap)
}

/** All maps at a step, every probe (for per-head statistics). */
export function attentionAtStep(db: Database, runId: number, step: number): AttentionMap[] {
  return (db.prepare(`SELECT ${mapColumns} FROM attention_maps WHERE run_id = ? AND step = ? AND output = 'hypothesis' ORDER BY attn_type, layer, head, probe_idx`).all(runId, step) as MapRow[]).map(toMap)
}

/** Where a run trains: the backend and what it computes on (ComputeReport.device). */
export interface TrainingDevice {
  backend: BackendName
  device: string
}

/** Keeps the tokens per second a run measured on a device (its latest log window). */
export function recordDeviceSpeed(db: Database, runId: number, where: TrainingDevice, tokensPerSecond: number, step: number): void {
  db.prepare(
    `INSERT INTO run_devices (run_id, backend, device, tokens_per_s, step) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (run_id, backend, device) DO UPDATE SET tokens_per_s = excluded.tokens_per_s, step = excluded.step,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`,
  ).run(runId, where.backend, where.device, tokensPerSecond, step)
}

/** The newest run measured on a device, or null. */
export function lastRunOnDevice(db: Database, where: TrainingDevice): DeviceThroughput | null {
  const row = db
    .prepare(
      `SELECT r.name, d.tokens_per_s, d.step, d.updated_at FROM run_devices d JOIN runs r ON r.id = d.run_id
       WHERE d.backend = ? AND d.device = ? ORDER BY d.updated_at DESC, d.rowid DESC LIMIT 1`,
    )
    .get(where.backend, where.device) as { name: string; tokens_per_s: number; step: number; updated_at: string } | undefined
  return row ? { run: row.name, backend: where.backend, device: where.device, tokensPerSecond: row.tokens_per_s, step: row.step, at: row.updated_at } : null
}
