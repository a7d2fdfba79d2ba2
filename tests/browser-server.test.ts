// Browser mode as users start it (`kotoba serve`): loopback only, per-launch token, Origin and Host checks.
import assert from 'node:assert/strict'
import { request } from 'node:http'
import { join } from 'node:path'
import { test } from 'node:test'
import WebSocket from 'ws'
import type { ResponseMessage, ServerMessage } from '../main/api/contract.ts'
import { startServe, tempDir, type ServeProcess } from './helpers.ts'

function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Opens a WebSocket; resolves with the socket, or with the HTTP status it was refused with. */
function openSocket(url: string, origin?: string): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, origin ? { origin } : {})
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    ws.once('error', reject)
  })
}

function ask(ws: WebSocket, payload: string): Promise<ResponseMessage> {
  return new Promise((resolve) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const message = JSON.parse(String(raw)) as ServerMessage
      if ('id' in message) {
        ws.off('message', onMessage)
        resolve(message)
      }
    }
    ws.on('message', onMessage)
    ws.send(payload)
  })
}

let serve: ServeProcess

test('browser mode', async (t) => {
  serve = await startServe(join(tempDir(t), 'kotoba.db'))
  t.after(() => serve.stop())
  const origin = `http://127.0.0.1:${serve.port}`
  const api = (token: string | null) => `ws://127.0.0.1:${serve.port}/api${token === null ? '' : `?token=${encodeURIComponent(token)}`}`

  await t.test('serves the built renderer with a strict CSP, and no token in the page', async () => {
    const page = await httpGet(serve.port, '/')
    assert.equal(page.status, 200)
    assert.match(page.body, /<div id="root">/)
    assert.match(String(page.headers['content-security-policy']), /script-src 'self'/)
    assert.ok(!page.body.includes(serve.token))
    assert.ok(serve.token.length >= 32)
  })

  await t.test('refuses an API connection without the token, or with a wrong one', async () => {
    assert.equal(await openSocket(api(null), origin), 401)
    assert.equal(await openSocket(api('wrong-token'), origin), 401)
  })

  await t.test('refuses an API connection from another Origin, even with the token', async () => {
    assert.equal(await openSocket(api(serve.token), 'http://evil.example'), 403)
    assert.equal(await openSocket(api(serve.token), `http://127.0.0.1:${serve.port + 1}`), 403)
    assert.equal(await openSocket(api(serve.token)), 403) // no Origin at all
  })

  await t.test('refuses requests whose Host is not loopback (DNS rebinding)', async () => {
    const page = await httpGet(serve.port, '/', { Host: `attacker.example:${serve.port}` })
    assert.equal(page.status, 403)
  })

  await t.test('with the token and the right Origin, answers calls and survives garbage', async () => {
    const ws = await openSocket(api(serve.token), origin)
    assert.ok(ws instanceof WebSocket)
    t.after(() => ws.close())
    const list = await ask(ws, JSON.stringify({ id: 1, method: 'corpus.list', params: {} }))
    assert.ok(list.ok)
    assert.deepEqual(
      (list.result as { name: string }[]).map((c) => c.name),
      ['sample-bible-en-es', 'sample-hamlet-dialogues'],
    )
    const garbage = await ask(ws, '{not json')
    assert.deepEqual(garbage, { id: -1, ok: false, error: { code: 'bad_request', message: 'the message is not JSON' } })
    const bad = await ask(ws, JSON.stringify({ id: 2, method: 'corpus.rows', params: { name: 7 } }))
    assert.equal(bad.ok, false)
    assert.equal(!bad.ok && bad.error.code, 'bad_request')
    const again = await ask(ws, JSON.stringify({ id: 3, method: 'app.info', params: {} }))
    assert.ok(again.ok)
    const localhost = await openSocket(api(serve.token), `http://localhost:${serve.port}`)
    assert.ok(localhost instanceof WebSocket, 'an SSH tunnel to localhost:PORT is allowed too')
    localhost.close()
  })
})
