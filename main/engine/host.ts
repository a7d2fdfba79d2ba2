// Starts the engine as a child process with the system Node and talks to it over IPC.
// Electron's main process uses this (it must not load better-sqlite3 itself: different ABI);
// it imports nothing from Electron, so plain-Node tests exercise the same code.
import { fork, type ChildProcess } from 'node:child_process'
import { ApiError, type EngineEvent, type KotobaTransport, type ResponseMessage } from '../api/contract.ts'
import type { ReadyMessage } from './transports/ipc.ts'

export interface EngineProcessOptions {
  /** The engine entry: out/main/engine.js (or main/engine/main.ts with a tsx execArgv). */
  script: string
  args?: string[]
  /** The Node binary to run it with; defaults to `node` on PATH. Never Electron's own binary. */
  nodePath?: string
  execArgv?: string[]
  env?: NodeJS.ProcessEnv
  readyTimeoutMs?: number
}

export interface EngineProcess extends KotobaTransport {
  readonly pid: number
  readonly dbPath: string
  /** Resolves when the process has exited (code, or null after a signal). */
  readonly exited: Promise<number | null>
  close(): Promise<void>
}

function isResponse(message: unknown): message is ResponseMessage {
  return typeof message === 'object' && message !== null && 'id' in message && 'ok' in message
}

function isEvent(message: unknown): message is EngineEvent {
  return typeof message === 'object' && message !== null && 'event' in message
}

export async function startEngineProcess(options: EngineProcessOptions): Promise<EngineProcess> {
  const child: ChildProcess = fork(options.script, options.args ?? [], {
    execPath: options.nodePath ?? 'node',
    execArgv: options.execArgv ?? [],
    env: options.env ?? process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  })
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  const listeners = new Set<(event: EngineEvent) => void>()
  let nextId = 1
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  void exited.then((code) => {
    for (const call of pending.values()) {
      call.reject(new ApiError({ code: 'unavailable', message: `the engine process exited (code ${code})` }))
    }
    pending.clear()
  })

  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the engine did not start within ${options.readyTimeoutMs ?? 60_000} ms`)),
      options.readyTimeoutMs ?? 60_000,
    )
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new Error(`cannot start the engine with '${options.nodePath ?? 'node'}': ${error.message}`))
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`the engine exited during start-up (code ${code}); see its output above`))
    })
    child.once('message', (message: unknown) => {
      clearTimeout(timer)
      if ((message as ReadyMessage).ready === true) resolve(message as ReadyMessage)
      else reject(new Error('the engine sent something other than its ready message first'))
    })
  })

  child.on('message', (message: unknown) => {
    if (isResponse(message)) {
      const call = pending.get(message.id)
      if (!call) return
      pending.delete(message.id)
      if (message.ok) call.resolve(message.result)
      else call.reject(new ApiError(message.error))
    } else if (isEvent(message)) {
      for (const listener of listeners) listener(message)
    }
  })

  return {
    pid: child.pid ?? -1,
    dbPath: ready.dbPath,
    exited,
    call(method, params) {
      return new Promise((resolve, reject) => {
        if (!child.connected) {
          reject(new ApiError({ code: 'unavailable', message: 'the engine process is not running' }))
          return
        }
        const id = nextId++
        pending.set(id, { resolve, reject })
        child.send({ id, method, params })
      })
    },
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}
