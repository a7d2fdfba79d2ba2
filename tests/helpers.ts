// Shared test helpers: temp folders, the CLI as a real process, browser mode as a real server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Locator, type Page } from 'playwright-core'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
export const cliPath = join(repoRoot, 'bin', 'kotoba.mjs')
export const fixturesDir = join(repoRoot, 'tests', 'fixtures')

export function tempDir(t: { after: (fn: () => void) => void }, prefix = 'kotoba-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A fresh, migrated SQLite file in a temp folder, closed after the test. */
export async function tempDatabase(t: { after: (fn: () => void) => void }) {
  const { openDatabase } = await import('../main/engine/store/database.ts')
  const dir = tempDir(t)
  const db = openDatabase(join(dir, 'kotoba.db'))
  t.after(() => db.close())
  return { dir, db }
}

/** Env for child processes: no inherited database, backend or home overrides. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra }
  for (const key of ['KOTOBA_DB', 'KOTOBA_BACKEND', 'KOTOBA_HOME']) if (!(key in extra)) delete env[key]
  return env
}

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    env: cleanEnv(options.env),
    input: options.input,
    encoding: 'utf8',
    timeout: 120_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** Parses the single JSON object that `--json` prints. */
export function parseJsonOutput<T>(result: CliResult): T {
  const lines = result.stdout.trim().split('\n')
  if (lines.length !== 1) throw new Error(`expected one line of JSON on stdout, got:\n${result.stdout}\nstderr:\n${result.stderr}`)
  return JSON.parse(lines[0]!) as T
}

export interface ServeProcess {
  url: string
  port: number
  token: string
  process: ChildProcess
  /** What the engine wrote to stderr so far (for failure messages). */
  log(): string
  stop(): Promise<void>
}

/** Starts `kotoba serve --port 0` and waits for its tagged "open URL" line. */
export async function startServe(dbPath: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cliPath, '--db', dbPath, ...extraArgs, 'serve', '--port', '0'], {
    cwd: repoRoot,
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr}`)), 60_000)
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      const match = /kotoba: browser mode: open (\S+)/.exec(stderr)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`serve exited with ${code}:\n${stderr}`))
    })
  })
  child.stdout!.resume()
  const parsed = new URL(url)
  return {
    url,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token')!,
    process: child,
    log: () => stderr,
    stop: async () => {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** A large, valid TSV file for progress and cancel tests. */
export function writeLargeTsv(path: string, lines: number): void {
  const chunk: string[] = []
  writeFileSync(path, '')
  for (let i = 0; i < lines; i++) {
    chunk.push(`the quick brown fox number ${i} jumps over the lazy dog\tel rápido zorro marrón número ${i} salta sobre el perro`)
    if (chunk.length === 50_000 || i === lines - 1) {
      writeFileSync(path, `${chunk.join('\n')}\n`, { flag: 'a' })
      chunk.length = 0
    }
  }
}

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

/** A page in Debian's headless Chromium (never a downloaded browser), closed after the test; page errors are collected. */
export async function openBrowserPage(t: { after: (fn: () => Promise<void> | void) => void }, viewport: { width: number; height: number }): Promise<{ page: Page; problems: string[] }> {
  assert.ok(existsSync(chromiumPath), `Chromium is missing at ${chromiumPath}: apt-get install -y chromium`)
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  t.after(() => browser.close())
  const page = await (await browser.newContext({ viewport, locale: 'en-US' })).newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(error.message))
  return { page, problems }
}

/**
 * Types a run name into the New run form once the form has suggested its own (the suggestion arrives with the corpus
 * list; filling before it could interleave with it, as a user typing that early could).
 */
export async function filledRunName(form: Locator, name: string): Promise<void> {
  const input = form.getByLabel('Run name')
  const deadline = Date.now() + 30_000
  while ((await input.inputValue()) === '') {
    if (Date.now() > deadline) throw new Error('the New run form suggested no run name within 30 s')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await input.fill(name)
}

/**
 * The run dashboard once it shows `run` with everything in it loaded (it is `aria-busy` while any part loads). Its
 * panels arrive one by one and each moves what is below it, so a click aimed before they settle can land elsewhere.
 */
export async function settledDashboard(page: Page, run: string): Promise<Locator> {
  await page.locator('[data-testid="run-dashboard"][aria-busy="false"]').getByRole('heading', { name: run, exact: true }).waitFor()
  return page.getByTestId('run-dashboard')
}
