// One Hogwild thread of a word2vec training: its own kernel instance over the shared memory, taking chunks of the
// epoch from the cursor it shares with the other threads, one epoch at a time.
import { parentPort, workerData } from 'node:worker_threads'
import { KernelThread, type KernelLayout, type KernelSettings, type ThreadReport } from '../../../models/word2vec/kernel.ts'
import { trainChunks, type RateSchedule } from '../../../models/word2vec/schedule.ts'

export interface ThreadData {
  module: WebAssembly.Module
  memory: WebAssembly.Memory
  layout: KernelLayout
  settings: KernelSettings
  index: number
  seed: number
  schedule: RateSchedule
  /** Positions trained over all epochs, shared by all threads. */
  progress: BigInt64Array
  /** The epoch's chunk boundaries and the next chunk to take, shared by all threads. */
  chunks: Int32Array
  cursor: Int32Array
  /** Set to 1 by the coordinator to stop after the current chunk. */
  stop: Int32Array
}

export type ThreadRequest = { epoch: number }
export type ThreadReply = { type: 'ready' } | { type: 'done'; report: ThreadReport; finished: boolean } | { type: 'error'; message: string }

const data = workerData as ThreadData
const port = parentPort!
// The message listener goes on first: it keeps this thread's event loop alive while the kernel instantiates.
const kernel = KernelThread.start(data.module, data.memory, data.layout, data.settings, data.index, data.seed)

port.on('message', async ({ epoch }: ThreadRequest) => {
  try {
    const thread = await kernel
    thread.seedEpoch(data.seed, data.index, epoch)
    const finished = trainChunks(thread, data.chunks, data.cursor, data.progress, data.schedule, () => Atomics.load(data.stop, 0) !== 0)
    port.postMessage({ type: 'done', report: thread.report(), finished } satisfies ThreadReply)
  } catch (error) {
    port.postMessage({ type: 'error', message: (error as Error).message } satisfies ThreadReply)
  }
})
kernel.then(
  () => port.postMessage({ type: 'ready' } satisfies ThreadReply),
  (error: Error) => port.postMessage({ type: 'error', message: error.message } satisfies ThreadReply),
)
