// Corpus import speed and memory: a generated 1M-pair TSV (about 150 MB) imported into a fresh database,
// in its own process so peak RSS is the import's; then the whole `kotoba corpus import` command (the built
// out/main/cli.js: start, import, indexing, exit) on the same file into another fresh database. Prints both against
// the targets (≥ 50k pairs/s, < 500 MB), a RESULT {json} line, and writes bench-results/corpus-import.json.
// usage: node --import tsx scripts/bench/corpus-import.ts [pairs]
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importCorpus } from '../../main/engine/corpus/import.ts'
import { openDatabase } from '../../main/engine/store/database.ts'
import { packageRoot } from '../../main/engine/paths.ts'

const pairs = Number(process.argv[2] ?? 1_000_000)
const dir = mkdtempSync(join(tmpdir(), 'kotoba-bench-'))
try {
  const file = join(dir, 'pairs.tsv')
  const chunk: string[] = []
  writeFileSync(file, '')
  for (let i = 0; i < pairs; i++) {
    chunk.push(`The quick brown fox number ${i} jumps over the lazy dog near the river.\tEl rápido zorro marrón número ${i} salta sobre el perro perezoso cerca del río.`)
    if (chunk.length === 50_000 || i === pairs - 1) {
      writeFileSync(file, `${chunk.join('\n')}\n`, { flag: 'a' })
      chunk.length = 0
    }
  }
  const rssBefore = process.resourceUsage().maxRSS
  const db = openDatabase(join(dir, 'kotoba.db'))
  const started = performance.now()
  const result = await importCorpus(db, { name: 'bench', files: [file] })
  const seconds = (performance.now() - started) / 1000
  db.close()
  // The whole command, as a user runs it (its own database, so nothing is shared with the run above).
  const cli = join(packageRoot(), 'out', 'main', 'cli.js')
  let commandSeconds: number | null = null
  if (existsSync(cli)) {
    const commandStarted = performance.now()
    execFileSync(process.execPath, [cli, '--db', join(dir, 'command.db'), '--json', '--no-sample', 'corpus', 'import', file, '--name', 'bench'], { stdio: 'ignore' })
    commandSeconds = (performance.now() - commandStarted) / 1000
  } else console.log(`whole command skipped: ${cli} is missing (npm run build)`)
  const summary = {
    pairs: result.rows,
    commandSeconds: commandSeconds === null ? null : Number(commandSeconds.toFixed(2)),
    commandPairsPerSec: commandSeconds === null ? null : Math.round(result.rows / commandSeconds),
    fileMiB: Number((statSync(file).size / 1048576).toFixed(1)),
    seconds: Number(seconds.toFixed(2)),
    pairsPerSec: Math.round(result.rows / seconds),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    rssBeforeImportMiB: Math.round(rssBefore / 1024),
    targets: { pairsPerSec: 50_000, peakRssMiB: 500 },
  }
  console.log(
    `corpus import: ${summary.pairs} pairs (${summary.fileMiB} MiB) in ${summary.seconds} s = ${summary.pairsPerSec} pairs/s ` +
      `(${(summary.pairsPerSec / 50_000).toFixed(2)}× the 50k target), peak RSS ${summary.peakRssMiB} MiB (${(summary.peakRssMiB / 500).toFixed(2)}× the 500 MB budget)`,
  )
  if (summary.commandPairsPerSec !== null) console.log(`whole kotoba corpus import: ${summary.commandSeconds} s = ${summary.commandPairsPerSec} pairs/s (${(summary.commandPairsPerSec / 50_000).toFixed(2)}× the 50k target)`)
  console.log(`RESULT ${JSON.stringify(summary)}`)
  const outDir = join(packageRoot(), 'bench-results')
  if (!existsSync(outDir)) mkdirSync(outDir)
  writeFileSync(join(outDir, 'corpus-import.json'), `${JSON.stringify({ date: new Date().toISOString(), ...summary }, null, 2)}\n`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
