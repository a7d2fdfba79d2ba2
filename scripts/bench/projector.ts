// The projector at scale, in Chromium through the real page: a 100-dimensional set (60 Gaussian clusters, imported
// as projector files with a cluster column) projected in the page's web worker by t-SNE (10,000 words; target ≤ 20 s
// here), UMAP (50,000) and PCA (100,000). Prints the time of each phase and how often a point's nearest 2-D neighbour is in its own
// cluster (a layout that keeps the structure scores near 1, a random one near 1/60); writes
// bench-results/projector.json.
// usage: node --import tsx scripts/bench/projector.ts [umapPoints] [pcaPoints] [tsnePoints]   (needs `npm run build` first)
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { Random } from '../../models/core/random.ts'
import { packageRoot } from '../../main/engine/paths.ts'

const umapPoints = Number(process.argv[2] ?? 50_000)
const pcaPoints = Number(process.argv[3] ?? 100_000)
const tsnePoints = Number(process.argv[4] ?? 10_000)
const methodLabel = { tsne: 't-SNE', umap: 'UMAP', pca: 'PCA' } as const
const root = packageRoot()
const cli = join(root, 'out', 'main', 'cli.js')
const chromiumPath = '/usr/bin/chromium'
if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`)
if (!existsSync(chromiumPath)) {
  console.log('projector bench skipped: Chromium is not installed (apt-get install -y chromium)')
  process.exit(0)
}

const dim = 100
const clusterCount = 60
const dir = mkdtempSync(join(tmpdir(), 'kotoba-projector-bench-'))
const db = join(dir, 'bench.db')

/** n words around 60 random centres; the cluster column says which. */
function writeSet(folder: string, n: number): void {
  mkdirSync(folder)
  const random = new Random(3)
  const centres = Array.from({ length: clusterCount }, () => Float32Array.from({ length: dim }, () => random.normal()))
  const rows: string[] = []
  const metadata = ['word\tcluster']
  for (let i = 0; i < n; i++) {
    const cluster = i % clusterCount
    rows.push(Array.from(centres[cluster]!, (c) => (c + 0.6 * random.normal()).toFixed(4)).join('\t'))
    metadata.push(`w${i}\tc${cluster}`)
  }
  writeFileSync(join(folder, 'vectors.tsv'), `${rows.join('\n')}\n`)
  writeFileSync(join(folder, 'metadata.tsv'), `${metadata.join('\n')}\n`)
}

async function run(...args: string[]): Promise<void> {
  const child = spawn(process.execPath, [cli, '--db', db, '--no-sample', ...args], { stdio: ['ignore', 'ignore', 'inherit'] })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  if (code !== 0) throw new Error(`kotoba ${args.join(' ')} exited with ${code}`)
}

/** For each point, whether its nearest neighbour in the layout has its cluster (a grid makes this O(n)). */
function neighbourAgreement(coords: number[][], clusters: string[]): number {
  const cell = 0.01
  const grid = new Map<string, number[]>()
  coords.forEach(([x, y], i) => {
    const key = `${Math.floor(x! / cell)},${Math.floor(y! / cell)}`
    grid.set(key, [...(grid.get(key) ?? []), i])
  })
  let agree = 0
  coords.forEach(([x, y], i) => {
    let best = -1
    let bestDistance = Infinity
    for (let ring = 1; best < 0 || ring <= 2; ring++) {
      const cx = Math.floor(x! / cell)
      const cy = Math.floor(y! / cell)
      for (let dx = -ring; dx <= ring; dx++)
        for (let dy = -ring; dy <= ring; dy++)
          for (const j of grid.get(`${cx + dx},${cy + dy}`) ?? []) {
            if (j === i) continue
            const distance = (coords[j]![0]! - x!) ** 2 + (coords[j]![1]! - y!) ** 2
            if (distance < bestDistance) [best, bestDistance] = [j, distance]
          }
      if (ring > 50) break
    }
    if (best >= 0 && clusters[best] === clusters[i]) agree++
  })
  return agree / coords.length
}

const results: Record<string, unknown>[] = []
try {
  writeSet(join(dir, 'set'), Math.max(umapPoints, pcaPoints, tsnePoints))
  await run('w2v', 'import', join(dir, 'set'), '--name', 'clusters')
  const serve = spawn(process.execPath, [cli, '--db', db, '--no-sample', 'serve', '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] })
  const url = await new Promise<string>((resolve, reject) => {
    let stderr = ''
    serve.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      const match = /kotoba: browser mode: open (\S+)/.exec(stderr)
      if (match) resolve(match[1]!)
    })
    serve.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)))
  })
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] })
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 }, acceptDownloads: true })).newPage()
    page.on('pageerror', (error) => console.error(`page error: ${error.message}`))
    page.on('crash', () => console.error('the page crashed'))
    page.on('console', (message) => message.type() === 'error' && console.error(`console: ${message.text()}`))
    await page.goto(url)
    await page.getByRole('heading', { name: 'Corpora', level: 1 }).waitFor()
    await page.keyboard.press('Alt+3')
    await page.getByRole('heading', { name: 'Embeddings', level: 1 }).waitFor()
    await page.getByTestId('w2v-list').getByRole('button', { name: 'clusters' }).click()
    await page.getByTestId('projector-colour').locator('option[value="label:cluster"]').waitFor({ state: 'attached' })
    await page.getByTestId('projector-colour').selectOption('label:cluster')
    for (const [method, points] of [['tsne', tsnePoints], ['umap', umapPoints], ['pca', pcaPoints]] as const) {
      if (points <= 0) continue
      await page.getByTestId('projector-method').selectOption(method)
      await page.getByTestId('projector-points').selectOption(String(points))
      const started = performance.now()
      await page.getByTestId('projector-run').click()
      // Each phase's first appearance, as the page shows it.
      const phases: { phase: string; atSeconds: number }[] = []
      const summary = page.getByTestId('projector-summary').getByText(new RegExp(`(${points}|${points.toLocaleString('en-US')}) words · ${methodLabel[method]}`))
      while (!(await summary.isVisible())) {
        const text = await page.getByTestId('projector-progress').textContent().catch(() => null)
        const phase = text?.replace(/\d+ %.*/s, '').trim()
        if (phase && phases.at(-1)?.phase !== phase) {
          phases.push({ phase, atSeconds: (performance.now() - started) / 1000 })
          console.log(`  ${method} ${points}: ${phase} from ${phases.at(-1)!.atSeconds.toFixed(1)} s`)
        }
        await page.waitForTimeout(500)
      }
      const seconds = Number(/in ([\d.]+) s/.exec((await page.getByTestId('projector-summary').textContent())!)![1])
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('projector-csv').click()])
      const lines = readFileSync((await download.path())!, 'utf8').trim().split('\n').slice(1)
      const coords = lines.map((line) => line.split(',').slice(1, 3).map(Number))
      const clusters = lines.map((line) => `c${Number(JSON.parse(line.split(',')[0]!).slice(1)) % clusterCount}`)
      const agreement = neighbourAgreement(coords, clusters)
      console.log(`projector bench: ${methodLabel[method]} of ${points.toLocaleString('en-US')} points × ${dim} in Chromium: ${seconds.toFixed(1)} s in the worker; nearest 2-D neighbour in the same cluster for ${(100 * agreement).toFixed(1)} % of points (random: ${(100 / clusterCount).toFixed(1)} %)`)
      // Zooming: one wheel step per animation frame over the drawn points; the frame interval is what a user feels.
      const frames = await page.evaluate(async () => {
        const canvas = document.querySelector('[data-testid="projector-scatter"] canvas') as HTMLCanvasElement
        const box = canvas.getBoundingClientRect()
        const intervals: number[] = []
        let last = performance.now()
        for (let i = 0; i < 60; i++) {
          await new Promise((resolve) => requestAnimationFrame(resolve))
          canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: i % 20 < 10 ? -60 : 60, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2, bubbles: true, cancelable: true }))
          const now = performance.now()
          intervals.push(now - last)
          last = now
        }
        intervals.sort((a, b) => a - b)
        return { medianMs: intervals[30]!, p90Ms: intervals[54]! }
      })
      console.log(`  zooming ${points.toLocaleString('en-US')} points: frame interval median ${frames.medianMs.toFixed(1)} ms, 90th percentile ${frames.p90Ms.toFixed(1)} ms (headless Chromium, software WebGL)`)
      results.push({ method, points, dim, seconds, phases, neighbourAgreement: agreement, zoomFrames: frames })
    }
  } finally {
    await browser.close()
    serve.kill('SIGTERM')
  }
  mkdirSync(join(root, 'bench-results'), { recursive: true })
  writeFileSync(join(root, 'bench-results', 'projector.json'), `${JSON.stringify(results, null, 2)}\n`)
  console.log(`RESULT ${JSON.stringify(results)}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
