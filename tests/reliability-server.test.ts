// Browser mode against bad clients (issue 17): every protocol error closes that one connection; the server, and any
// job running in it, goes on answering.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { test } from 'node:test'
import WebSocket from 'ws'
import type { ResponseMessage } from '../main/api/contract.ts'
import { startServe, tempDir } from './helpers.ts'

/** A raw TCP connection through the WebSocket handshake, so the test can send frames no real client would. */
async function rawSocket(port: number, token: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.on('error', () => undefined) // the server may reset us: that is the point
  socket.write(
    [
      `GET /api?token=${encodeURIComponent(token)} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      `Origin: http://127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '',
      '',
    ].join('\r\n'),
  )
  const head = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))))
  assert.match(head, /^HTTP\/1\.1 101/, 'the handshake succeeds')
  return socket
}

/** A client frame (clients must mask) with the first byte given: FIN, RSV bits and opcode. */
function frame(firstByte: number, payload: Buffer): Buffer {
  const mask = randomBytes(4)
  const masked = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!))
  const length = payload.length < 126 ? Buffer.from([0x80 | payload.length]) : Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff])
  return Buffer.concat([Buffer.from([firstByte]), length, mask, masked])
}

/** The header of a binary frame that announces `bytes` of payload (64-bit length), without sending them. */
function oversizeHeader(bytes: number): Buffer {
  const header = Buffer.alloc(2 + 8 + 4)
  header[0] = 0x82
  header[1] = 0x80 | 127
  header.writeBigUInt64BE(BigInt(bytes), 2)
  return header
}

const badFrames: Record<string, Buffer> = {
  'a frame over the 16 MiB message limit': oversizeHeader(64 * 1024 * 1024),
  'a text frame with invalid UTF-8': frame(0x81, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
  'an unknown opcode': frame(0x83, Buffer.alloc(0)),
  'RSV bits set without an extension': frame(0xc1, Buffer.from('{}')),
  'a fragmented control frame': frame(0x09, Buffer.from('ping')),
}

function call(ws: WebSocket, method: string, params: unknown = {}): Promise<ResponseMessage> {
  return new Promise((resolve, reject) => {
    ws.once('close', () => reject(new Error(`the connection closed before ${method} was answered`)))
    const id = Math.floor(Math.random() * 1e9)
    const onMessage = (raw: WebSocket.RawData) => {
      const message = JSON.parse(String(raw)) as ResponseMessage
      if ('id' in message && message.id === id) {
        ws.off('message', onMessage)
        resolve(message)
      }
    }
    ws.on('message', onMessage)
    ws.send(JSON.stringify({ id, method, params }))
  })
}

test('browser mode survives every malformed WebSocket frame and keeps its other connections', async (t) => {
  const serve = await startServe(join(tempDir(t), 'kotoba.db'))
  t.after(() => serve.stop())
  const origin = `http://127.0.0.1:${serve.port}`
  const url = `ws://127.0.0.1:${serve.port}/api?token=${encodeURIComponent(serve.token)}`
  // A connection that stays open through all of it, as a user's page would.
  const bystander = new WebSocket(url, { origin })
  await new Promise((resolve, reject) => {
    bystander.once('open', resolve)
    bystander.once('error', reject)
  })
  t.after(() => bystander.close())

  for (const [what, bytes] of Object.entries(badFrames)) {
    const socket = await rawSocket(serve.port, serve.token)
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.write(bytes)
    await closed // the server closed this connection
    assert.equal(serve.process.exitCode, null, `the server is still running after ${what}:\n${serve.log()}`)
    const answer = await call(bystander, 'corpus.list')
    assert.equal(answer.ok, true, `the open connection still gets answers after ${what}`)
  }
  // A malformed HTTP request and a reset mid-handshake end only themselves too.
  const garbage = connect(serve.port, '127.0.0.1')
  garbage.on('error', () => undefined)
  garbage.resume() // read to the end, or 'close' never comes
  const garbageClosed = new Promise((resolve) => garbage.once('close', resolve))
  garbage.end('\x00\x01 not http\r\n\r\n')
  await garbageClosed
  const reset = connect(serve.port, '127.0.0.1')
  reset.on('error', () => undefined)
  await new Promise((resolve) => reset.once('connect', resolve))
  reset.write(`GET /api?token=${serve.token} HTTP/1.1\r\nHost: 127.0.0.1:${serve.port}\r\nUpgrade: websocket\r\n`)
  reset.resetAndDestroy()
  const fresh = new WebSocket(url, { origin })
  await new Promise((resolve, reject) => {
    fresh.once('open', resolve)
    fresh.once('error', reject)
  })
  assert.equal((await call(fresh, 'corpus.list')).ok, true, 'a new connection is accepted and answered')
  fresh.close()
  assert.match(serve.log(), /closed a browser connection/, 'each closed connection is logged in one line')
})
