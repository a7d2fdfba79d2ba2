// Training speed as a user meets it: `kotoba train` (the shipped command line, out/main/cli.js) on the reference
// configurations of scripts/bench/configs.ts, against their PyTorch twins (1 thread), in interleaved rounds.
// The corpus is made so the trainer's batches have the reference shape: 2,000 pairs of 28 characters a side drawn
// from 7,995 CJK ideographs, with a unigram tokenizer of 8,000 pieces (those characters, '▁' and the 4 specials:
// no room for longer pieces, so a side is '▁' + 28 pieces, 30 tokens with BOS or EOS) and a token budget of 1,920
// (64 pairs). Steps/s comes from the trainer's own log (its tokens/s over each window of logged steps, after the
// first window, which holds the start-up and the first, slower steps); the whole command's wall time is printed too.
// Env: BENCH_ROUNDS (2), BENCH_STEPS (30 updates, logged every 5), BENCH_MODELS (lstm,transformer).
// usage: npm run build && node --import tsx scripts/bench/train-command.ts
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Random } from '../../models/core/random.ts'
import { packageRoot } from '../../main/engine/paths.ts'
import { batchShape, lstmConfig, transformerConfig } from './configs.ts'
import { openblasEnv } from './openblas.ts'

type CommandModel = 'lstm' | 'transformer'
const root = packageRoot()
const cli = join(root, 'out', 'main', 'cli.js')
const python = '/usr/bin/python3'
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
const steps = Number(process.env.BENCH_STEPS ?? 30)
const logEvery = 5
const models = (process.env.BENCH_MODELS?.split(',') ?? ['lstm', 'transformer']) as CommandModel[]
const charactersPerSide = batchShape.tgtLen - 2 // + '▁', + EOS (source) / BOS, EOS (target): 30 tokens
const alphabet = batchShape.vocab - 5 // pieces besides '▁', <unk>, <s>, </s>, <pad>
const tokensPerStep = batchShape.batch * batchShape.tgtLen

if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`)
const torchMissing = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0
if (torchMissing) console.log('PyTorch twins skipped: apt-get install python3-torch libopenblas0-pthread')

const dir = mkdtempSync(join(tmpdir(), 'kotoba-train-bench-'))
const db = join(dir, 'bench.db')
const kotoba = (...args: string[]) => execFileSync(process.execPath, [cli, '--db', db, '--json', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })

/** The run configurations: the reference models as `kotoba train --config` takes them (no label smoothing, no
 *  validation or checkpoint until the end, as the twins do neither; gradient clipping stays on, as the trainer has it). */
function runConfig(model: CommandModel): object {
  const training = { maxSteps: steps, tokenBudget: tokensPerStep, lr: 1e-3, labelSmoothing: 0, logEvery, validEvery: 1_000_000, checkpointEvery: 1_000_000, validSentences: 16, probes: 0 }
  if (model === 'lstm') {
    const { embeddingSize, hiddenSize, cell, encoderLayers, decoderLayers, bidirectional, attention, inputFeeding, dropout } = lstmConfig
    return { model: 'seq2seq', corpus: 'synthetic', tokenizer: 'synthetic-chars', seq2seq: { embeddingSize, hiddenSize, cell, encoderLayers, decoderLayers, bidirectional, attention, inputFeeding, dropout }, training }
  }
  const { dModel, heads, dFF, encoderLayers, decoderLayers, dropout, attentionDropout, norm, positions, shareEmbeddings, maxLength } = transformerConfig
  return { model: 'transformer', corpus: 'synthetic', tokenizer: 'synthetic-chars', transformer: { dModel, heads, dFF, encoderLayers, decoderLayers, dropout, attentionDropout, norm, positions, shareEmbeddings, maxLength }, training }
}

function prepareCorpus(): void {
  const random = new Random(11)
  const character = () => String.fromCodePoint(0x4e00 + random.integer(alphabet))
  const side = () => Array.from({ length: charactersPerSide }, character).join('')
  const lines = Array.from({ length: 2000 }, () => `${side()}\t${side()}`)
  writeFileSync(join(dir, 'pairs.tsv'), `${lines.join('\n')}\n`)
  kotoba('corpus', 'import', join(dir, 'pairs.tsv'), '--name', 'synthetic', '--src', 'xx', '--tgt', 'yy')
  kotoba('corpus', 'split', 'synthetic', '--dev', '16', '--test', '16')
  kotoba('tokenizer', 'train', '--corpus', 'synthetic', '--name', 'synthetic-chars', '--type', 'unigram', '--vocab-size', String(batchShape.vocab), '--character-coverage', '1')
  // The batches have the reference shape only if every side is 29 pieces.
  const sample = lines.slice(0, 100).map((line) => line.split('\t')[0]!)
  const encoded = execFileSync(process.execPath, [cli, '--db', db, 'tokenizer', 'encode', '--name', 'synthetic-chars'], { input: `${sample.join('\n')}\n`, encoding: 'utf8' }).trim().split('\n')
  const lengths = new Set(encoded.map((line) => line.split(' ').length))
  if (lengths.size !== 1 || !lengths.has(charactersPerSide + 1)) throw new Error(`the tokenizer splits a side into ${[...lengths].join(', ')} pieces, not ${charactersPerSide + 1}`)
}

interface Measured {
  msPerStep: number
  wholeSeconds: number
}

/** ms per update from the trainer's tokens/s metric (source + target tokens per second over each logged window). */
function loggedMsPerStep(run: string): number {
  const store = new Database(db, { readonly: true })
  try {
    const points = store.prepare("SELECT m.step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.name = ? AND m.name = 'train/tokens_per_s' ORDER BY m.step").all(run) as { step: number; value: number }[]
    const later = points.filter((p) => p.step > logEvery) // the first window holds the first (slowest) steps
    if (later.length === 0) throw new Error(`run ${run} logged no tokens/s after step ${logEvery}`)
    const rates = later.map((p) => p.value).sort((a, b) => a - b)
    const rate = rates[rates.length >> 1]!
    // Both sides: the target's 30 tokens and the source's ('▁' + 28 characters + EOS).
    const sourceTokens = batchShape.batch * (charactersPerSide + 2)
    return (1000 * (tokensPerStep + sourceTokens)) / rate
  } finally {
    store.close()
  }
}

function trainOurs(model: CommandModel, round: number): Measured {
  const name = `${model}-${round}`
  const config = join(dir, `${model}.json`)
  writeFileSync(config, JSON.stringify(runConfig(model)))
  const started = performance.now()
  kotoba('train', '--config', config, '--name', name)
  const wholeSeconds = (performance.now() - started) / 1000
  return { msPerStep: loggedMsPerStep(name), wholeSeconds }
}

function trainTorch(model: CommandModel): number {
  const child = spawnSync(python, [join(root, 'scripts', 'bench', 'torch_twins.py'), model, '5', '1', '1'], { encoding: 'utf8', cwd: root, env: { ...process.env, ...openblasEnv() } })
  const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (!line) throw new Error(`PyTorch twin failed: ${child.stderr.trim().split('\n').at(-1)}`)
  return (JSON.parse(line.slice(7)) as { msPerStepMedian: number }).msPerStepMedian
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2
}

try {
  prepareCorpus()
  console.log(`kotoba train bench: ${steps} updates of 64 × 30-token pairs, vocabulary ${batchShape.vocab}, ${rounds} round(s), PyTorch 1 thread`)
  const results: Record<string, { ours: Measured[]; torch: number[] }> = {}
  for (let round = 0; round < rounds; round++) {
    for (const model of models) {
      const entry = (results[model] ??= { ours: [], torch: [] })
      const order = round % 2 === 0 ? (['torch', 'ours'] as const) : (['ours', 'torch'] as const)
      for (const side of order) {
        if (side === 'torch' && torchMissing) continue
        if (side === 'torch') entry.torch.push(trainTorch(model))
        else entry.ours.push(trainOurs(model, round))
      }
      const ours = entry.ours.at(-1)!
      const torch = entry.torch.at(-1)
      console.log(`  round ${round + 1} ${model.padEnd(12)} kotoba train ${ours.msPerStep.toFixed(0)} ms/step (whole command ${ours.wholeSeconds.toFixed(1)} s)${torch ? `, PyTorch ${torch.toFixed(0)} ms/step: ${(torch / ours.msPerStep).toFixed(2)}×` : ''}`)
    }
  }
  const summary = models.map((model) => {
    const { ours, torch } = results[model]!
    const msPerStep = median(ours.map((o) => o.msPerStep))
    const torchMs = torch.length > 0 ? median(torch) : NaN
    return { model, msPerStep, tokensPerSec: (tokensPerStep * 1000) / msPerStep, wholeSeconds: median(ours.map((o) => o.wholeSeconds)), torchMsPerStep: torchMs, speedVsPytorch: torchMs / msPerStep, rounds: ours.length }
  })
  for (const row of summary) console.log(`${row.model}: kotoba train ${row.msPerStep.toFixed(0)} ms/step = ${row.tokensPerSec.toFixed(0)} target tokens/s; PyTorch ${row.torchMsPerStep.toFixed(0)} ms/step; ${row.speedVsPytorch.toFixed(2)}× (medians of ${row.rounds}; whole ${steps}-update command ${row.wholeSeconds.toFixed(1)} s)`)
  mkdirSync(join(root, 'bench-results'), { recursive: true })
  writeFileSync(join(root, 'bench-results', 'train-command.json'), `${JSON.stringify({ date: new Date().toISOString(), steps, rounds, summary, results }, null, 2)}\n`)
  console.log(`RESULT ${JSON.stringify(summary)}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
