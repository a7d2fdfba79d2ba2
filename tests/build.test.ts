// `npm run build` (run by `npm test` first) produces the Electron bundles without an Electron binary.
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot } from './helpers.ts'

const out = (...parts: string[]) => join(repoRoot, 'out', ...parts)

test('the main, engine, worker, preload and renderer bundles exist', () => {
  for (const file of [out('main', 'index.js'), out('main', 'engine.js'), out('main', 'job-worker.js'), out('preload', 'index.cjs'), out('renderer', 'index.html')]) {
    assert.ok(existsSync(file), `${file} is missing`)
  }
})

test('the sandboxed preload is CommonJS and requires nothing but electron', () => {
  const preload = readFileSync(out('preload', 'index.cjs'), 'utf8')
  const required = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1])
  assert.deepEqual([...new Set(required)], ['electron'])
  assert.doesNotMatch(preload, /^\s*(import|export)\s/m)
  assert.match(preload, /exposeInMainWorld\("kotoba"/)
})

test('the Electron main bundle never loads the native SQLite module (it runs in the engine process)', () => {
  const main = readFileSync(out('main', 'index.js'), 'utf8')
  assert.doesNotMatch(main, /better-sqlite3/)
  assert.doesNotMatch(main, /@tensorflow/)
  assert.match(main, /execPath/)
  for (const option of ['contextIsolation: true', 'sandbox: true', 'nodeIntegration: false']) assert.ok(main.includes(option), option)
})

test('the renderer page carries a strict CSP and loads no inline script', () => {
  const html = readFileSync(out('renderer', 'index.html'), 'utf8')
  assert.match(html, /http-equiv="Content-Security-Policy"\s+content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval';/)
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/)
})
