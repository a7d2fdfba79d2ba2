// Serves the engine over the Node IPC channel of a forked process (Electron main ↔ engine).
import type { RequestMessage, ResponseMessage, ServerMessage } from '../../api/contract.ts'
import { ApiError } from '../../api/contract.ts'
import type { Engine } from '../engine.ts'

export interface ReadyMessage {
  ready: true
  dbPath: string
  pid: number
}

function isRequest(value: unknown): value is RequestMessage {
  const message = value as Partial<RequestMessage> | null
  return typeof message === 'object' && message !== null && typeof message.id === 'number' && typeof message.method === 'string'
}

export function serveIpc(engine: Engine): void {
  const send = process.send?.bind(process)
  if (!send) throw new Error('serveIpc needs a process started with an IPC channel (child_process.fork)')
  const reply = (message: ServerMessage): void => {
    if (process.connected) send(message)
  }
  engine.on((event) => reply(event))
  process.on('message', (raw: unknown) => {
    if (!isRequest(raw)) {
      console.error('engine: ignoring a malformed IPC message')
      return
    }
    engine.handle(raw.method, raw.params).then(
      (result) => reply({ id: raw.id, ok: true, result } satisfies ResponseMessage),
      (error: unknown) => reply({ id: raw.id, ok: false, error: (error as ApiError).toBody() } satisfies ResponseMessage),
    )
  })
  const ready: ReadyMessage = { ready: true, dbPath: engine.options.dbPath, pid: process.pid }
  send(ready)
}
