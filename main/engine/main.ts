// The engine process started by Electron's main process (child_process.fork with the system Node):
// `node out/main/engine.js [--db PATH] [--backend NAME] [--no-sample]`, served over the IPC channel.
import { parseArgs } from 'node:util'
import { parseBackendName } from './compute/backend-names.ts'
import { Engine } from './engine.ts'
import { resolveDbPath } from './paths.ts'
import { defaultWorkerEntry } from './runtime.ts'
import { serveIpc } from './transports/ipc.ts'

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    backend: { type: 'string' },
    'no-sample': { type: 'boolean', default: false },
  },
})

const backendFlag = values.backend ?? process.env.KOTOBA_BACKEND
const engine = await Engine.open({
  dbPath: resolveDbPath(values.db),
  backend: backendFlag ? parseBackendName(backendFlag) : null,
  loadSample: !values['no-sample'],
  worker: defaultWorkerEntry(),
})

let closing = false
async function shutdown(code: number): Promise<void> {
  if (closing) return
  closing = true
  await engine.close()
  process.exit(code)
}
process.on('disconnect', () => void shutdown(0)) // the parent (Electron main) went away
process.on('SIGTERM', () => void shutdown(0))
process.on('SIGINT', () => void shutdown(0))
process.on('SIGHUP', () => void shutdown(0))

serveIpc(engine)
