// Where worker scripts live: the source tree (run through tsx) or the electron-vite bundle.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { bundleIsCurrent } from '../bundle-freshness.mjs'
import type { WorkerEntry } from './jobs/manager.ts'
import { packageRoot } from './paths.ts'

const runningFromSource = import.meta.url.endsWith('.ts')

/** The source shim (which registers tsx first) and the bundle name of each worker script. */
const workerScripts = {
  'job-worker': { source: ['main', 'engine', 'jobs', 'worker-source.mjs'], bundle: 'job-worker.js' },
  'w2v-thread': { source: ['main', 'engine', 'word2vec', 'thread-source.mjs'], bundle: 'w2v-thread.js' },
} as const

export function workerEntry(script: keyof typeof workerScripts): WorkerEntry {
  const root = packageRoot()
  // From the source, a current bundle's worker runs the same code and starts ~0.5 s sooner (no tsx loader).
  if (runningFromSource && !bundleIsCurrent(root, workerScripts[script].bundle)) return { url: pathToFileURL(join(root, ...workerScripts[script].source)), execArgv: [] }
  const bundled = join(root, 'out', 'main', workerScripts[script].bundle)
  if (!existsSync(bundled)) throw new Error(`the ${script} bundle is missing (${bundled}): run npm run build`)
  return { url: pathToFileURL(bundled), execArgv: [] }
}

/** The worker thread every long job runs in. */
export function defaultWorkerEntry(): WorkerEntry {
  return workerEntry('job-worker')
}
