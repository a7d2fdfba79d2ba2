// End to end: word2vec trained from the Embeddings page in Chromium, its per-epoch log, then the projector: PCA of
// the vectors, a search that picks a word and highlights its neighbours (labels drawn, neighbourhood isolated), the
// time axis back to epoch 1 and the word's neighbours over epochs, UMAP, CSV export; then an imported projector set
// coloured by its part-of-speech column, with a legend (screenshots saved).
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Random } from '../models/core/random.ts'
import { openBrowserPage, repoRoot, runCli, startServe, tempDir } from './helpers.ts'

const artifacts = join(repoRoot, 'tests', 'artifacts')
const topics = [
  ['cat', 'dog', 'pet', 'fur', 'paw', 'tail', 'kitten', 'puppy'],
  ['car', 'road', 'wheel', 'drive', 'engine', 'fuel', 'truck', 'brake'],
  ['sun', 'moon', 'star', 'sky', 'night', 'orbit', 'planet', 'comet'],
]

test('train word2vec in the browser, project it, search a word and see its neighbours highlighted', async (t) => {
  mkdirSync(artifacts, { recursive: true })
  const dir = tempDir(t)
  const db = join(dir, 'kotoba.db')
  const random = new Random(8)
  const lines = Array.from({ length: 4000 }, () => {
    const topic = topics[random.integer(topics.length)]!
    return Array.from({ length: 10 }, () => topic[random.integer(topic.length)]!).join(' ')
  })
  writeFileSync(join(dir, 'topics.txt'), `${lines.join('\n')}\n`)
  const imported = runCli(['--db', db, '--no-sample', 'corpus', 'import', join(dir, 'topics.txt'), '--name', 'topics', '--format', 'text'])
  assert.equal(imported.status, 0, imported.stderr)
  // A projector folder (vectors.tsv + metadata.tsv) whose metadata carries a part of speech per word.
  const posDir = join(dir, 'pos-set')
  mkdirSync(posDir)
  const posWords = topics.flat()
  const partOfSpeech = (w: string) => (['drive', 'orbit', 'brake'].includes(w) ? 'VERB' : ['night'].includes(w) ? 'ADV' : 'NOUN')
  writeFileSync(join(posDir, 'vectors.tsv'), posWords.map((_, i) => Array.from({ length: 8 }, (_, c) => (c === i % 3 ? 1 : 0) + 0.1 * random.normal()).join('\t')).join('\n'))
  writeFileSync(join(posDir, 'metadata.tsv'), ['word\tpos', ...posWords.map((w) => `${w}\t${partOfSpeech(w)}`)].join('\n'))
  const posImport = runCli(['--db', db, '--no-sample', 'w2v', 'import', posDir, '--name', 'topics-pos'])
  assert.equal(posImport.status, 0, posImport.stderr)
  // A small parallel corpus, so the form offers the side to learn from.
  writeFileSync(join(dir, 'pairs.tsv'), 'the car\tel coche\na red car\tun coche rojo\nthe moon\tla luna\n')
  const pairs = runCli(['--db', db, '--no-sample', 'corpus', 'import', join(dir, 'pairs.tsv'), '--name', 'pairs', '--format', 'tsv', '--src', 'en', '--tgt', 'es'])
  assert.equal(pairs.status, 0, pairs.stderr)

  const serve = await startServe(db, ['--no-sample', '--backend', 'wasm'])
  t.after(() => serve.stop())
  const { page, problems } = await openBrowserPage(t, { width: 1280, height: 1000 })
  await page.goto(serve.url)
  await page.getByRole('heading', { name: 'Corpora', level: 1 }).waitFor()
  await page.keyboard.press('Alt+3')
  await page.getByRole('heading', { name: 'Embeddings', level: 1 }).waitFor()
  await page.getByTestId('w2v-name').fill('topics-w2v')
  await page.getByTestId('w2v-corpus').selectOption('pairs')
  await page.getByTestId('w2v-side').selectOption('tgt')
  await page.getByTestId('w2v-corpus').selectOption('topics')
  assert.equal(await page.getByTestId('w2v-side').count(), 0, 'one language: no side to choose')
  await page.getByTestId('w2v-dim').fill('16')
  await page.getByTestId('w2v-epochs').fill('3')
  await page.getByTestId('w2v-minCount').fill('1')
  await page.getByTestId('w2v-train').click()
  const detail = page.getByTestId('w2v-detail')
  await detail.getByText(/epoch 3: loss [\d.]+/).waitFor({ timeout: 120_000 })
  await detail.getByText('done').waitFor({ timeout: 30_000 })

  // PCA, then a search for one word: Enter picks it and its neighbours light up.
  await page.getByTestId('projector-run').click()
  await page.getByTestId('projector-summary').getByText(/24 words · PCA of epoch 3/).waitFor({ timeout: 60_000 })
  await page.getByTestId('projector-search').fill('cat')
  await page.getByTestId('projector-matches').getByText('1 matches').waitFor()
  await page.keyboard.press('Enter')
  const neighbours = page.getByTestId('projector-neighbours')
  await neighbours.locator('li').nth(9).waitFor({ timeout: 30_000 })
  const near = (await neighbours.locator('li button').allTextContents()).slice(0, 5)
  assert.ok(near.every((w) => topics[0]!.includes(w)), `neighbours of cat: ${near}`)
  // Labels for the word and its neighbours are drawn over the points.
  const labelled = await page.getByTestId('projector-labels').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
    let inked = 0
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) inked++
    return inked
  })
  assert.ok(labelled > 500, `label pixels: ${labelled}`)
  await page.getByTestId('projector-isolate').click()
  await page.waitForTimeout(600)
  await page.screenshot({ path: join(artifacts, 'projector-neighbours.png'), fullPage: true })
  await page.getByTestId('projector-isolate').click()

  // The time axis: epoch 1, aligned to epoch 3; the word's neighbours epoch by epoch.
  await page.getByTestId('projector-history').locator('tr').nth(2).waitFor()
  assert.equal(await page.getByTestId('projector-history').locator('tr').count(), 3)
  await page.getByTestId('projector-epoch').fill('0')
  await page.getByTestId('projector-summary').getByText(/PCA of epoch 1/).waitFor({ timeout: 60_000 })

  // UMAP of the same vectors, then the coordinates as CSV.
  await page.getByTestId('projector-epoch').fill('2')
  await page.getByTestId('projector-method').selectOption('umap')
  await page.getByTestId('projector-run').click()
  await page.getByTestId('projector-summary').getByText(/24 words · UMAP of epoch 3/).waitFor({ timeout: 120_000 })
  assert.equal(await page.getByTestId('projector-progress').count(), 0, 'UMAP finished')
  await page.screenshot({ path: join(artifacts, 'projector-umap.png'), fullPage: true })
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('projector-csv').click()])
  const text = readFileSync((await csv.path())!, 'utf8').trim().split('\n')
  assert.equal(text[0], 'word,x,y,count')
  assert.equal(text.length, 25)

  // t-SNE with its own settings (perplexity, iterations); the controls stay locked while it runs.
  await page.getByTestId('projector-method').selectOption('tsne')
  await page.getByTestId('projector-perplexity').fill('5')
  await page.getByTestId('projector-iterations').fill('2000')
  await page.getByTestId('projector-run').click()
  await page.getByTestId('projector-progress').getByText(/^(Starting|Nearest neighbours|t-SNE) \d+ %/).waitFor()
  assert.ok(await page.getByTestId('projector-method').isDisabled(), 'the method is locked while t-SNE runs')
  await page.getByTestId('projector-summary').getByText(/24 words · t-SNE of epoch 3/).waitFor({ timeout: 120_000 })
  assert.ok(await page.getByTestId('projector-method').isEnabled())

  // The imported set, coloured by its part-of-speech column: a legend with each tag and how many words have it.
  await page.getByTestId('w2v-list').getByRole('button', { name: 'topics-pos' }).click()
  await page.getByTestId('w2v-detail').getByRole('heading', { name: 'topics-pos' }).waitFor()
  await page.getByTestId('projector-colour').locator('option[value="label:pos"]').waitFor({ state: 'attached' })
  await page.getByTestId('projector-colour').selectOption('label:pos')
  await page.getByTestId('projector-method').selectOption('pca')
  await page.getByTestId('projector-run').click()
  await page.getByTestId('projector-summary').getByText(/24 words · PCA of epoch 0/).waitFor({ timeout: 60_000 })
  const legend = page.getByTestId('projector-legend')
  assert.deepEqual((await legend.locator('li').allInnerTexts()).map((s) => s.trim()), ['NOUN 20', 'VERB 3', 'ADV 1'])
  await page.screenshot({ path: join(artifacts, 'projector-pos.png'), fullPage: true })
  assert.deepEqual(problems, [])
})
