// A new user's first session, through the browser-mode UI only, from an empty database: the bundled samples come
// already split; train tokenizers, a seq2seq run (live curve, heatmap, step difference, test-set evaluation), a
// Transformer (model and head views), translate with both side by side, word2vec projected with PCA, t-SNE and UMAP,
// HRED and VHRED on the dialogue sample and a chat with resampling. Every view is saved in light and dark, English
// and Japanese (tests/artifacts/first-run/<view>-<language>-<theme>.png).
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { Locator, Page } from 'playwright-core'
import { filledRunName, openBrowserPage, repoRoot, settledDashboard, startServe, tempDir } from './helpers.ts'

const artifacts = join(repoRoot, 'tests', 'artifacts', 'first-run')
const looks = [
  { language: 'en', theme: 'light' },
  { language: 'en', theme: 'dark' },
  { language: 'ja', theme: 'light' },
  { language: 'ja', theme: 'dark' },
] as const
type Language = (typeof looks)[number]['language']
const corporaNav: Record<Language, string> = { en: 'Corpora', ja: 'コーパス' }

/** Switches the page's language and waits until the navigation reads in it. */
async function setLanguage(page: Page, language: Language): Promise<void> {
  await page.getByTestId('language-select').selectOption(language)
  await page.getByTestId('nav-corpora').getByText(corporaNav[language]).waitFor()
}

/** Saves the page in every language × theme, then returns to English, light. */
async function shots(page: Page, view: string): Promise<void> {
  for (const look of looks) {
    await page.getByTestId('theme-select').selectOption(look.theme)
    await setLanguage(page, look.language)
    await page.waitForFunction((theme) => document.documentElement.dataset.theme === theme, look.theme)
    await page.waitForTimeout(250) // canvases repaint in the new palette on the next frame
    await page.screenshot({ path: join(artifacts, `${view}-${look.language}-${look.theme}.png`), fullPage: true })
  }
  await page.getByTestId('theme-select').selectOption('light')
  await setLanguage(page, 'en')
}

/** Runs `check` with the page in Japanese, then returns to English. */
async function inJapanese(page: Page, check: () => Promise<void>): Promise<void> {
  await setLanguage(page, 'ja')
  await check()
  await setLanguage(page, 'en')
}

/** Fills the Training page's form and starts the run; resolves when its dashboard says done. */
async function trainFromForm(page: Page, run: { model: string; corpus: string; tokenizer: string; name: string; steps: number; validEvery: number }): Promise<Locator> {
  await page.keyboard.press('Alt+4')
  const form = page.getByRole('form', { name: 'Start a run' })
  await form.locator('select[name="model"]').selectOption(run.model)
  await form.locator('select[name="preset"]').selectOption('tiny')
  await form.locator('select[name="corpus"]').selectOption(run.corpus)
  await form.locator('select[name="tokenizer"]').selectOption(run.tokenizer)
  await filledRunName(form, run.name)
  await form.getByTestId('training-maxSteps').fill(String(run.steps))
  await form.getByTestId('training-validEvery').fill(String(run.validEvery))
  await form.getByTestId('training-checkpointEvery').fill(String(run.validEvery))
  if (run.model === 'seq2seq') {
    await inJapanese(page, async () => {
      await page.getByRole('form', { name: '実行を開始' }).getByText(/Luong のアテンション付き RNN\/LSTM\/GRU エンコーダ・デコーダ.*tiny: GRU 64\/128、Luong アテンション：CPU で数分で学習/).waitFor()
    })
  }
  await form.getByRole('button', { name: 'Create and train' }).click()
  const dashboard = page.getByTestId('run-dashboard')
  await dashboard.getByRole('heading', { name: run.name }).waitFor()
  if (run.model === 'seq2seq') {
    // The training job's card, with its unit, in Japanese while it runs.
    await inJapanese(page, async () => {
      await page.getByTestId('job').filter({ hasText: `${run.name} を学習` }).getByText(/ステップ\/秒/).waitFor({ timeout: 60_000 })
    })
  }
  await dashboard
    .getByTestId('run-status')
    .filter({ hasText: 'done' })
    .waitFor({ timeout: 240_000 })
    .catch(async (error: unknown) => {
      throw new Error(`${run.name} did not finish: ${String(error)}\npage:\n${await page.locator('main').innerText().catch(() => '(unreadable)')}`)
    })
  return await settledDashboard(page, run.name)
}

test('a first session from an empty database: every main job through the UI, each view in light/dark × English/Japanese', async (t) => {
  mkdirSync(artifacts, { recursive: true })
  const dir = tempDir(t)
  // A memory cap far above what these models need: the Devices panel says it is set.
  const serve = await startServe(join(dir, 'kotoba.db'), ['--backend', 'wasm'], { KOTOBA_WASM_MEMORY_MIB: '3000' })
  t.after(() => serve.stop())
  const { page, problems } = await openBrowserPage(t, { width: 1400, height: 1000 })
  await page.goto(serve.url)
  await page.getByRole('heading', { name: 'Corpora', level: 1 }).waitFor()

  // The samples arrive with the first start, split and ready to train on.
  const corpora = page.getByTestId('corpora-table')
  await corpora.getByRole('cell', { name: 'sample-bible-en-es' }).waitFor()
  await corpora.getByRole('cell', { name: 'sample-hamlet-dialogues' }).waitFor()
  // What the engine says (sample descriptions, backend choices) shows in the page's language too.
  await inJapanese(page, async () => {
    await corpora.getByRole('cell', { name: 'サンプル：シェイクスピア『ハムレット』の場面ごとの対話（パブリックドメイン）' }).waitFor()
  })
  await shots(page, 'corpora')
  await page.keyboard.press('Alt+7')
  await page.getByTestId('active-backend').getByText('wasm').waitFor()
  await page.getByTestId('memory-limit').getByText('tensors may hold at most 3,000 MiB (KOTOBA_WASM_MEMORY_MIB); a bigger batch is split').waitFor()
  await inJapanese(page, async () => {
    await page.getByTestId('memory-limit').getByText('テンソルは最大 3,000 MiB まで（KOTOBA_WASM_MEMORY_MIB）。超えるバッチは分割されます').waitFor()
    await page.getByText('「wasm」が指定されています（--backend / KOTOBA_BACKEND）').waitFor()
    await page.getByTestId('backends-table').getByText('未試行：「wasm」が指定されています').first().waitFor()
    await page.getByTestId('backends-table').getByText(/^WebAssembly、SIMD 有効、\d+ スレッド/).waitFor()
  })
  await shots(page, 'devices')

  // Tokenizers: a BPE model per sample, trained from the form.
  await page.keyboard.press('Alt+2')
  const trainTokenizer = page.getByRole('form', { name: 'Train a tokenizer' })
  for (const [corpus, name] of [
    ['sample-bible-en-es', 'bible-bpe'],
    ['sample-hamlet-dialogues', 'hamlet-bpe'],
  ] as const) {
    await trainTokenizer.locator('select[name="corpus"]').selectOption(corpus)
    await trainTokenizer.getByLabel('Tokenizer name').fill(name)
    await trainTokenizer.locator('select[name="type"]').selectOption('bpe')
    await trainTokenizer.getByLabel('Vocabulary size').fill('300')
    await trainTokenizer.getByRole('button', { name: 'Train tokenizer' }).click()
    await page.getByTestId('tokenizers-table').getByRole('cell', { name, exact: true }).waitFor({ timeout: 60_000 })
  }
  await inJapanese(page, async () => {
    await page.getByTestId('tokenizers-table').getByRole('cell', { name: 'sample-hamlet-dialogues で学習（joint）' }).waitFor()
  })
  await page.getByTestId('tokenizers-table').getByRole('row', { name: /bible-bpe/ }).getByRole('button').first().click()
  await page.getByTestId('tokenizer-input').fill('In the beginning, God created the heavens and the earth.')
  await page.getByTestId('pieces').locator('.piece').first().waitFor()
  await shots(page, 'tokenizers')

  // seq2seq on the Bible sample: the form offers it split, the run trains and validates twice.
  const seq2seq = await trainFromForm(page, { model: 'seq2seq', corpus: 'sample-bible-en-es', tokenizer: 'bible-bpe', name: 'bible-seq2seq', steps: 30, validEvery: 15 })
  await seq2seq.getByTestId('validation-samples').waitFor()
  assert.equal(await seq2seq.getByTestId('attention-slider').getAttribute('max'), '1', 'maps from two validations')
  await seq2seq.getByTestId('attention-heatmap').first().waitFor()
  await shots(page, 'seq2seq-dashboard')
  // The curves' points as CSV, the same rows `kotoba export csv` writes.
  const [csvDownload] = await Promise.all([page.waitForEvent('download'), seq2seq.getByTestId('metrics-csv').click()])
  const csvLines = readFileSync((await csvDownload.path())!, 'utf8').trim().split('\n')
  assert.equal(csvLines[0], 'metric,step,value,wall_time')
  assert.deepEqual(csvLines.filter((l) => l.startsWith('dev/bleu,')).map((l) => Number(l.split(',')[1])), [15, 30])
  // The step difference exists even though the two steps' hypotheses differ: it is taken on the reference.
  await seq2seq.getByLabel('Difference with step').selectOption({ label: '15' })
  await seq2seq.getByTestId('attention-over-training').getByText(/step 30 minus step 15/).waitFor()
  assert.ok(await seq2seq.getByTestId('attention-forced').isChecked(), 'the difference is on the teacher-forced reference')
  await shots(page, 'seq2seq-step-difference')
  // Test-set evaluation of the best checkpoint, stored and listed.
  await seq2seq.getByRole('button', { name: 'Evaluate on test' }).click()
  const evaluations = seq2seq.getByTestId('evaluations')
  await evaluations.waitFor({ timeout: 120_000 })
  assert.deepEqual(await evaluations.locator('thead th').allInnerTexts(), ['Step', 'BLEU', 'chrF', 'TER', 'loss', 'Evaluated'])
  assert.equal(await evaluations.locator('tbody tr').count(), 1)
  await shots(page, 'seq2seq-evaluation')

  // A Transformer on the same corpus: its model view (2 layers × 4 heads) and head view.
  const transformer = await trainFromForm(page, { model: 'transformer', corpus: 'sample-bible-en-es', tokenizer: 'bible-bpe', name: 'bible-transformer', steps: 20, validEvery: 10 })
  const modelView = transformer.getByTestId('model-view')
  await modelView.waitFor()
  assert.equal(await modelView.locator('button.thumb').count(), 8)
  await modelView.getByTestId('thumb-1-2').click()
  await modelView.getByTestId('attention-heatmap').getByText(/layer 2, head 3/).waitFor()
  await shots(page, 'transformer-model-view')
  await transformer.getByTestId('view-head').click()
  await transformer.getByTestId('head-view').waitFor()
  await shots(page, 'transformer-head-view')
  // The Transformer against the seq2seq run on the same test sentences: each metric's difference by paired bootstrap.
  await transformer.getByTestId('evaluation-against').selectOption('bible-seq2seq')
  await transformer.getByRole('button', { name: 'Evaluate on test' }).click()
  const compared = transformer.getByTestId('evaluation-comparison')
  await compared.waitFor({ timeout: 180_000 })
  assert.match(await compared.locator('caption').innerText(), /bible-transformer at step \d+ against bible-seq2seq at step \d+, on the same test sentences: paired bootstrap, 1000 resamples/)
  assert.deepEqual(await compared.locator('thead th').allInnerTexts(), ['Metric', 'bible-seq2seq', 'bible-transformer', 'Difference', '95% interval', 'p'])
  assert.deepEqual(await compared.locator('tbody td:first-child').allInnerTexts(), ['BLEU', 'chrF', 'TER'])
  assert.match(await compared.locator('tbody tr').first().innerText(), /^BLEU\t[\d.]+\t[\d.]+\t[+-][\d.]+\t\[[+-][\d.]+, [+-][\d.]+\]\t[01]\.\d{3}$/)
  await shots(page, 'transformer-comparison')

  // The playground: both models side by side, the seq2seq heatmap and the Transformer's model view.
  await page.keyboard.press('Alt+5')
  const playground = page.getByRole('form', { name: 'Translate' })
  await playground.locator('fieldset').nth(0).locator('select').first().selectOption('bible-seq2seq')
  await playground.locator('fieldset').nth(1).locator('select').first().selectOption('bible-transformer')
  await page.getByTestId('translate-input').fill('In the beginning, God created the heavens and the earth.')
  await page.getByRole('button', { name: 'Translate', exact: true }).click()
  await page.getByTestId('translation-bible-seq2seq').getByTestId('attention-heatmap').waitFor({ timeout: 60_000 })
  await page.getByTestId('translation-bible-transformer').getByTestId('model-view').waitFor({ timeout: 60_000 })
  assert.ok((await page.getByTestId('translation-bible-seq2seq').getByTestId('nbest').locator('li').count()) >= 1)
  await shots(page, 'translate')

  // word2vec on the English side of the Bible sample, projected three ways.
  await page.keyboard.press('Alt+3')
  await page.getByTestId('w2v-name').fill('bible-w2v')
  await page.getByTestId('w2v-corpus').selectOption('sample-bible-en-es')
  await page.getByTestId('w2v-side').selectOption('src')
  await page.getByTestId('w2v-dim').fill('16')
  await page.getByTestId('w2v-epochs').fill('2')
  await page.getByTestId('w2v-minCount').fill('20')
  await page.getByTestId('w2v-train').click()
  const detail = page.getByTestId('w2v-detail')
  await detail.getByText(/epoch 2: loss [\d.]+/).waitFor({ timeout: 180_000 })
  await detail.getByText('done').waitFor({ timeout: 30_000 })
  for (const [method, title] of [
    ['pca', 'PCA'],
    ['tsne', 't-SNE'],
    ['umap', 'UMAP'],
  ] as const) {
    await page.getByTestId('projector-method').selectOption(method)
    await page.getByTestId('projector-run').click()
    await page.getByTestId('projector-summary').getByText(new RegExp(`\\d+ words · ${title} of epoch 2`)).waitFor({ timeout: 180_000 })
    await shots(page, `projector-${method}`)
  }

  // HRED and VHRED on the Hamlet dialogues.
  await trainFromForm(page, { model: 'hred', corpus: 'sample-hamlet-dialogues', tokenizer: 'hamlet-bpe', name: 'hamlet-hred', steps: 20, validEvery: 10 })
  const vhred = await trainFromForm(page, { model: 'vhred', corpus: 'sample-hamlet-dialogues', tokenizer: 'hamlet-bpe', name: 'hamlet-vhred', steps: 20, validEvery: 10 })
  const samples = vhred.getByTestId('validation-samples')
  await samples.waitFor()
  // Hamlet's contexts are long speeches: cut to four lines, opened on demand.
  const context = samples.locator('tbody tr').first().locator('td').first()
  const closedHeight = (await context.boundingBox())!.height
  await context.getByRole('button', { name: 'Show all' }).click()
  await context.getByRole('button', { name: 'Show less' }).waitFor()
  assert.ok((await context.boundingBox())!.height > closedHeight, 'the opened context is taller')
  await context.getByRole('button', { name: 'Show less' }).click()
  await shots(page, 'vhred-dashboard')

  // Chat: a reply from HRED, then VHRED with its latent sample, resampled.
  await page.keyboard.press('Alt+6')
  const history = page.getByTestId('chat-history')
  await page.getByTestId('chat-run').selectOption('hamlet-hred')
  await page.getByTestId('chat-input').fill('Who is there?')
  await page.keyboard.press('Enter')
  await history.getByTestId('turn-model').waitFor({ timeout: 90_000 })
  await page.getByTestId('chat-run').selectOption('hamlet-vhred')
  await page.getByTestId('chat-input').fill('Who is there?')
  await page.keyboard.press('Enter')
  const latent = history.getByTestId('latent').last()
  await latent.waitFor({ timeout: 90_000 })
  const before = await latent.textContent()
  await page.getByTestId('chat-resample').click()
  await page.waitForFunction((text) => {
    const all = document.querySelectorAll('[data-testid="latent"]')
    return all.length > 0 && all[all.length - 1]!.textContent !== text
  }, before, { timeout: 60_000 })
  await shots(page, 'chat')

  // The Devices page names what the backend computes on and the last run's speed there: the VHRED run, last to train.
  await page.keyboard.press('Alt+7')
  await page.getByTestId('compute-device').waitFor()
  await page.getByTestId('last-run').getByText(/^hamlet-vhred: [\d,]+ tokens\/s at step 20 /).waitFor()

  assert.deepEqual(problems, [], 'no console errors')
})
