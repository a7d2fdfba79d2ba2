// Messages between the engine and its warm inference worker (translate and chat replies with models kept loaded).
import type { BackendName, ErrorCode } from '../../api/contract.ts'

export type WarmTask = 'translate' | 'chat'

/** workerData of the warm worker (the job worker script, told apart by `warm`). */
export interface WarmWorkerData {
  warm: true
  dbPath: string
  backend: BackendName | null
  /** Models kept loaded at once; the least recently used is disposed first. */
  maxModels: number
}

export type WarmRequest = { type: 'request'; id: number; task: WarmTask; params: unknown }

export type WarmReply =
  | { type: 'result'; id: number; result: unknown }
  /** `retryable`: the compute backend or a pool thread was lost; a fresh worker can answer. */
  | { type: 'error'; id: number; error: string; code?: ErrorCode; retryable: boolean }
