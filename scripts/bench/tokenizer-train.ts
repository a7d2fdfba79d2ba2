// Tokenizer training speed and quality against Google's spm_train (Debian package `sentencepiece`), side by
// side on the same 1M words: an 8k unigram model (and 8k BPE), timed in interleaved rounds; quality as
// pieces per held-out line. Ours is timed twice: the trainer in this process, and the whole
// `kotoba tokenizer train` command (the built out/main/cli.js, on the same text imported once as a corpus), from
// its start to its exit, as spm_train's whole process is. Prints ratios, a RESULT {json} line, and writes
// bench-results/tokenizer.json.
// usage: node --import tsx scripts/bench/tokenizer-train.ts [words] [vocab]
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SentencePieceProcessor } from '@sctg/sentencepiece-js'
import { trainBpe } from '../../models/tokenizer/bpe-trainer.ts'
import { writeModelProto } from '../../models/tokenizer/model-writer.ts'
import { trainUnigram } from '../../models/tokenizer/unigram-trainer.ts'
import { packageRoot } from '../../main/engine/paths.ts'

const wordsWanted = Number(process.argv[2] ?? 1_000_000)
const vocabSize = Number(process.argv[3] ?? 8000)
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
const fixture = join(packageRoot(), '..', 'shared', 'data', 'fixtures', 'bible.en-es.tsv')
const bundled = join(packageRoot(), 'main', 'engine', 'sample', 'bible.en-es.tsv')

if (spawnSync('spm_train', ['--help'], { stdio: 'ignore' }).error) {
  console.log('tokenizer bench skipped: spm_train is not installed (apt-get install -y sentencepiece)')
  process.exit(0)
}
const source = existsSync(fixture) ? fixture : bundled
const lines = readFileSync(source, 'utf8').trimEnd().split('\n').flatMap((line) => line.split('\t')).map((line) => line.normalize('NFKC'))
const held = lines.filter((_, i) => i % 20 === 0)
const train: string[] = []
let words = 0
for (const [i, line] of lines.entries()) {
  if (words >= wordsWanted) break
  if (i % 20 === 0) continue
  train.push(line)
  words += line.split(/\s+/).length
}
if (words < wordsWanted) console.log(`note: ${source} holds only ${words} words (wanted ${wordsWanted})`)

const cli = join(packageRoot(), 'out', 'main', 'cli.js')
if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build first`)
const dir = mkdtempSync(join(tmpdir(), 'kotoba-tokenizer-bench-'))
try {
  const input = join(dir, 'train.txt')
  writeFileSync(input, `${train.join('\n')}\n`)
  const db = join(dir, 'bench.db')
  const kotoba = (...args: string[]) => execFileSync(process.execPath, [cli, '--db', db, '--json', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 })
  kotoba('--no-sample', 'corpus', 'import', input, '--name', 'bench-text', '--format', 'text')
  const piecesPerLine = async (model: Uint8Array | string): Promise<number> => {
    const processor = new SentencePieceProcessor()
    if (typeof model === 'string') await processor.load(model)
    else await processor.loadFromB64StringModel(Buffer.from(model).toString('base64'))
    return held.reduce((sum, line) => sum + processor.encodeIds(line).length, 0) / held.length
  }
  const results: Record<string, unknown>[] = []
  for (const type of ['unigram', 'bpe'] as const) {
    const timings = { spm: [] as number[], ours: [] as number[], command: [] as number[] }
    let ours: Uint8Array | null = null
    for (let round = 0; round < rounds; round++) {
      let started = performance.now()
      execFileSync('spm_train', [`--input=${input}`, `--model_prefix=${join(dir, type)}`, `--vocab_size=${vocabSize}`, `--model_type=${type}`, '--character_coverage=0.9995', '--minloglevel=2'], { stdio: 'ignore' })
      timings.spm.push((performance.now() - started) / 1000)
      started = performance.now()
      const spec = type === 'unigram' ? trainUnigram(train, { vocabSize }) : trainBpe(train, { vocabSize })
      ours = writeModelProto(spec)
      timings.ours.push((performance.now() - started) / 1000)
      started = performance.now()
      kotoba('tokenizer', 'train', '--corpus', 'bench-text', '--name', `${type}-${round}`, '--type', type, '--vocab-size', String(vocabSize), '--character-coverage', '0.9995')
      timings.command.push((performance.now() - started) / 1000)
    }
    const best = (values: number[]) => Math.min(...values)
    const quality = { spm: await piecesPerLine(join(dir, `${type}.model`)), ours: await piecesPerLine(ours!) }
    const result = {
      type,
      words,
      vocabSize,
      spmSeconds: Number(best(timings.spm).toFixed(2)),
      oursSeconds: Number(best(timings.ours).toFixed(2)),
      timeRatio: Number((best(timings.ours) / best(timings.spm)).toFixed(2)),
      commandSeconds: Number(best(timings.command).toFixed(2)),
      commandRatio: Number((best(timings.command) / best(timings.spm)).toFixed(2)),
      piecesPerLine: { spm: Number(quality.spm.toFixed(3)), ours: Number(quality.ours.toFixed(3)) },
      piecesRatio: Number((quality.ours / quality.spm).toFixed(4)),
    }
    results.push(result)
    console.log(
      `tokenizer ${type} ${vocabSize} on ${words} words: ours ${result.oursSeconds} s (the whole kotoba tokenizer train ${result.commandSeconds} s), spm_train ${result.spmSeconds} s → ${result.timeRatio}× (whole command ${result.commandRatio}×; target ≤ 2×); ` +
        `pieces per held-out line ${result.piecesPerLine.ours} vs ${result.piecesPerLine.spm} → ${result.piecesRatio}× (target within 3%)`,
    )
  }
  console.log(`RESULT ${JSON.stringify(results)}`)
  const outDir = join(packageRoot(), 'bench-results')
  if (!existsSync(outDir)) mkdirSync(outDir)
  writeFileSync(join(outDir, 'tokenizer.json'), `${JSON.stringify({ date: new Date().toISOString(), source, results }, null, 2)}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
