// Where the job worker script lives: the source tree (run through tsx) or the electron-vite bundle.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { WorkerEntry } from './jobs/manager.ts'
import { packageRoot } from './paths.ts'

const runningFromSource = import.meta.url.endsWith('.ts')

export function defaultWorkerEntry(): WorkerEntry {
  const root = packageRoot()
  if (runningFromSource) {
    return { url: pathToFileURL(join(root, 'main', 'engine', 'jobs', 'worker-source.mjs')), execArgv: [] }
  }
  const bundled = join(root, 'out', 'main', 'job-worker.js')
  if (!existsSync(bundled)) throw new Error(`the job worker bundle is missing (${bundled}): run npm run build`)
  return { url: pathToFileURL(bundled), execArgv: [] }
}
