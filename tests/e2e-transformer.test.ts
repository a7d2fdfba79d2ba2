// End to end in Chromium: a tiny Transformer trained with the CLI, then its attention inspected in the browser:
// the model view (every layer × head), enlarging a head, the head view, per-head statistics that pick the map
// shown over training, and the model view of a fresh translation (screenshots saved).
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Random } from '../models/core/random.ts'
import { openBrowserPage, repoRoot, runCli, settledDashboard, startServe, tempDir } from './helpers.ts'

const artifacts = join(repoRoot, 'tests', 'artifacts')

test('open the model view, head view and head statistics of a trained tiny Transformer', async (t) => {
  mkdirSync(artifacts, { recursive: true })
  const dir = tempDir(t)
  const db = join(dir, 'kotoba.db')
  const random = new Random(8)
  const lines = Array.from({ length: 600 }, () => {
    const words = Array.from({ length: 3 + random.integer(4) }, () => 'abcdef'[random.integer(6)]!)
    return `${words.join(' ')}\t${[...words].reverse().join(' ')}`
  })
  writeFileSync(join(dir, 'reverse.tsv'), `${lines.join('\n')}\n`)
  for (const args of [
    ['corpus', 'import', join(dir, 'reverse.tsv'), '--name', 'reverse'],
    ['corpus', 'split', 'reverse', '--dev', '20', '--test', '20'],
    ['tokenizer', 'train', '--corpus', 'reverse', '--name', 'rev-bpe', '--type', 'bpe', '--vocab-size', '50'],
    ['--backend', 'wasm', 'train', '--model', 'transformer', '--preset', 'tiny', '--corpus', 'reverse', '--tokenizer', 'rev-bpe', '--name', 'tiny-transformer', '--max-steps', '60', '--valid-every', '30', '--checkpoint-every', '30'],
  ]) {
    const result = runCli(['--db', db, '--no-sample', ...args])
    assert.equal(result.status, 0, result.stderr)
  }
  // The CLI prints every layer and head of the best hypothesis, one JSON line each, after the translation.
  const cli = runCli(['--db', db, '--no-sample', '--backend', 'wasm', 'translate', '--run', 'tiny-transformer', '--greedy', '--all-heads'], { input: 'a b c\n' })
  assert.equal(cli.status, 0, cli.stderr)
  const [, ...mapLines] = cli.stdout.trim().split('\n')
  const printed = mapLines.map((line) => JSON.parse(line) as { kind: string; layer: number; head: number; rows: string[]; cols: string[]; weights: number[][] })
  assert.equal(printed.length, 24)
  assert.deepEqual([...new Set(printed.map((m) => m.kind))], ['encoder-self', 'decoder-self', 'cross'])
  for (const map of printed) assert.deepEqual([map.weights.length, map.weights[0]!.length], [map.rows.length, map.cols.length])

  const serve = await startServe(db, ['--no-sample', '--backend', 'wasm'])
  t.after(() => serve.stop())
  const { page, problems } = await openBrowserPage(t, { width: 1400, height: 1000 })
  await page.goto(serve.url)
  await page.getByRole('heading', { name: 'Corpora', level: 1 }).waitFor()

  await page.keyboard.press('Alt+4')
  const dashboard = await settledDashboard(page, 'tiny-transformer')
  // Model view: the tiny preset has 2 layers × 4 heads.
  const modelView = dashboard.getByTestId('model-view')
  await modelView.waitFor()
  assert.equal(await modelView.locator('button.thumb').count(), 8)
  const thumbnail = modelView.getByTestId('thumb-1-2').locator('canvas')
  const pixels = await thumbnail.evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
    let coloured = 0
    for (let i = 0; i < data.length; i += 4) if (data[i + 2]! > data[i]! + 20) coloured++
    return coloured
  })
  assert.ok(pixels > 100, `the thumbnail is painted (${pixels} blue pixels)`)
  // Enlarge layer 2, head 3 with the keyboard: focus layer 1 head 1, move right twice and down once, press Enter.
  await modelView.getByTestId('thumb-0-0').focus()
  for (const key of ['ArrowRight', 'ArrowRight', 'ArrowDown', 'Enter']) await page.keyboard.press(key)
  const enlarged = modelView.getByTestId('attention-heatmap')
  await enlarged.getByText('encoder self-attention, layer 2, head 3').waitFor()
  await page.screenshot({ path: join(artifacts, 'transformer-model-view.png'), fullPage: true })

  // Decoder self-attention in the head view: lines drawn on a canvas, one colour per head.
  await dashboard.getByTestId('attention-kind').last().selectOption('decoder-self')
  await dashboard.getByTestId('view-head').click()
  const headView = dashboard.getByTestId('head-view')
  await headView.waitFor()
  assert.equal(await headView.locator('input[type=checkbox]').count(), 4)
  const drawnPixels = await headView.locator('canvas').evaluate((canvas: HTMLCanvasElement) => {
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
    let drawn = 0
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) drawn++
    return drawn
  })
  assert.ok(drawnPixels > 500, `the head view draws lines (${drawnPixels} pixels)`)
  await page.screenshot({ path: join(artifacts, 'transformer-head-view.png'), fullPage: true })
  // SVG export of the head view: one line per shown weight, every token as text.
  const [svgDownload] = await Promise.all([page.waitForEvent('download'), headView.getByRole('button', { name: 'SVG' }).click()])
  const svg = readFileSync((await svgDownload.path())!, 'utf8')
  assert.match(svg, /^<svg /)
  assert.ok((svg.match(/<line /g) ?? []).length > 4 && svg.includes('&lt;s&gt;'), 'the SVG has lines and the <s> key')

  // Per-head statistics: 3 kinds × 2 layers × 4 heads; picking a cross-attention head shows it over training.
  const stats = dashboard.getByTestId('head-stats')
  await stats.waitFor()
  assert.deepEqual(await stats.locator('caption').allTextContents(), ['encoder self-attention', 'decoder self-attention', 'cross-attention'])
  assert.equal(await stats.locator('tbody td').count(), 24)
  await stats.locator('table').nth(2).locator('tbody tr').nth(0).locator('td').nth(1).getByRole('button').click()
  await dashboard.getByTestId('attention-over-training').getByText('cross-attention, layer 1, head 2 at step 60').waitFor()
  assert.equal(await dashboard.getByTestId('attention-slider').getAttribute('max'), '1')

  // A fresh translation offers the same views for its best hypothesis.
  await page.keyboard.press('Alt+5')
  await page.getByTestId('translate-input').fill('a b c d')
  await page.getByRole('button', { name: 'Translate', exact: true }).click()
  const result = page.getByTestId('translation-tiny-transformer')
  await result.getByTestId('model-view').waitFor({ timeout: 60_000 })
  await result.getByTestId('attention-kind').selectOption('cross')
  assert.equal(await result.getByTestId('model-view').locator('button.thumb').count(), 8)
  await page.screenshot({ path: join(artifacts, 'translate-model-view.png'), fullPage: true })
  assert.deepEqual(problems, [])
})
