// Browser mode: serves the built renderer and the API (WebSocket) on 127.0.0.1 only.
// Every API connection needs this launch's random token and a same-origin Origin header;
// every request needs a loopback Host header (no DNS rebinding).
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { existsSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { join } from 'node:path'
import sirv from 'sirv'
import { WebSocketServer, type WebSocket } from 'ws'
import type { ResponseMessage, ServerMessage } from '../../api/contract.ts'
import { ApiError } from '../../api/contract.ts'
import type { Engine } from '../engine.ts'

export interface BrowserServerOptions {
  /** 0 picks a free port. */
  port: number
  rendererDir: string
  /** Defaults to a fresh random token per launch. */
  token?: string
  /** Extra allowed origins, e.g. a dev server. Loopback origins on this port are always allowed. */
  extraOrigins?: string[]
}

export interface BrowserServer {
  port: number
  token: string
  /** Open this in a browser: it carries the token. */
  url: string
  close(): Promise<void>
}

export const apiPath = '/api'

export const contentSecurityPolicy = [
  "default-src 'self'",
  // 'wasm-unsafe-eval' lets WebAssembly compile (the projector's matrix product) and nothing else eval-like.
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ')

function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

function reject(socket: Duplex, status: number, reason: string): void {
  const body = JSON.stringify({ error: reason })
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Bad Request'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

export async function startBrowserServer(engine: Engine, options: BrowserServerOptions): Promise<BrowserServer> {
  if (!existsSync(join(options.rendererDir, 'index.html'))) {
    throw new Error(`the renderer is not built (${options.rendererDir}/index.html is missing): run npm run build`)
  }
  const token = options.token ?? randomBytes(24).toString('base64url')
  const serveStatic = sirv(options.rendererDir, { etag: true, dev: false })
  let port = options.port
  const allowedHosts = (): Set<string> => new Set([`127.0.0.1:${port}`, `localhost:${port}`])
  const allowedOrigins = (): Set<string> =>
    new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, ...(options.extraOrigins ?? [])])

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (!allowedHosts().has(request.headers.host ?? '')) {
      response.writeHead(403, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'forbidden host' }))
      return
    }
    response.setHeader('Content-Security-Policy', contentSecurityPolicy)
    response.setHeader('X-Content-Type-Options', 'nosniff')
    response.setHeader('Referrer-Policy', 'no-referrer')
    response.setHeader('X-Frame-Options', 'DENY')
    serveStatic(request, response, () => {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found')
    })
  })

  const sockets = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 })
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()) // a reset before or during the handshake
    const url = new URL(request.url ?? '/', 'http://placeholder')
    if (url.pathname !== apiPath) return reject(socket, 400, 'unknown path')
    if (!allowedHosts().has(request.headers.host ?? '')) return reject(socket, 403, 'forbidden host')
    if (!allowedOrigins().has(request.headers.origin ?? '')) return reject(socket, 403, 'forbidden origin')
    if (!tokensEqual(url.searchParams.get('token') ?? '', token)) return reject(socket, 401, 'missing or wrong token')
    sockets.handleUpgrade(request, socket, head, (ws) => sockets.emit('connection', ws, request))
  })

  const send = (ws: WebSocket, message: ServerMessage): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message))
  }
  sockets.on('connection', (ws: WebSocket) => {
    // A protocol error (a frame over maxPayload, invalid UTF-8, a bad opcode, RSV bits, a reset) closes this
    // connection only; without a listener it would be thrown and end the server with every job in it.
    ws.on('error', (error: Error & { code?: string }) => {
      process.stderr.write(`kotoba: closed a browser connection: ${error.code ?? error.message}\n`)
      ws.terminate()
    })
    ws.on('message', (raw) => {
      let request: { id?: unknown; method?: unknown; params?: unknown }
      try {
        request = JSON.parse(String(raw)) as typeof request
      } catch {
        return send(ws, { id: -1, ok: false, error: { code: 'bad_request', message: 'the message is not JSON' } })
      }
      const id = typeof request.id === 'number' ? request.id : -1
      if (typeof request.method !== 'string') {
        return send(ws, { id, ok: false, error: { code: 'bad_request', message: 'a request needs a string "method"' } })
      }
      engine.handle(request.method, request.params).then(
        (result) => send(ws, { id, ok: true, result } satisfies ResponseMessage),
        (error: unknown) => send(ws, { id, ok: false, error: (error as ApiError).toBody() } satisfies ResponseMessage),
      )
    })
  })
  const unsubscribe = engine.on((event) => {
    for (const ws of sockets.clients) send(ws, event)
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', () => resolve())
  })
  port = (server.address() as AddressInfo).port

  return {
    port,
    token,
    url: `http://127.0.0.1:${port}/?token=${token}`,
    close: async () => {
      unsubscribe()
      for (const ws of sockets.clients) ws.terminate()
      sockets.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
