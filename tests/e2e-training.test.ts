// End to end in Chromium: start a tiny translation run from the Training page, watch its curve and step
// update live, then translate in the playground and read the attention heatmap; then prune the run into a new one
// from its dashboard and read its zeros per layer (screenshots saved).
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { Random } from '../models/core/random.ts'
import { filledRunName, openBrowserPage, repoRoot, runCli, settledDashboard, startServe, tempDir } from './helpers.ts'

const artifacts = join(repoRoot, 'tests', 'artifacts')

test('train a tiny model in the browser, watch the curve, translate and see the attention heatmap', async (t) => {
  mkdirSync(artifacts, { recursive: true })
  const dir = tempDir(t)
  const db = join(dir, 'kotoba.db')
  // A copy task the tiny preset learns in a few dozen steps; corpus and tokenizer made with the CLI.
  const random = new Random(5)
  const lines = Array.from({ length: 800 }, () => {
    const words = Array.from({ length: 2 + random.integer(4) }, () => 'abcdef'[random.integer(6)]!)
    return `${words.join(' ')}\t${words.join(' ')}`
  })
  writeFileSync(join(dir, 'copy.tsv'), `${lines.join('\n')}\n`)
  for (const args of [
    ['corpus', 'import', join(dir, 'copy.tsv'), '--name', 'copy'],
    ['corpus', 'split', 'copy', '--dev', '30', '--test', '30'],
    ['tokenizer', 'train', '--corpus', 'copy', '--name', 'copy-bpe', '--type', 'bpe', '--vocab-size', '50'],
  ]) {
    const result = runCli(['--db', db, '--no-sample', ...args])
    assert.equal(result.status, 0, result.stderr)
  }
  const serve = await startServe(db, ['--no-sample', '--backend', 'wasm'])
  // After hooks run in the order they were added: a failed session's engine log and last screen come first, while the
  // engine still serves the page, then the engine stops, then the browser closes.
  let finished = false
  let session: Awaited<ReturnType<typeof openBrowserPage>> | null = null
  t.after(async () => {
    if (finished) return
    const engine = serve.process.exitCode === null && serve.process.signalCode === null ? 'running' : `exited (${serve.process.exitCode ?? serve.process.signalCode})`
    process.stderr.write(`engine log of the failed browser session (engine ${engine}):\n${serve.log().slice(-6000)}\npage problems: ${JSON.stringify(session?.problems ?? [])}\n`)
    await session?.page.screenshot({ path: join(artifacts, 'training-failure.png'), fullPage: true }).catch(() => undefined)
  })
  t.after(() => serve.stop())
  session = await openBrowserPage(t, { width: 1400, height: 1000 })
  const { page, problems } = session
  await page.goto(serve.url)
  await page.getByRole('heading', { name: 'Corpora', level: 1 }).waitFor()

  await page.keyboard.press('Alt+4')
  const form = page.getByRole('form', { name: 'Start a run' })
  await filledRunName(form, 'tiny-copy')
  await form.getByLabel('Steps').fill('80')
  await form.getByLabel('Validate every').fill('40')
  await form.getByRole('button', { name: 'Create and train' }).click()
  const dashboard = page.getByTestId('run-dashboard')
  await dashboard.getByRole('heading', { name: 'tiny-copy', exact: true }).waitFor()
  // The step counter and the loss curve move while it trains.
  await page.waitForFunction(() => /Step ([1-9]\d*) of 80/.test(document.querySelector('[data-testid="run-step"]')?.textContent ?? ''), undefined, { timeout: 120_000 })
  const firstStep = Number(/Step (\d+)/.exec((await dashboard.getByTestId('run-step').textContent()) ?? '')![1])
  await page.waitForFunction((from) => Number(/Step (\d+)/.exec(document.querySelector('[data-testid="run-step"]')?.textContent ?? '')?.[1] ?? 0) > from, firstStep, { timeout: 120_000 })
  await page.waitForFunction(() => (document.querySelector('[data-testid="chart-Loss (per token)"] canvas') as HTMLCanvasElement | null)?.width ?? 0 > 0)
  await dashboard.getByTestId('run-status').filter({ hasText: 'done' }).waitFor({ timeout: 180_000 })
  // On wasm the trainer charts the most memory its updates held; a tiny run needs no split batches.
  await dashboard.getByTestId('chart-Peak memory (MiB)').waitFor()
  assert.equal(await dashboard.getByTestId('memory-split').count(), 0)
  assert.equal(await dashboard.getByTestId('validation-split').count(), 0)
  // Validation samples and the attention-over-training slider (two validations: steps 40 and 80).
  await dashboard.getByTestId('validation-samples').waitFor()
  const slider = dashboard.getByTestId('attention-slider')
  await slider.waitFor()
  assert.equal(await slider.getAttribute('max'), '1')
  await dashboard.getByTestId('attention-heatmap').waitFor()
  await page.screenshot({ path: join(artifacts, 'training-dashboard.png'), fullPage: true })

  await page.keyboard.press('Alt+5')
  await page.getByTestId('translate-input').fill('a b c d')
  await page.getByRole('button', { name: 'Translate', exact: true }).click()
  const result = page.getByTestId('translation-tiny-copy')
  await result.getByTestId('nbest').waitFor({ timeout: 120_000 }) // the first request starts the inference worker
  assert.ok((await result.getByTestId('nbest').locator('li').count()) >= 1)
  const heatmap = result.getByTestId('attention-heatmap')
  await heatmap.waitFor()
  const canvas = heatmap.locator('canvas')
  const box = (await canvas.boundingBox())!
  assert.ok(box.width > 60 && box.height > 40, 'the heatmap has rows and columns')
  // Hovering a cell reads out its weight.
  await canvas.hover({ position: { x: box.width - 10, y: box.height - 10 } })
  await heatmap.getByText(/→ .*: \d\.\d{3}$/).waitFor()
  await page.screenshot({ path: join(artifacts, 'translate-heatmap.png'), fullPage: true })

  // Prune the trained run into a new one from its dashboard, which then shows the new run and its zeros per layer.
  await page.keyboard.press('Alt+4')
  await settledDashboard(page, 'tiny-copy')
  const prune = dashboard.getByRole('form', { name: 'Prune this run' })
  await prune.getByLabel('Sparsity %').fill('60')
  await prune.getByLabel('Schedule').selectOption('one-shot')
  await prune.getByLabel('Fine-tuning steps').fill('10')
  await prune.getByRole('button', { name: 'Prune into a new run' }).click()
  const pruned = page.getByTestId('run-dashboard')
  await pruned.getByRole('heading', { name: 'tiny-copy-pruned60' }).waitFor()
  await pruned.getByTestId('run-status').filter({ hasText: 'done' }).waitFor({ timeout: 120_000 })
  await pruned.getByTestId('sparsity-overall').filter({ hasText: /^60\.0 % of [\d,]+ prunable weights are zero\.$/ }).waitFor()
  assert.ok((await pruned.getByTestId('sparsity-table').locator('tbody tr').count()) >= 6)
  await pruned.getByText('Pruned from tiny-copy at step 80').waitFor()
  await page.screenshot({ path: join(artifacts, 'training-pruned.png'), fullPage: true })

  // Quantise the original run to int8 from its dashboard; its compression table puts the int8 and the pruned runs
  // beside it, and times all three (the int8 one decodes on the int8 kernel).
  await page.getByTestId('runs-table').getByRole('button', { name: 'tiny-copy', exact: true }).click()
  await settledDashboard(page, 'tiny-copy')
  const quantize = page.getByRole('form', { name: 'Quantise this run' })
  await quantize.getByRole('button', { name: 'Quantise the best checkpoint' }).click()
  await quantize.getByRole('status').filter({ hasText: /^tiny-copy-int8: \d+\.\d\d MiB instead of \d+\.\d\d MiB\.$/ }).waitFor()
  const table = page.getByTestId('compression-table')
  await table.locator('tbody tr').nth(2).waitFor()
  assert.deepEqual(await table.locator('tbody tr td:nth-child(2)').allTextContents(), ['float32', 'int8', 'pruned 60 %'])
  await page.getByRole('button', { name: 'Measure latency' }).click()
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="compression-table"] tbody tr td:last-child')].every((cell) => / ms$/.test(cell.textContent ?? '')), undefined, { timeout: 120_000 })
  await page.screenshot({ path: join(artifacts, 'training-compression.png'), fullPage: true })

  // A smaller run distilled word by word from the trained one, chosen in the form's further settings.
  const newRun = page.getByRole('form', { name: 'Start a run' })
  await filledRunName(newRun, 'tiny-kd')
  await newRun.getByLabel('Steps').fill('10')
  await newRun.getByText('More training settings').click()
  await newRun.getByLabel('Distil from (word-level; a run with the same tokenizers)').selectOption('tiny-copy')
  await newRun.getByRole('button', { name: 'Create and train' }).click()
  const student = page.getByTestId('run-dashboard')
  await student.getByRole('heading', { name: 'tiny-kd' }).waitFor()
  await student.getByText(/word-level distillation from tiny-copy \(step 80, weight 0\.5\)/).waitFor()
  await student.getByTestId('run-status').filter({ hasText: 'done' }).waitFor({ timeout: 120_000 })

  // A reinforced phase from the trained run: self-critical training as a new run, its rewards charted live.
  await page.getByTestId('runs-table').getByRole('button', { name: 'tiny-copy', exact: true }).click()
  await settledDashboard(page, 'tiny-copy')
  const phase = page.getByRole('form', { name: 'Continue this run in a new phase' })
  await phase.getByLabel('Phase').selectOption({ label: 'self-critical (policy gradient)' })
  await phase.getByLabel('Reward').selectOption('bleu')
  await phase.getByLabel('Sampling temperature').fill('0.8')
  await phase.getByLabel('Steps').fill('20')
  await phase.getByRole('button', { name: 'Start the phase as a new run' }).click()
  const reinforced = page.getByTestId('run-dashboard')
  await reinforced.getByRole('heading', { name: 'tiny-copy-scst' }).waitFor()
  await reinforced.getByText('self-critical from tiny-copy (reward sentence BLEU)').waitFor()
  await reinforced.getByTestId('reinforcement-phase').filter({ hasText: 'Self-critical phase from tiny-copy at step 80: reward sentence BLEU, baseline the greedy translation’s reward, policy-gradient share γ 0.9, sampling temperature 0.8.' }).waitFor()
  await reinforced.getByTestId('run-status').filter({ hasText: 'done' }).waitFor({ timeout: 120_000 })
  await reinforced.getByText('Reward (return per sentence)').waitFor()
  await page.screenshot({ path: join(artifacts, 'training-reinforced.png'), fullPage: true })

  assert.deepEqual(problems, [])
  finished = true
})
