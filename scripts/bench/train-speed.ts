// `npm run bench`: training speed and peak memory of the reference configurations on every TensorFlow.js
// backend that starts here, side by side with PyTorch twins of the same models, in interleaved rounds
// (so drift on a shared machine hits both alike). Prints ratios; writes bench-results/training.json.
// Env: BENCH_STEPS (5), BENCH_WARMUP (1), BENCH_ROUNDS (2), BENCH_MODELS (lstm,transformer,hred),
//      BENCH_BACKENDS (every backend that starts; cpu only when named: it is 100× slower).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { backendOrder, selectBackend } from '../../main/engine/compute/backends.ts'
import { packageRoot } from '../../main/engine/paths.ts'
import { benchModels, targetTokensPerStep, type BenchModel } from './configs.ts'
import { openblasEnv } from './openblas.ts'

interface Result {
  model: string
  backend: string
  params?: number
  msPerStepMedian?: number
  tokensPerSec?: number
  peakRssMiB?: number
  losses?: number[]
  detail?: string
  error?: string
}

const root = packageRoot()
const steps = process.env.BENCH_STEPS ?? '5'
const warmup = process.env.BENCH_WARMUP ?? '1'
const rounds = Number(process.env.BENCH_ROUNDS ?? '2')
const models = (process.env.BENCH_MODELS?.split(',') ?? benchModels) as BenchModel[]
const python = '/usr/bin/python3'

function parseResult(stdout: string, fallback: Result): Result {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '))
  return line ? (JSON.parse(line.slice('RESULT '.length)) as Result) : fallback
}

/** PyTorch twins need Debian's python3-torch with OpenBLAS (the generic reference BLAS is 20× slower). */
function torchStatus(): string | null {
  const probe = spawnSync(python, ['-c', 'import torch; print(torch.__config__.show())'], { encoding: 'utf8' })
  if (probe.status !== 0) {
    if (process.getuid?.() === 0) {
      console.error('bench: installing python3-torch and OpenBLAS with apt-get (PyTorch reference)…')
      const install = spawnSync('apt-get', ['install', '-y', '-qq', 'python3-torch', 'libopenblas0-pthread'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      if (install.status === 0) return torchStatus()
    }
    return 'PyTorch reference skipped: /usr/bin/python3 cannot import torch (apt-get install python3-torch libopenblas0-pthread)'
  }
  const blas = spawnSync(python, ['-c', 'import ctypes.util; print(ctypes.util.find_library("openblas") or "")'], { encoding: 'utf8' })
  if (!blas.stdout.trim()) return 'PyTorch reference runs on the generic reference BLAS, which makes it ~20× slower than usual: apt-get install libopenblas0-pthread'
  return null
}

function runTfjs(model: BenchModel, backend: string): Result {
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'bench', 'tfjs-train.ts'), model, backend, steps, warmup], { encoding: 'utf8', cwd: root })
  return parseResult(child.stdout, { model, backend, error: child.stderr.trim().split('\n').at(-1) ?? `exit ${child.status}` })
}

function runTorch(model: BenchModel): Result {
  const child = spawnSync(python, [join(root, 'scripts', 'bench', 'torch_twins.py'), model, steps, warmup, '1'], { encoding: 'utf8', cwd: root, env: { ...process.env, ...openblasEnv() } })
  return parseResult(child.stdout, { model, backend: 'pytorch', error: child.stderr.trim().split('\n').at(-1) ?? `exit ${child.status}` })
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN

const available = await selectBackend(null)
const requested = process.env.BENCH_BACKENDS?.split(',')
const backends = requested ?? backendOrder.filter((name) => name !== 'cpu' && available.attempts.find((a) => a.name === name)?.status !== 'failed')
// selectBackend stops at the first that works; try the ones after it too when not asked for explicitly.
const candidates = requested ?? [...new Set([...backends, ...backendOrder.slice(backendOrder.indexOf(available.active ?? 'wasm') + 1).filter((n) => n !== 'cpu')])]
console.log(`backends tried first-best: ${available.attempts.map((a) => `${a.name}=${a.status}`).join(', ')}`)
for (const attempt of available.attempts.filter((a) => a.status === 'failed' || a.status === 'skipped')) console.log(`  skipped ${attempt.name}: ${attempt.detail}`)
const torchProblem = torchStatus()
if (torchProblem) console.log(torchProblem)
else if (openblasEnv().OPENBLAS_CORETYPE) console.log(`PyTorch twins run with OPENBLAS_CORETYPE=${openblasEnv().OPENBLAS_CORETYPE} (this CPU's flags)`)

const results: Record<string, Result[]> = {}
for (let round = 0; round < rounds; round++) {
  for (const model of models) {
    const row = [...(torchProblem ? [] : [runTorch(model)]), ...candidates.map((backend) => runTfjs(model, backend))]
    for (const result of row) {
      const key = `${model}/${result.backend}`
      ;(results[key] ??= []).push(result)
      console.log(`round ${round + 1} ${key}: ${result.error ?? `${result.msPerStepMedian} ms/step, ${result.tokensPerSec} tok/s, peak RSS ${result.peakRssMiB} MiB`}`)
    }
  }
}

console.log('\nmodel        backend                 ms/step   tok/s   × PyTorch tok/s   peak RSS MiB   × PyTorch RSS')
const summary: Record<string, unknown>[] = []
for (const model of models) {
  const torch = Object.entries(results).find(([key]) => key.startsWith(`${model}/pytorch`))?.[1]
  const torchMs = torch ? median(torch.map((r) => r.msPerStepMedian ?? NaN)) : NaN
  const torchRss = torch ? Math.max(...torch.map((r) => r.peakRssMiB ?? 0)) : NaN
  for (const [key, runs] of Object.entries(results).filter(([k]) => k.startsWith(`${model}/`))) {
    const ok = runs.filter((r) => !r.error)
    if (ok.length === 0) {
      console.log(`${model.padEnd(12)} ${key.split('/')[1]!.padEnd(22)} failed: ${runs[0]!.error}`)
      continue
    }
    const ms = median(ok.map((r) => r.msPerStepMedian!))
    const rss = Math.max(...ok.map((r) => r.peakRssMiB!))
    const speed = torchMs / ms
    const memory = rss / torchRss
    console.log(
      `${model.padEnd(12)} ${key.split('/')[1]!.padEnd(22)} ${ms.toFixed(0).padStart(8)} ${((targetTokensPerStep * 1000) / ms).toFixed(0).padStart(7)} ${Number.isFinite(speed) ? speed.toFixed(2).padStart(17) : '                –'} ${String(rss).padStart(14)} ${Number.isFinite(memory) ? memory.toFixed(2).padStart(15) : '              –'}`,
    )
    summary.push({ model, backend: ok[0]!.backend, detail: ok[0]!.detail, params: ok[0]!.params, msPerStep: ms, tokensPerSec: (targetTokensPerStep * 1000) / ms, peakRssMiB: rss, speedVsPytorch: speed, memoryVsPytorch: memory, rounds: ok.length })
  }
}
const outDir = join(root, 'bench-results')
if (!existsSync(outDir)) mkdirSync(outDir)
writeFileSync(join(outDir, 'training.json'), `${JSON.stringify({ date: new Date().toISOString(), steps: Number(steps), warmup: Number(warmup), rounds, summary, runs: results }, null, 2)}\n`)
console.log(`\nwritten: bench-results/training.json`)
process.exit(0)
