// A training run on the GPU path as a user starts it: `kotoba --backend webgpu train` on a software Vulkan device
// (Chromium's SwiftShader; a machine's own VK_ICD_FILENAMES is kept). The trainer's update watches the device's
// asynchronous errors, the fused seq2seq ops run, a lost GPU pauses the run at its last checkpoint and `runs resume`
// finishes it, the model learns, and `kotoba info` reports the adapter and the run's measured speed on it.
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { AppInfo, RunDetail } from '../main/api/contract.ts'
import { Random } from '../models/core/random.ts'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'

const swiftShader = '/usr/lib/chromium/vk_swiftshader_icd.json'
const env = { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES || (existsSync(swiftShader) ? swiftShader : '') }

/** A database with a parallel corpus `u` of these pairs (3 dev, 3 test) and its tokenizer `tok`; the CLI on it. */
function prepare(dir: string, pairs: string[]) {
  const kotoba = (...args: string[]) => runCli(['--db', join(dir, 'k.db'), '--no-sample', '--json', ...args], { env })
  const file = join(dir, 'pairs.tsv')
  writeFileSync(file, `${pairs.join('\n')}\n`)
  assert.equal(kotoba('corpus', 'import', file, '--name', 'u', '--format', 'tsv', '--src', 'en', '--tgt', 'es').status, 0)
  assert.equal(kotoba('corpus', 'split', 'u', '--dev', '3', '--test', '3').status, 0)
  assert.equal(kotoba('tokenizer', 'train', '--corpus', 'u', '--name', 'tok', '--type', 'bpe', '--vocab-size', '60').status, 0)
  return kotoba
}

test('webgpu: `kotoba train` on the GPU path pauses at its checkpoint when the GPU is lost, resumes, learns, and `kotoba info` names the adapter and the run’s tokens per second on it', (t) => {
  const dir = tempDir(t)
  const kotoba = prepare(dir, Array.from({ length: 60 }, (_, i) => `word ${i} here\tpalabra ${i} aquí`))

  // The tiny preset, narrowed (SwiftShader computes on the CPU): a bidirectional GRU encoder and the input-feeding
  // decoder, each one op on the GPU. The GPU is lost as update 5 begins (a test's stand-in for a driver reset): the
  // run pauses at its checkpoint of step 3.
  const config = join(dir, 'run.json')
  writeFileSync(config, JSON.stringify({ seq2seq: { embeddingSize: 32, hiddenSize: 64 } }))
  const train = ['--backend', 'webgpu', 'train', '--config', config, '--model', 'seq2seq', '--preset', 'tiny', '--corpus', 'u', '--tokenizer', 'tok', '--name', 'r', '--max-steps', '6', '--valid-every', '3']
  const lost = runCli(['--db', join(dir, 'k.db'), '--no-sample', '--json', ...train], { env: { ...env, KOTOBA_FAULT_GPU_LOST_AT_UPDATE: '5' } })
  assert.notEqual(lost.status, 0, 'the command reports the loss')
  const failure = JSON.parse(lost.stdout) as { error: string; code: string }
  assert.equal(failure.code, 'gpu_lost', lost.stdout + lost.stderr)
  assert.match(failure.error, /^the GPU was lost \(destroyed/, failure.error)
  assert.doesNotMatch(lost.stderr, /\n\s+at /, 'no stack trace')
  const paused = parseJsonOutput<RunDetail>(kotoba('runs', 'show', 'r'))
  assert.equal(paused.status, 'paused')
  assert.equal(paused.step, 3, 'paused at its last checkpoint')
  assert.match(paused.error ?? '', /paused at the last checkpoint \(step 3\): the GPU was lost/)

  // Once the GPU is back, the run resumes from that checkpoint and finishes.
  const trained = kotoba('--backend', 'webgpu', 'runs', 'resume', 'r')
  assert.equal(trained.status, 0, trained.stderr || trained.stdout)
  assert.doesNotMatch(trained.stderr, /the GPU (reported|rejected)/)
  const run = parseJsonOutput<RunDetail>(trained)
  assert.equal(run.status, 'done')
  const devLoss = run.checkpoints.map((checkpoint) => [checkpoint.step, checkpoint.metrics['dev/loss']])
  assert.equal(devLoss.length, 2, JSON.stringify(devLoss))
  assert.ok(devLoss[1]![1]! < devLoss[0]![1]!, `the dev loss falls: ${JSON.stringify(devLoss)}`)

  const info = parseJsonOutput<AppInfo>(kotoba('--backend', 'webgpu', 'info'))
  assert.equal(info.compute.active, 'webgpu')
  assert.ok(info.compute.adapter?.software, 'SwiftShader, a software adapter')
  assert.ok(info.compute.device)
  const lastRun = info.compute.lastRun
  assert.equal(lastRun?.run, 'r')
  assert.equal(lastRun.backend, 'webgpu')
  assert.equal(lastRun.device, info.compute.device)
  assert.equal(lastRun.step, 6)
  assert.ok(lastRun.tokensPerSecond > 0)
})

test('webgpu: `kotoba train` under KOTOBA_GPU_MEMORY_MIB below an update’s measured peak splits its batches in two and trains the same updates', (t) => {
  const dir = tempDir(t)
  // Reversing 20 to 27 letters with a narrow model: the activations, not the weights, take the memory (~13 MiB).
  const random = new Random(5)
  const kotoba = prepare(
    dir,
    Array.from({ length: 200 }, () => {
      const letters = Array.from({ length: 20 + random.integer(8) }, () => 'abcdefgh'[random.integer(8)]!)
      return `${letters.join(' ')}\t${letters.reverse().join(' ')}`
    }),
  )
  const config = join(dir, 'run.json')
  writeFileSync(config, JSON.stringify({ seq2seq: { embeddingSize: 16, hiddenSize: 32, dropout: 0 }, training: { logEvery: 1 } }))
  const train = (name: string, memoryMiB: string | null) => {
    const args = ['--db', join(dir, 'k.db'), '--no-sample', '--json', '--backend', 'webgpu', 'train', '--config', config, '--model', 'seq2seq', '--preset', 'tiny', '--token-budget', '1024']
    const limit = memoryMiB === null ? {} : { KOTOBA_GPU_MEMORY_MIB: memoryMiB }
    return runCli([...args, '--corpus', 'u', '--tokenizer', 'tok', '--name', name, '--max-steps', '2', '--valid-every', '2'], { env: { ...env, ...limit } })
  }
  const series = (name: string) => {
    const file = join(dir, `${name}.csv`)
    assert.equal(kotoba('export', 'csv', '--run', name, '--out', file).status, 0)
    const points = new Map<string, number[]>()
    for (const line of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const [metric, , value] = line.split(',')
      points.set(metric!, [...(points.get(metric!) ?? []), Number(value)])
    }
    return points
  }
  const whole = train('whole', null)
  assert.equal(whole.status, 0, whole.stderr || whole.stdout)
  const wholeSeries = series('whole')
  const peaks = wholeSeries.get('train/memory_mib')!
  assert.equal(peaks.length, 2, 'each update’s peak of GPU memory in use is charted')
  assert.equal(wholeSeries.get('dev/memory_mib')?.length, 1, 'and the validation’s')
  assert.equal(wholeSeries.get('train/memory_split'), undefined, 'nothing to split without a cap')

  // One byte under the first update's peak: it runs again with its batches in halves, which hold less.
  const split = train('split', String((peaks[0]! * 2 ** 20 - 1) / 2 ** 20))
  assert.equal(split.status, 0, split.stderr || split.stdout)
  assert.match(split.stderr, /step 1: out of memory: .* the GPU memory limit of .* \(KOTOBA_GPU_MEMORY_MIB\) would be passed; splitting each batch into 2 parts/)
  const splitSeries = series('split')
  assert.deepEqual(splitSeries.get('train/memory_split'), [2])
  assert.ok(splitSeries.get('train/memory_mib')![0]! < peaks[0]!, 'the halves held less')
  // The same updates: the losses of every step agree (gradients accumulated over the halves).
  const [a, b] = [wholeSeries.get('train/loss')!, splitSeries.get('train/loss')!]
  assert.equal(b.length, 2)
  for (const [i, loss] of a.entries()) assert.ok(Math.abs(loss - b[i]!) < 1e-5 * loss, `step ${i + 1}: ${loss} whole, ${b[i]} split`)
})
