// Answer latency as a user of the playground and the chat feels it: a beam-5 translation of a 20-word sentence and a
// chat reply with tiny models, through the engine's API. Each request after the first is answered by the warm
// inference worker (model loaded once); the reference in the same script is the job path (a fresh worker thread,
// backend start and checkpoint load per request), as every request was answered before. Then the whole commands a
// user types, `kotoba translate` and `kotoba chat --script` (the built out/main/cli.js: process start, engine,
// backend, model load, one answer, exit). Writes bench-results/latency.json.
// usage: node --import tsx scripts/bench/latency.ts [rounds]
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Random } from '../../models/core/random.ts'
import type { Result } from '../../main/api/contract.ts'
import { message } from '../../main/api/messages.ts'
import { Engine } from '../../main/engine/engine.ts'
import { runJobToEnd } from '../../main/engine/handlers/common.ts'
import { packageRoot } from '../../main/engine/paths.ts'
import { defaultWorkerEntry } from '../../main/engine/runtime.ts'

const rounds = Number(process.argv[2] ?? 10)
const dir = mkdtempSync(join(tmpdir(), 'kotoba-latency-bench-'))
const words = 'the of and to in a is that for it as was with be by on not he this are or his from at which'.split(' ')

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const spread = (values: number[]) => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`

async function timed<T>(call: () => Promise<T>): Promise<number> {
  const started = performance.now()
  await call()
  return performance.now() - started
}

async function waitJob(engine: Engine, jobId: string): Promise<void> {
  const job = await engine.jobs.wait(jobId)
  if (job.status !== 'done') throw new Error(job.error ?? job.status)
}

async function main(): Promise<void> {
  const engine = await Engine.open({ dbPath: join(dir, 'bench.db'), loadSample: true, backend: 'wasm', worker: defaultWorkerEntry() })
  try {
    // A tiny translation model (a copy task) and a tiny HRED on the bundled Hamlet dialogues: 30 steps each.
    const random = new Random(1)
    const lines = Array.from({ length: 600 }, () => {
      const sentence = Array.from({ length: 4 + random.integer(16) }, () => words[random.integer(words.length)]!).join(' ')
      return `${sentence}\t${sentence}`
    })
    writeFileSync(join(dir, 'copy.tsv'), `${lines.join('\n')}\n`)
    await waitJob(engine, ((await engine.handle('corpus.import', { name: 'copy', files: [join(dir, 'copy.tsv')] })) as { jobId: string }).jobId)
    await engine.handle('corpus.split', { name: 'copy', dev: 20, test: 20 })
    await waitJob(engine, ((await engine.handle('tokenizer.train', { corpus: 'copy', name: 'copy-bpe', type: 'bpe', vocabSize: 120 })) as { jobId: string }).jobId)
    await waitJob(engine, ((await engine.handle('tokenizer.train', { corpus: 'sample-hamlet-dialogues', name: 'hamlet-bpe', type: 'bpe', vocabSize: 400 })) as { jobId: string }).jobId)
    const training = { maxSteps: 30, validEvery: 30, checkpointEvery: 30, validSentences: 10 }
    await engine.handle('runs.create', { name: 'copy-tiny', model: 'seq2seq', corpus: 'copy', tokenizer: 'copy-bpe', preset: 'tiny', training })
    await waitJob(engine, ((await engine.handle('runs.start', { name: 'copy-tiny' })) as { jobId: string }).jobId)
    await engine.handle('runs.create', { name: 'hamlet-hred', model: 'hred', corpus: 'sample-hamlet-dialogues', tokenizer: 'hamlet-bpe', preset: 'tiny', training })
    await waitJob(engine, ((await engine.handle('runs.start', { name: 'hamlet-hred' })) as { jobId: string }).jobId)

    const sentence = Array.from({ length: 20 }, (_, i) => words[(i * 7) % words.length]!).join(' ')
    const translate = { run: 'copy-tiny', lines: [sentence], search: 'beam', beamSize: 5 } as const
    const chat = { run: 'hamlet-hred', turns: ['How does your honour for this many a day?'], search: 'beam', beamSize: 5 } as const
    const first = { translate: await timed(() => engine.handle('translate', translate)), chat: await timed(() => engine.handle('chat.reply', chat)) }
    const warm = { translate: [] as number[], chat: [] as number[] }
    const cold = { translate: [] as number[], chat: [] as number[] }
    for (let round = 0; round < rounds; round++) {
      // Interleaved: the warm path, then the per-request job path, for each kind.
      warm.translate.push(await timed(() => engine.handle('translate', translate)))
      cold.translate.push(await timed(() => runJobToEnd(engine, 'run.translate', translate, message('jobTranslate', { lines: 1, run: translate.run })) as Promise<Result<'translate'>>))
      warm.chat.push(await timed(() => engine.handle('chat.reply', chat)))
      cold.chat.push(await timed(() => runJobToEnd(engine, 'run.chat', chat, message('jobChat', { run: chat.run }))))
    }
    // The whole commands, on the same database (the engine above keeps it open; SQLite's WAL lets both read).
    const cli = join(packageRoot(), 'out', 'main', 'cli.js')
    const command = { translate: [] as number[], chat: [] as number[] }
    if (existsSync(cli)) {
      const kotoba = (input: string, ...args: string[]) => timed(async () => execFileSync(process.execPath, [cli, '--db', join(dir, 'bench.db'), '--backend', 'wasm', ...args], { input, stdio: ['pipe', 'ignore', 'ignore'] }))
      writeFileSync(join(dir, 'contexts.jsonl'), `${JSON.stringify(chat.turns)}\n`)
      for (let round = 0; round < Math.min(rounds, 5); round++) {
        command.translate.push(await kotoba(`${sentence}\n`, 'translate', '--run', translate.run, '--beam', '5'))
        command.chat.push(await kotoba('', '--json', 'chat', '--run', chat.run, '--script', join(dir, 'contexts.jsonl'), '--beam', '5'))
      }
    } else console.log(`whole commands skipped: ${cli} is missing (npm run build)`)
    const report = {
      rounds,
      wholeCommandMs: command.translate.length > 0 ? { translate: median(command.translate), translateRange: spread(command.translate), chat: median(command.chat), chatRange: spread(command.chat) } : null,
      firstMs: first,
      translateBeam5Words20: { warmMedianMs: median(warm.translate), warmRangeMs: spread(warm.translate), perJobMedianMs: median(cold.translate), speedup: median(cold.translate) / median(warm.translate), targetMs: 300 },
      chatReplyBeam5: { warmMedianMs: median(warm.chat), warmRangeMs: spread(warm.chat), perJobMedianMs: median(cold.chat), speedup: median(cold.chat) / median(warm.chat) },
    }
    console.log(`latency (${rounds} interleaved rounds, tiny models, wasm):`)
    console.log(`  first request (starts the warm worker): translate ${first.translate.toFixed(0)} ms, chat ${first.chat.toFixed(0)} ms`)
    console.log(`  translate, beam 5, 20 words: warm ${report.translateBeam5Words20.warmMedianMs.toFixed(0)} ms (${report.translateBeam5Words20.warmRangeMs}) vs a job per request ${report.translateBeam5Words20.perJobMedianMs.toFixed(0)} ms → ${report.translateBeam5Words20.speedup.toFixed(1)}× (target < 300 ms)`)
    console.log(`  chat reply, beam 5:          warm ${report.chatReplyBeam5.warmMedianMs.toFixed(0)} ms (${report.chatReplyBeam5.warmRangeMs}) vs a job per request ${report.chatReplyBeam5.perJobMedianMs.toFixed(0)} ms → ${report.chatReplyBeam5.speedup.toFixed(1)}×`)
    if (report.wholeCommandMs) console.log(`  whole commands: kotoba translate (beam 5) ${report.wholeCommandMs.translate.toFixed(0)} ms (${report.wholeCommandMs.translateRange}), kotoba chat --script ${report.wholeCommandMs.chat.toFixed(0)} ms (${report.wholeCommandMs.chatRange})`)
    const out = join(packageRoot(), 'bench-results')
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, 'latency.json'), `${JSON.stringify(report, null, 2)}\n`)
  } finally {
    await engine.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
