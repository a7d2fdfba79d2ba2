// Connects the UI to the engine: through the Electron preload when present, else over the
// browser-mode WebSocket with this launch's token.
import {
  ApiError,
  KotobaClient,
  type EngineEvent,
  type KotobaTransport,
  type ServerMessage,
} from '../../../main/api/contract.ts'
import type { KotobaBridge } from '../../../main/api/bridge.ts'

declare global {
  interface Window {
    kotoba?: KotobaBridge
  }
}

function bridgeTransport(bridge: KotobaBridge): KotobaTransport {
  return {
    async call(method, params) {
      const reply = await bridge.call(method, params)
      if (reply.ok) return reply.result
      throw new ApiError(reply.error)
    },
    onEvent: (listener) => bridge.onEvent(listener),
  }
}

const tokenKey = 'kotoba.token'

/** Takes the token from `?token=` once, keeps it for this tab, and removes it from the address bar. */
export function browserToken(): string | null {
  const url = new URL(window.location.href)
  const fromUrl = url.searchParams.get('token')
  if (fromUrl) {
    sessionStorage.setItem(tokenKey, fromUrl)
    url.searchParams.delete('token')
    window.history.replaceState(null, '', url.toString())
  }
  return sessionStorage.getItem(tokenKey)
}

export type ConnectionState = 'connecting' | 'open' | 'closed'

function webSocketTransport(token: string, onState: (state: ConnectionState) => void): KotobaTransport {
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  const listeners = new Set<(event: EngineEvent) => void>()
  const queue: string[] = []
  let nextId = 1
  let socket: WebSocket
  let retryMs = 500

  const connect = (): void => {
    onState('connecting')
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws'
    socket = new WebSocket(`${scheme}://${window.location.host}/api?token=${encodeURIComponent(token)}`)
    socket.onopen = () => {
      retryMs = 500
      onState('open')
      for (const message of queue.splice(0)) socket.send(message)
    }
    socket.onmessage = (raw) => {
      const message = JSON.parse(String(raw.data)) as ServerMessage
      if ('event' in message) {
        for (const listener of listeners) listener(message as EngineEvent)
        return
      }
      const call = pending.get(message.id)
      if (!call) return
      pending.delete(message.id)
      if (message.ok) call.resolve(message.result)
      else call.reject(new ApiError(message.error))
    }
    socket.onclose = () => {
      onState('closed')
      for (const call of pending.values()) call.reject(new ApiError({ code: 'unavailable', message: 'lost the connection to the engine' }))
      pending.clear()
      setTimeout(connect, retryMs)
      retryMs = Math.min(retryMs * 2, 10_000)
    }
  }
  connect()

  return {
    call(method, params) {
      return new Promise((resolve, reject) => {
        const id = nextId++
        pending.set(id, { resolve, reject })
        const message = JSON.stringify({ id, method, params })
        if (socket.readyState === WebSocket.OPEN) socket.send(message)
        else queue.push(message)
      })
    },
    onEvent(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}

export class MissingTokenError extends Error {}

export function connect(onState: (state: ConnectionState) => void): KotobaClient {
  if (window.kotoba) {
    onState('open')
    return new KotobaClient(bridgeTransport(window.kotoba))
  }
  const token = browserToken()
  if (!token) throw new MissingTokenError('no engine token')
  return new KotobaClient(webSocketTransport(token, onState))
}
