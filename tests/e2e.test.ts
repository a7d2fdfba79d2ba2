// End to end: `kotoba serve` (browser mode) driven in Debian's Chromium through playwright-core.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { chromium, type Page } from 'playwright-core'
import { fixturesDir, repoRoot, startServe, tempDir } from './helpers.ts'

const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const artifacts = join(repoRoot, 'tests', 'artifacts')
const pages = ['corpora', 'tokenizers', 'embeddings', 'training', 'translate', 'chat', 'devices'] as const

async function shot(page: Page, name: string): Promise<void> {
  const path = join(artifacts, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  assert.ok(existsSync(path))
}

test('the app in Chromium: every page, the sample corpus, an import job, keyboard, language and theme', async (t) => {
  assert.ok(existsSync(chromiumPath), `Chromium is missing at ${chromiumPath}: apt-get install -y chromium`)
  mkdirSync(artifacts, { recursive: true })
  const dir = tempDir(t)
  // Chromium's SwiftShader as the Vulkan driver: Dawn offers a software adapter, which the Devices page describes.
  const serve = await startServe(join(dir, 'kotoba.db'), [], { VK_ICD_FILENAMES: '/usr/lib/chromium/vk_swiftshader_icd.json' })
  t.after(() => serve.stop())
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  t.after(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))

  await page.goto(serve.url)
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(247, 247, 245)', 'light by default (system: light)')
  // The sample corpus is listed on first start.
  const table = page.getByTestId('corpora-table')
  await table.getByRole('cell', { name: 'sample-bible-en-es' }).waitFor()
  await assert.doesNotReject(table.getByRole('cell', { name: '4,616' }).waitFor())
  await table.getByRole('cell', { name: 'sample-hamlet-dialogues' }).waitFor()
  assert.ok(!page.url().includes('token='), 'the token is taken out of the address bar')

  // Browse rows.
  await table.getByRole('row', { name: /sample-bible-en-es/ }).getByRole('button', { name: 'Browse' }).click()
  await page.getByText('In the beginning, God created the heavens and the earth.').waitFor()
  await page.getByText('En el principio crió Dios los cielos y la tierra.').waitFor()
  // Length histograms for both sides.
  for (const side of ['src', 'tgt']) assert.ok((await page.getByTestId(`histogram-${side}`).locator('rect').count()) > 5)
  // Full-text search over both sides.
  await page.getByTestId('corpus-search').fill('tinieblas')
  await page.getByText(/^\d+ matching rows$/).waitFor()
  const firstHit = page.locator('.rows-table tbody tr').first()
  assert.match((await firstHit.textContent()) ?? '', /tinieblas/)
  await shot(page, 'corpora-search')
  await page.getByTestId('corpus-search').fill('')
  // Split by book from the UI: every row gets its split.
  await page.getByTestId('split-by-group').check()
  await page.getByTestId('split-button').click()
  await page.getByTestId('tools-message').getByText(/^Split: train \d+, dev \d+, test \d+$/).waitFor()
  await page.locator('.rows-table tbody tr').first().getByRole('cell', { name: /^(train|dev|test)$/ }).waitFor()

  // Import through the form: a job with progress that ends in a new corpus row.
  const file = join(dir, 'greetings.tsv')
  writeFileSync(file, 'good morning\tbuenos días\ngood night\tbuenas noches\nthank you\tgracias\n')
  await page.getByLabel('File path on the engine’s machine').fill(file)
  await page.getByLabel('Name', { exact: true }).fill('greetings')
  await page.getByLabel('Source language').fill('en')
  await page.getByLabel('Target language').fill('es')
  await page.getByRole('button', { name: 'Import' }).click()
  await page.getByTestId('job').filter({ hasText: 'Import greetings.tsv as greetings' }).getByText('Done').waitFor()
  await page.getByTestId('job').filter({ hasText: 'Index greetings for search' }).getByText('Done').waitFor()
  await table.getByRole('row', { name: /greetings/ }).getByRole('cell', { name: '3', exact: true }).waitFor()
  // A bad path is refused with a clear message, in place.
  await page.getByLabel('File path on the engine’s machine').fill(join(dir, 'missing.tsv'))
  await page.getByLabel('Name', { exact: true }).fill('missing')
  await page.getByRole('button', { name: 'Import' }).click()
  await page.getByRole('alert').getByText(/no such file/).waitFor()

  // Tokenizers: import an spm_train model, try it, see its vocabulary.
  await page.getByTestId('nav-tokenizers').click()
  await page.getByLabel('Path of the .model file on the engine’s machine').fill(join(fixturesDir, 'spm.model'))
  await page.getByLabel('Name', { exact: true }).fill('bible-spm')
  await page.getByRole('button', { name: 'Import' }).click()
  await page.getByTestId('tokenizers-table').getByRole('cell', { name: 'bible-spm' }).waitFor()
  await page.getByTestId('tokenizer-input').fill('In the beginning, God created the heavens and the earth.')
  await page.getByTestId('pieces').getByText('▁heaven').waitFor()
  assert.equal(await page.getByTestId('pieces').locator('.piece').count(), 19, 'the 19 pieces spm_encode gives')
  await page.getByTestId('vocab-table').getByRole('cell', { name: '▁the', exact: true }).waitFor()
  await shot(page, 'tokenizers-preview')
  // Train a small BPE tokenizer from the UI: a job, then a new row.
  await page.getByLabel('Tokenizer name').fill('ui-bpe')
  await page.locator('select[name="type"]').selectOption('bpe')
  await page.getByLabel('Vocabulary size').fill('1000')
  await page.getByRole('button', { name: 'Train tokenizer' }).click()
  await page.getByTestId('tokenizers-table').getByRole('cell', { name: 'ui-bpe' }).waitFor({ timeout: 60_000 })

  // Every page, by clicking the navigation.
  for (const id of pages) {
    await page.getByTestId(`nav-${id}`).click()
    await page.locator(`main[data-page="${id}"]`).waitFor()
    assert.equal(await page.getByTestId(`nav-${id}`).getAttribute('aria-current'), 'page')
    if (id === 'devices') {
      await page.getByTestId('active-backend').getByText('wasm').waitFor().catch(async (error: unknown) => {
        const panel = await page.locator('main').innerText().catch(() => '(page unreadable)')
        throw new Error(`the Devices page shows no active wasm backend: ${String(error)}\npage:\n${panel}\nengine stderr:\n${serve.log()}`)
      })
      const adapter = page.getByTestId('gpu-adapter')
      await adapter.getByText(/^software \(correct, but slow/).waitFor()
      await adapter.getByText('not in use').waitFor()
      await adapter.getByTestId('gpu-features').getByText(/\bsubgroups\b/).waitFor()
      await adapter.getByTestId('gpu-limits').getByRole('row', { name: /maxStorageBuffersPerShaderStage \d+/ }).waitFor()
      await page.getByTestId('last-run').getByText('No run has trained on this device yet.').waitFor()
    }
    await shot(page, id)
  }
  await page.getByTestId('backends-table').getByText(/tfjs-node-gpu: not installed/).waitFor()

  // Keyboard: Alt+digit jumps, arrows move through the navigation.
  await page.keyboard.press('Alt+1')
  await page.locator('main[data-page="corpora"]').waitFor()
  await page.getByTestId('nav-corpora').focus()
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('ArrowDown')
  await page.keyboard.press('Enter')
  await page.locator('main[data-page="embeddings"]').waitFor()

  // Japanese and the dark theme; both persist across a reload.
  await page.getByTestId('language-select').selectOption('ja')
  await page.getByTestId('theme-select').selectOption('dark')
  await page.getByTestId('nav-corpora').getByText('コーパス').waitFor()
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark')
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor), 'rgb(23, 24, 27)', 'the dark palette applies')
  await page.keyboard.press('Alt+1')
  await page.getByRole('heading', { name: 'コーパス', exact: true }).waitFor()
  await table.getByRole('cell', { name: 'sample-bible-en-es' }).waitFor()
  await shot(page, 'corpora-ja-dark')
  await page.reload()
  await page.getByRole('heading', { name: 'コーパス', exact: true }).waitFor()
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark')

  assert.deepEqual(problems, [], 'no console errors (CSP violations included)')
})

test('the page refuses to work without the token', async (t) => {
  const serve = await startServe(join(tempDir(t), 'kotoba.db'))
  t.after(() => serve.stop())
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] })
  t.after(() => browser.close())
  const page = await browser.newPage()
  await page.goto(`http://127.0.0.1:${serve.port}/`)
  await page.getByText(/needs the address printed by “kotoba serve”/).waitFor()
})
