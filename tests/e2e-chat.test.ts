// End to end: a tiny VHRED trained with the CLI, `kotoba chat --script` replies, then a chat in Chromium: send a
// turn, read the reply with its latent sample and context view, resample z, count distinct-n (screenshot saved).
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Random } from '../models/core/random.ts'
import { openBrowserPage, repoRoot, runCli, startServe, tempDir } from './helpers.ts'

const artifacts = join(repoRoot, 'tests', 'artifacts')

test('chat with a tiny VHRED in the browser, resample its reply and count distinct-n', async (t) => {
  mkdirSync(artifacts, { recursive: true })
  const dir = tempDir(t)
  const db = join(dir, 'kotoba.db')
  const random = new Random(4)
  const words = ['good', 'morning', 'friend', 'how', 'are', 'you', 'well', 'thanks', 'fine', 'day']
  const turn = () => Array.from({ length: 2 + random.integer(3) }, () => words[random.integer(words.length)]!).join(' ')
  writeFileSync(join(dir, 'talk.jsonl'), `${Array.from({ length: 300 }, () => JSON.stringify([turn(), turn(), turn()])).join('\n')}\n`)
  writeFileSync(join(dir, 'script.jsonl'), `${JSON.stringify(['good morning', 'how are you'])}\n${JSON.stringify(['fine thanks'])}\n`)
  for (const args of [
    ['corpus', 'import', join(dir, 'talk.jsonl'), '--name', 'talk'],
    ['corpus', 'split', 'talk', '--dev', '20', '--test', '20'],
    ['tokenizer', 'train', '--corpus', 'talk', '--name', 'talk-bpe', '--type', 'bpe', '--vocab-size', '50'],
    ['--backend', 'wasm', 'train', '--model', 'vhred', '--preset', 'tiny', '--corpus', 'talk', '--tokenizer', 'talk-bpe', '--name', 'tiny-vhred', '--max-steps', '40', '--valid-every', '40'],
  ]) {
    const result = runCli(['--db', db, '--no-sample', ...args])
    assert.equal(result.status, 0, result.stderr)
  }
  const scripted = runCli(['--db', db, '--no-sample', '--backend', 'wasm', '--json', 'chat', '--run', 'tiny-vhred', '--script', join(dir, 'script.jsonl'), '--greedy', '--latent-seed', '3'])
  assert.equal(scripted.status, 0, scripted.stderr)
  const replies = (JSON.parse(scripted.stdout) as { replies: { turns: string[]; replies: { text: string }[]; insight: { latent: { seed: number } } }[] }).replies
  assert.deepEqual(replies.map((r) => r.turns.length), [2, 1])
  assert.ok(replies.every((r) => r.replies.length === 1 && r.insight.latent.seed === 3))

  const serve = await startServe(db, ['--no-sample', '--backend', 'wasm'])
  t.after(() => serve.stop())
  const { page, problems } = await openBrowserPage(t, { width: 1280, height: 900 })
  await page.goto(serve.url)
  await page.getByRole('heading', { name: 'Corpora', level: 1 }).waitFor()
  await page.keyboard.press('Alt+6')
  await page.getByTestId('chat-input').fill('good morning friend')
  await page.keyboard.press('Enter')
  const history = page.getByTestId('chat-history')
  // The reply's job may need a second worker when a backend start stalls (20 s deadline, then a retry).
  await history
    .getByTestId('turn-model')
    .waitFor({ timeout: 90_000 })
    .catch(async (error: unknown) => {
      const shown = await page.locator('main').innerText().catch(() => '(page unreadable)')
      throw new Error(`no reply: ${String(error)}\npage:\n${shown}\nengine stderr:\n${serve.log()}`)
    })
  assert.equal(await history.getByTestId('turn-user').count(), 1)
  const latent = history.getByTestId('latent')
  const before = await latent.textContent()
  assert.match(before ?? '', /z \(seed \d+\): ‖z‖ [\d.]+, KL [\d.]+/)
  assert.equal(await history.locator('.context-norm').count(), 1)
  // A second turn: the context view now has two turns, the second with its similarity to the first.
  await page.getByTestId('chat-input').fill('how are you')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="turn-model"]').length === 2, undefined, { timeout: 60_000 })
  assert.equal(await history.getByTestId('turn-model').last().locator('.context-norm').count(), 3)
  const lastLatent = history.getByTestId('turn-model').last().getByTestId('latent')
  const seedBefore = await lastLatent.textContent()
  // Greedy search would give the same reply again: the page says Resample samples instead.
  await page.getByTestId('chat-resample-note').getByText(/greedy search gives the same reply each time, so Resample samples \(temperature 1\)/).waitFor()
  await page.getByTestId('chat-resample').click()
  await page.waitForFunction((text) => {
    const all = document.querySelectorAll('[data-testid="latent"]')
    return all[all.length - 1]?.textContent !== text
  }, seedBefore, { timeout: 60_000 })
  assert.equal(await history.getByTestId('turn-model').count(), 2, 'resampling replaces the last reply')
  await page.getByRole('button', { name: 'distinct-n' }).click()
  await page.getByTestId('chat-distinct').getByText(/2 replies: distinct-1 [\d.]+, distinct-2 [\d.]+/).waitFor()
  await page.screenshot({ path: join(artifacts, 'chat-vhred.png'), fullPage: true })

  // Self-chat: two copies of the model talk from an opening line; the new conversation shows both speakers.
  const selfChat = page.getByRole('form', { name: 'Self-chat' })
  await selfChat.getByLabel('Opening line').fill('good morning')
  await selfChat.getByLabel('Replies').fill('4')
  await selfChat.getByRole('button', { name: 'Let them talk' }).click()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="turn-model"]').length === 4, undefined, { timeout: 90_000 })
  assert.deepEqual(await history.getByTestId('turn-model').locator('.who').allTextContents(), ['Model A (tiny-vhred)', 'Model B (tiny-vhred)', 'Model A (tiny-vhred)', 'Model B (tiny-vhred)'])
  assert.equal(await history.getByTestId('turn-user').count(), 1, 'the opening line')
  await page.screenshot({ path: join(artifacts, 'chat-self-chat.png'), fullPage: true })
  assert.deepEqual(problems, [])
})
