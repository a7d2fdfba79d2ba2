// A training run on the GPU path as a user starts it: `kotoba --backend webgpu train` on a software Vulkan device
// (Chromium's SwiftShader; a machine's own VK_ICD_FILENAMES is kept). The trainer's update watches the device's
// asynchronous errors, the fused seq2seq ops run, a lost GPU pauses the run at its last checkpoint and `runs resume`
// finishes it, the model learns, and `kotoba info` reports the adapter and the run's measured speed on it.
import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { AppInfo, RunDetail } from '../main/api/contract.ts'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'

const swiftShader = '/usr/lib/chromium/vk_swiftshader_icd.json'
const env = { VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES || (existsSync(swiftShader) ? swiftShader : '') }

test('webgpu: `kotoba train` on the GPU path pauses at its checkpoint when the GPU is lost, resumes, learns, and `kotoba info` names the adapter and the run’s tokens per second on it', (t) => {
  const dir = tempDir(t)
  const kotoba = (...args: string[]) => runCli(['--db', join(dir, 'k.db'), '--no-sample', '--json', ...args], { env })
  const file = join(dir, 'pairs.tsv')
  writeFileSync(file, `${Array.from({ length: 60 }, (_, i) => `word ${i} here\tpalabra ${i} aquí`).join('\n')}\n`)
  assert.equal(kotoba('corpus', 'import', file, '--name', 'u', '--format', 'tsv', '--src', 'en', '--tgt', 'es').status, 0)
  assert.equal(kotoba('corpus', 'split', 'u', '--dev', '3', '--test', '3').status, 0)
  assert.equal(kotoba('tokenizer', 'train', '--corpus', 'u', '--name', 'tok', '--type', 'bpe', '--vocab-size', '60').status, 0)

  // The tiny preset: a bidirectional GRU encoder and the input-feeding decoder, each one op on the GPU. The GPU is
  // lost as update 5 begins (a test's stand-in for a driver reset): the run pauses at its checkpoint of step 3.
  const train = ['--backend', 'webgpu', 'train', '--model', 'seq2seq', '--preset', 'tiny', '--corpus', 'u', '--tokenizer', 'tok', '--name', 'r', '--max-steps', '6', '--valid-every', '3']
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
