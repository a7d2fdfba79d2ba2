// The `kotoba` command line: the same engine and API as the app, in-process.
// Global: kotoba [--db PATH] [--json] [--backend NAME] <command>. With --json, stdout carries exactly one
// JSON object (errors: {"error": ...} and a non-zero exit).
import { Command, CommanderError, Option } from 'commander'
import { join } from 'node:path'
import { ApiError, computeLimitNames, CorpusFormat, KotobaClient, type ComputeReport, type EngineEvent, type JobProgress, type KotobaTransport } from '../api/contract.ts'
import { backendOrder, parseBackendName } from '../engine/compute/backend-names.ts'
import { Engine } from '../engine/engine.ts'
import { packageRoot, resolveDbPath } from '../engine/paths.ts'
import { defaultWorkerEntry } from '../engine/runtime.ts'
import { appVersion } from '../engine/version.ts'
import { ProgressBar } from './progress.ts'
import { renderTable } from './table.ts'
import { registerTrainingCommands, type CliHelpers } from './training.ts'
import { registerWord2VecCommands } from './word2vec.ts'
import { onStopSignal } from './signals.ts'
import { formatBytes } from '../engine/compute/out-of-memory.ts'

// Libraries (TensorFlow.js among them) may print to stdout; only our results go there.
const writeResult = process.stdout.write.bind(process.stdout)
console.log = console.error
console.info = console.error

interface GlobalOptions {
  db?: string
  json?: boolean
  backend?: string
  sample?: boolean
}

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** Extra fields for the --json error object. */
    readonly details: Record<string, unknown> = {},
    /** The --json error code: 'failed', or the job's own (e.g. disk_full). */
    readonly code: string = 'failed',
  ) {
    super(message)
  }
}

const program = new Command('kotoba')
  .description('Kotoba Workbench: train and inspect translation, dialogue and embedding models locally')
  .version(appVersion)
  .option('--db <path>', 'SQLite database (default: $KOTOBA_DB, else the user-data folder)')
  .option('--json', 'print one JSON object on stdout')
  .addOption(new Option('--backend <name>', 'force a TensorFlow.js backend').choices([...backendOrder]))
  .option('--no-sample', 'do not load the bundled sample corpora into a new database')
  .showHelpAfterError()
  .exitOverride()

function globals(): GlobalOptions {
  return program.opts<GlobalOptions>()
}

/** Runs a command on an engine. `longRunning`: the command serves until stopped (`serve`), so the engine builds
 *  search indexes in the background as the app's does; other commands exit when done and leave that to such an engine. */
async function withEngine<T>(action: (client: KotobaClient, engine: Engine) => Promise<T>, { longRunning = false } = {}): Promise<T> {
  const options = globals()
  const backendName = options.backend ?? process.env.KOTOBA_BACKEND
  const engine = await Engine.open({
    dbPath: resolveDbPath(options.db),
    backend: backendName ? parseBackendName(backendName) : null,
    loadSample: options.sample !== false,
    worker: defaultWorkerEntry(),
    // A command that exits when done would wait at exit for a large corpus's index it never uses.
    backgroundIndexing: longRunning,
  })
  const transport: KotobaTransport = {
    call: (method, params) => engine.handle(method, params),
    onEvent: (listener: (event: EngineEvent) => void) => engine.on(listener),
  }
  try {
    return await action(new KotobaClient(transport), engine)
  } finally {
    await engine.close()
  }
}

function output(result: unknown, human: () => string): void {
  if (globals().json) writeResult(`${JSON.stringify(result)}\n`)
  else writeResult(`${human()}\n`)
}

/** Waits for a job, drawing a progress bar on a terminal; Ctrl-C cancels it cleanly. */
async function followJob(client: KotobaClient, engine: Engine, jobId: string): Promise<JobProgress> {
  const bar = !globals().json && process.stderr.isTTY ? new ProgressBar(process.stderr) : null
  const unsubscribe = client.on('job.progress', (job) => {
    if (job.jobId === jobId) bar?.update(job)
  })
  const onInterrupt = (): void => {
    process.stderr.write('\ncancelling…\n')
    void client.call('jobs.cancel', { jobId })
  }
  const offSignals = onStopSignal(onInterrupt)
  try {
    const final = await engine.jobs.wait(jobId)
    bar?.finish(final)
    if (final.status === 'failed') throw new CliError(final.error ?? 'the job failed', 1, {}, final.errorCode ?? 'failed')
    if (final.status === 'cancelled') throw new CliError('cancelled; nothing was changed', 130)
    return final
  } finally {
    unsubscribe()
    offSignals()
  }
}

/** The WebGPU adapter's lines of `kotoba info`: what it is, whether it is used, its features and compute limits. */
function adapterLines(compute: ComputeReport): string[] {
  const adapter = compute.adapter
  if (!adapter) return []
  const used = compute.active === 'webgpu' ? 'in use' : 'not in use'
  const limits = computeLimitNames.filter((name) => name in adapter.limits).map((name) => `${name} ${adapter.limits[name]}`)
  return [
    `adapter:  ${[adapter.vendor, adapter.architecture, adapter.device, adapter.description].filter(Boolean).join(' · ')}${adapter.software ? ' (software)' : ''}, ${used}`,
    `  features: ${adapter.features.join(', ') || 'none'}`,
    `  limits:   ${limits.join(', ')}`,
    ...(adapter.subgroupSizes ? [`  subgroups: ${adapter.subgroupSizes.min}–${adapter.subgroupSizes.max} lanes`] : []),
  ]
}

function lastRunLine(last: ComputeReport['lastRun']): string {
  if (!last) return 'none on this device yet'
  return `${last.run}: ${Math.round(last.tokensPerSecond)} tokens/s at step ${last.step} (${last.at})`
}

program
  .command('info')
  .description('version, database, TensorFlow.js backend in use and why, tensor count')
  .action(() =>
    withEngine(async (client) => {
      const info = await client.call('app.info')
      if (info.compute.error && globals().json) throw new CliError(info.compute.error, 1, { info })
      output(info, () => {
        const lines = [
          `Kotoba Workbench ${info.version} (Node ${info.node}, ${info.platform})`,
          `database: ${info.dbPath} (schema v${info.schemaVersion})`,
          `backend:  ${info.compute.active ?? 'none'} — ${info.compute.error ?? info.compute.reason}`,
          ...(info.compute.device ? [`device:   ${info.compute.device}`] : []),
          ...adapterLines(info.compute),
          `last run: ${lastRunLine(info.compute.lastRun)}`,
          ...(info.compute.memoryLimit ? [`memory:   at most ${formatBytes(info.compute.memoryLimit.bytes)} (${info.compute.memoryLimit.variable})`] : []),
          `tensors:  ${info.compute.tensors} (${info.compute.bytes} bytes)`,
          'tried, best first:',
          ...info.compute.attempts.map((a) => `  ${a.name.padEnd(15)} ${a.status.padEnd(10)} ${a.detail}`),
        ]
        return lines.join('\n')
      })
      if (info.compute.error) throw new CliError(info.compute.error)
    }),
  )

program
  .command('serve')
  .description('browser mode: serve the app and its API on 127.0.0.1 with a per-launch token')
  .option('--port <port>', 'port (0 picks a free one; default $KOTOBA_PORT, else 8787)', process.env.KOTOBA_PORT ?? '8787')
  .action((options: { port: string }) =>
    withEngine(async (_client, engine) => {
      const port = Number(options.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0–65535, got '${options.port}'`)
      const { startBrowserServer } = await import('../engine/transports/browser-server.ts') // only `serve` needs HTTP
      const server = await startBrowserServer(engine, { port, rendererDir: join(packageRoot(), 'out', 'renderer') }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') throw new CliError(`port ${port} is in use on 127.0.0.1: pick another with --port, or --port 0 for a free one`)
        throw error
      })
      // A tagged line that tools (and tests) can parse, whatever else is printed; on a terminal the line below says it.
      if (!process.stderr.isTTY) console.error(`kotoba: browser mode: open ${server.url}`)
      if (globals().json) writeResult(`${JSON.stringify({ url: server.url, port: server.port, dbPath: engine.options.dbPath })}\n`)
      else writeResult(`Kotoba Workbench is serving on ${server.url}\n(loopback only; for a remote box: ssh -L ${server.port}:127.0.0.1:${server.port} HOST)\n`)
      await new Promise<void>((resolve) => onStopSignal(() => resolve()))
      await server.close()
    }, { longRunning: true }),
  )

const corpus = program.command('corpus').description('import, list and inspect corpora')

corpus
  .command('import')
  .description('import a corpus (streamed, in one transaction): TSV, a Moses pair (two files), TMX, PO/MO, dialogue JSONL or text')
  .argument('<files...>', 'the file, or the source and target files of a Moses pair')
  .requiredOption('--name <name>', 'name of the new corpus')
  .addOption(new Option('--format <format>', 'file format (default: detected)').choices([...CorpusFormat.options]))
  .option('--src <lang>', 'source language code (TMX: which language is the source)')
  .option('--tgt <lang>', 'target language code (TMX: which language is the target)')
  .action((files: string[], options: { name: string; format?: CorpusFormat; src?: string; tgt?: string }) =>
    withEngine(async (client, engine) => {
      const { jobId } = await client.call('corpus.import', {
        name: options.name,
        files,
        ...(options.format ? { format: options.format } : {}),
        ...(options.src ? { srcLang: options.src } : {}),
        ...(options.tgt ? { tgtLang: options.tgt } : {}),
      })
      await followJob(client, engine, jobId)
      const summary = await client.call('corpus.show', { name: options.name })
      output(summary, () => `imported ${summary.rows} ${summary.kind} rows as '${summary.name}'`)
    }),
  )

corpus
  .command('list')
  .description('list corpora with row counts and languages')
  .action(() =>
    withEngine(async (client) => {
      const corpora = await client.call('corpus.list')
      output({ corpora }, () =>
        corpora.length === 0
          ? 'no corpora yet: kotoba corpus import FILE --name NAME'
          : renderTable(
              ['name', 'kind', 'languages', 'rows', 'source'],
              corpora.map((c) => [c.name, c.kind, [c.srcLang, c.tgtLang].filter(Boolean).join('→'), String(c.rows), c.source]),
            ),
      )
    }),
  )

corpus
  .command('show')
  .description('show one corpus and its first rows')
  .argument('<name>')
  .option('--rows <n>', 'how many rows to show', '5')
  .action((name: string, options: { rows: string }) =>
    withEngine(async (client) => {
      const summary = await client.call('corpus.show', { name })
      const { rows } = await client.call('corpus.rows', { name, limit: Math.max(1, Math.min(500, Number(options.rows) || 5)) })
      output({ ...summary, sample: rows }, () =>
        [
          `${summary.name}: ${summary.rows} ${summary.kind} rows ${[summary.srcLang, summary.tgtLang].filter(Boolean).join('→')}`,
          `source: ${summary.source}`,
          ...rows.map((r) => `${r.index + 1}\t${r.turns ? r.turns.join(' ⏎ ') : [r.src, r.tgt].filter((x) => x !== null).join('\t')}`),
        ].join('\n'),
      )
    }),
  )

corpus
  .command('delete')
  .description('delete a corpus and its rows')
  .argument('<name>')
  .action((name: string) =>
    withEngine(async (client) => {
      const result = await client.call('corpus.delete', { name })
      if (!result.deleted) throw new CliError(`no corpus named '${name}'`)
      output(result, () => `deleted '${name}'`)
    }),
  )

corpus
  .command('search')
  .description('full-text search over source and target (substrings, any script)')
  .argument('<name>')
  .argument('<query>')
  .option('--limit <n>', 'rows to show', '20')
  .action((name: string, query: string, options: { limit: string }) =>
    withEngine(async (client) => {
      const found = await client.call('corpus.search', { name, query, limit: Math.max(1, Math.min(500, Number(options.limit) || 20)) })
      output(found, () => [`${found.total} rows match`, ...found.rows.map((r) => `${r.index + 1}\t${r.turns ? r.turns.join(' ⏎ ') : [r.src, r.tgt].filter((x) => x !== null).join('\t')}`)].join('\n'))
    }),
  )

corpus
  .command('clean')
  .description('normalise (NFKC), trim, drop empty and duplicate rows, filter by length and length ratio')
  .argument('<name>')
  .option('--no-normalize', 'keep the text as it is (no NFKC)')
  .option('--no-trim', 'keep whitespace as it is')
  .option('--keep-empty', 'keep rows with an empty side')
  .option('--keep-duplicates', 'keep repeated rows')
  .option('--min-length <n>', 'drop rows with a side shorter than N characters')
  .option('--max-length <n>', 'drop rows with a side longer than N characters')
  .option('--max-ratio <r>', 'drop pairs whose longer side is more than R times the shorter')
  .action((name: string, options: { normalize: boolean; trim: boolean; keepEmpty?: boolean; keepDuplicates?: boolean; minLength?: string; maxLength?: string; maxRatio?: string }) =>
    withEngine(async (client, engine) => {
      const optional = <K extends string>(key: K, value: string | undefined) => (value === undefined ? {} : ({ [key]: Number(value) } as Record<K, number>))
      const { jobId } = await client.call('corpus.clean', {
        name,
        normalize: options.normalize,
        trim: options.trim,
        dropEmpty: !options.keepEmpty,
        dedupe: !options.keepDuplicates,
        ...optional('minLength', options.minLength),
        ...optional('maxLength', options.maxLength),
        ...optional('maxRatio', options.maxRatio),
      })
      const final = await followJob(client, engine, jobId)
      const report = engine.jobs.result(final.jobId) as { before: number; kept: number; dropped: Record<string, number>; changed: Record<string, number> }
      output(report, () =>
        [
          `kept ${report.kept} of ${report.before} rows`,
          ...Object.entries(report.dropped).map(([reason, n]) => `  dropped ${n}: ${reason}`),
          ...Object.entries(report.changed).map(([step, n]) => `  changed ${n}: ${step}`),
        ].join('\n'),
      )
    }),
  )

corpus
  .command('split')
  .description('assign train/dev/test: counts (≥ 1) or fractions (< 1), at random with a seed or by grouping key')
  .argument('<name>')
  .requiredOption('--dev <k>', 'dev size')
  .requiredOption('--test <k>', 'test size')
  .option('--seed <s>', 'random seed', '1')
  .option('--by <key>', "'group' keeps each group (e.g. Bible book) in one split", 'random')
  .action((name: string, options: { dev: string; test: string; seed: string; by: string }) =>
    withEngine(async (client) => {
      if (options.by !== 'random' && options.by !== 'group') throw new CliError(`--by must be 'random' or 'group', got '${options.by}'`)
      const result = await client.call('corpus.split', { name, dev: Number(options.dev), test: Number(options.test), seed: Number(options.seed), by: options.by })
      output(result, () =>
        [`train ${result.train}, dev ${result.dev}, test ${result.test}`, ...(result.groups ? [`dev groups: ${result.groups.dev.join(', ')}`, `test groups: ${result.groups.test.join(', ')}`] : [])].join('\n'),
      )
    }),
  )

corpus
  .command('export')
  .description('write a corpus (or one split) to a file: tsv, jsonl or text')
  .argument('<name>')
  .requiredOption('--out <file>', 'output file')
  .addOption(new Option('--format <format>', 'default: tsv, jsonl or text by corpus kind').choices(['tsv', 'jsonl', 'text']))
  .addOption(new Option('--split <split>', 'only this split').choices(['train', 'dev', 'test']))
  .option('--force', 'replace the file if it exists')
  .action((name: string, options: { out: string; format?: 'tsv' | 'jsonl' | 'text'; split?: 'train' | 'dev' | 'test'; force?: boolean }) =>
    withEngine(async (client) => {
      const result = await client.call('corpus.export', { name, out: options.out, force: !!options.force, ...(options.format ? { format: options.format } : {}), ...(options.split ? { split: options.split } : {}) })
      output(result, () => `wrote ${result.rows} rows to ${result.path} (${result.format})`)
    }),
  )

const runs = program.command('runs').description('training runs')
runs
  .command('list')
  .description('list runs with their status')
  .action(() =>
    withEngine(async (client) => {
      const list = await client.call('runs.list')
      output({ runs: list }, () =>
        list.length === 0 ? 'no runs yet' : renderTable(['name', 'model', 'status', 'step'], list.map((r) => [r.name, r.model, r.status, String(r.step)])),
      )
    }),
  )
runs
  .command('presets')
  .description('model families and their presets (what --model and --preset accept)')
  .action(() =>
    withEngine(async (client) => {
      const families = await client.call('runs.presets')
      output({ families }, () =>
        renderTable(['model', 'preset', 'corpora', 'description'], families.flatMap((f) => f.presets.map((p) => [f.model, p.name, f.corpusKinds.join(', '), p.description]))),
      )
    }),
  )

const tokenizer = program.command('tokenizer').description('SentencePiece tokenizers: train, import, use, export')

/** stdin, one item per line (a trailing newline does not make an extra empty line). */
async function stdinLines(): Promise<string[]> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text.length === 0 ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/)
}

tokenizer
  .command('train')
  .description('learn a SentencePiece tokenizer (unigram or BPE) from a corpus')
  .requiredOption('--corpus <name>', 'corpus to learn from')
  .requiredOption('--name <name>', 'name of the tokenizer')
  .addOption(new Option('--type <type>', 'model type').choices(['unigram', 'bpe']).makeOptionMandatory())
  .requiredOption('--vocab-size <n>', 'number of pieces')
  .addOption(new Option('--side <side>', 'which text to learn from').choices(['src', 'tgt', 'joint']).default('joint'))
  .option('--character-coverage <c>', 'share of characters the alphabet covers', '0.9995')
  .option('--user-symbols <list>', 'comma-separated pieces always kept whole (e.g. "<sep>,<2es>")')
  .option('--byte-fallback', 'encode unknown characters as UTF-8 byte pieces instead of <unk>')
  .addOption(new Option('--normalization <rule>', 'normalisation rule written into the model (identity: text used as it is)').choices(['nmt_nfkc', 'identity']).default('nmt_nfkc'))
  .action(
    (options: {
      corpus: string
      name: string
      type: 'unigram' | 'bpe'
      vocabSize: string
      side: 'src' | 'tgt' | 'joint'
      characterCoverage: string
      userSymbols?: string
      byteFallback?: boolean
      normalization: 'nmt_nfkc' | 'identity'
    }) =>
    withEngine(async (client, engine) => {
      const { jobId } = await client.call('tokenizer.train', {
        corpus: options.corpus,
        name: options.name,
        type: options.type,
        vocabSize: Number(options.vocabSize),
        side: options.side,
        characterCoverage: Number(options.characterCoverage),
        userSymbols: options.userSymbols ? options.userSymbols.split(',').filter(Boolean) : [],
        byteFallback: !!options.byteFallback,
        normalization: options.normalization,
      })
      await followJob(client, engine, jobId)
      const summary = await client.call('tokenizer.show', { name: options.name })
      output(summary, () => `trained '${summary.name}': ${summary.type}, ${summary.vocabSize} pieces, ${summary.normalization} normalisation, ${summary.source}`)
    }),
  )

tokenizer
  .command('import')
  .description('import a SentencePiece .model file (e.g. from spm_train)')
  .argument('<file>')
  .requiredOption('--name <name>', 'name of the tokenizer')
  .action((file: string, options: { name: string }) =>
    withEngine(async (client) => {
      const summary = await client.call('tokenizer.import', { name: options.name, file })
      output(summary, () => `imported '${summary.name}': ${summary.type}, ${summary.vocabSize} pieces`)
    }),
  )

tokenizer
  .command('list')
  .description('list tokenizers')
  .action(() =>
    withEngine(async (client) => {
      const tokenizers = await client.call('tokenizer.list')
      output({ tokenizers }, () =>
        tokenizers.length === 0 ? 'no tokenizers yet: kotoba tokenizer import FILE.model --name NAME' : renderTable(['name', 'type', 'side', 'vocab', 'source'], tokenizers.map((t) => [t.name, t.type, t.side, String(t.vocabSize), t.source])),
      )
    }),
  )

tokenizer
  .command('encode')
  .description('stdin → stdout, one line per line: pieces, or space-separated ids with --ids')
  .requiredOption('--name <name>', 'tokenizer')
  .option('--ids', 'print ids instead of pieces')
  .action((options: { name: string; ids?: boolean }) =>
    withEngine(async (client) => {
      const encoded = await client.call('tokenizer.encode', { name: options.name, lines: await stdinLines() })
      output(encoded, () => (options.ids ? encoded.ids : encoded.pieces).map((row) => row.join(' ')).join('\n'))
    }),
  )

tokenizer
  .command('decode')
  .description('stdin (space-separated ids, one sequence per line) → text')
  .requiredOption('--name <name>', 'tokenizer')
  .action((options: { name: string }) =>
    withEngine(async (client) => {
      const ids = (await stdinLines()).map((line, i) =>
        line
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map((token) => {
            const id = Number(token)
            if (!Number.isInteger(id) || id < 0) throw new CliError(`line ${i + 1}: '${token}' is not an id`)
            return id
          }),
      )
      const decoded = await client.call('tokenizer.decode', { name: options.name, ids })
      output(decoded, () => decoded.lines.join('\n'))
    }),
  )

tokenizer
  .command('stats')
  .description('how a tokenizer fits a corpus: pieces per sentence, unknown and byte pieces, coverage, vocabulary used')
  .requiredOption('--name <name>', 'tokenizer')
  .option('--corpus <name>', 'corpus to measure on (default: the one it was trained on; its dev split when there is one)')
  .addOption(new Option('--side <side>', 'which text').choices(['src', 'tgt', 'joint']))
  .option('--limit <n>', 'texts to measure', '2000')
  .action((options: { name: string; corpus?: string; side?: 'src' | 'tgt' | 'joint'; limit: string }) =>
    withEngine(async (client) => {
      const stats = await client.call('tokenizer.stats', { name: options.name, limit: Number(options.limit), ...(options.corpus ? { corpus: options.corpus } : {}), ...(options.side ? { side: options.side } : {}) })
      const percent = (value: number) => `${(100 * value).toFixed(2)}%`
      output(stats, () =>
        [
          `${options.name} on ${stats.corpus} (${stats.sentences} texts, ${stats.pieces} pieces):`,
          `  pieces per sentence ${stats.piecesPerSentence.toFixed(2)}, characters per piece ${stats.charactersPerPiece.toFixed(2)}`,
          `  unknown ${percent(stats.unknownRate)}, bytes ${percent(stats.byteRate)}, characters covered ${percent(stats.characterCoverage)}, vocabulary used ${percent(stats.vocabularyUsed)}`,
        ].join('\n'),
      )
    }),
  )

tokenizer
  .command('export')
  .description('write the SentencePiece .model file')
  .requiredOption('--name <name>', 'tokenizer')
  .requiredOption('--out <file>', 'output .model file')
  .option('--force', 'replace the file if it exists')
  .action((options: { name: string; out: string; force?: boolean }) =>
    withEngine(async (client) => {
      const result = await client.call('tokenizer.export', { name: options.name, out: options.out, force: !!options.force })
      output(result, () => `wrote ${result.bytes} bytes to ${result.path}`)
    }),
  )

const cliHelpers: CliHelpers = {
  withEngine,
  output,
  json: () => !!globals().json,
  fail: (message, exitCode = 1, code = 'failed') => {
    throw new CliError(message, exitCode, {}, code)
  },
  stdinLines,
  followJob,
  databaseArgs: () => [...(globals().db ? ['--db', globals().db!] : []), ...(globals().backend ? ['--backend', globals().backend!] : []), ...(globals().sample === false ? ['--no-sample'] : [])],
}
registerTrainingCommands(program, cliHelpers)
registerWord2VecCommands(program, cliHelpers)

const exports = program.command('export').description("a run's metrics for TensorBoard or as CSV, or a Marian/OpenNMT-py recipe (models: later)")
for (const [format, description, out] of [
  ['tensorboard', "write a run's metrics as a TensorBoard event file (tensorboard --logdir DIR shows them)", 'folder for the event file (created if missing)'],
  ['csv', "write a run's metrics as CSV: metric, step, value, wall_time", 'output file'],
] as const) {
  exports
    .command(format)
    .description(description)
    .requiredOption('--run <run>', 'the run')
    .requiredOption('--out <path>', out)
    .option('--force', format === 'csv' ? 'replace the file if it exists' : 'replace an event file an earlier export wrote there')
    .action((options: { run: string; out: string; force?: boolean }) =>
      withEngine(async (client) => {
        const result = await client.call('runs.exportMetrics', { name: options.run, format, out: options.out, force: !!options.force })
        output(result, () => `wrote ${result.points} points of ${result.metrics} metrics to ${result.path}`)
      }),
    )
}
exports
  .command('recipe')
  .description('a folder to train the same model with Marian or OpenNMT-py: data splits, SentencePiece models, config, train.sh')
  .requiredOption('--run <run>', 'the run')
  .addOption(new Option('--to <toolkit>', 'the toolkit').choices(['marian', 'opennmt-py']).makeOptionMandatory())
  .requiredOption('--out <dir>', 'the folder (new or empty)')
  .option('--force', "replace the recipe's files in a folder that is not empty")
  .action((options: { run: string; to: 'marian' | 'opennmt-py'; out: string; force?: boolean }) =>
    withEngine(async (client) => {
      const result = await client.call('runs.exportRecipe', { name: options.run, to: options.to, out: options.out, force: !!options.force })
      output(result, () => [`wrote ${result.files.length} files to ${result.path}: ${result.files.join(', ')}`, ...result.notes.map((note) => `  note: ${note}`)].join('\n'))
    }),
  )
exports
  .command('model')
  .description('a run as ONNX or TensorFlow.js graph models: the encoder, one decoder step (with its state/cache inputs), the SentencePiece models and model.json; runs in onnxruntime or tf.loadGraphModel without the workbench')
  .requiredOption('--run <run>', 'the run (seq2seq or transformer)')
  .option('--checkpoint <step>', 'a checkpoint step (default: the best)')
  .addOption(new Option('--format <format>', 'onnx (encoder.onnx, decoder_step.onnx) or tfjs (encoder/ and decoder_step/, each model.json and weights.bin)').choices(['onnx', 'tfjs']).default('onnx'))
  .option('--max-source-length <pieces>', "tfjs seq2seq: the longest source the unrolled recurrent encoder reads (default: the run's training maxTokens)")
  .requiredOption('--out <dir>', 'the folder (new or empty)')
  .option('--force', "replace the export's files in a folder that is not empty")
  .action((options: { run: string; checkpoint?: string; format: 'onnx' | 'tfjs'; maxSourceLength?: string; out: string; force?: boolean }) =>
    withEngine(async (client) => {
      const checkpoint = options.checkpoint === undefined ? undefined : Number(options.checkpoint)
      if (checkpoint !== undefined && !Number.isInteger(checkpoint)) throw new CliError(`--checkpoint takes a step number, not '${options.checkpoint}'`, 2)
      const maxSourceLength = options.maxSourceLength === undefined ? undefined : Number(options.maxSourceLength)
      if (maxSourceLength !== undefined && !Number.isInteger(maxSourceLength)) throw new CliError(`--max-source-length takes a number of pieces, not '${options.maxSourceLength}'`, 2)
      const result = await client.call('runs.exportModel', {
        name: options.run,
        ...(checkpoint === undefined ? {} : { checkpoint }),
        format: options.format,
        ...(maxSourceLength === undefined ? {} : { maxSourceLength }),
        out: options.out,
        force: !!options.force,
      })
      output(result, () => `wrote ${options.run} at checkpoint ${result.checkpointStep} as ${options.format} to ${result.path}: ${result.files.join(', ')} (model.json says how to run it)`)
    }),
  )

function fail(message: string, code: string, exitCode: number, details: Record<string, unknown> = {}): never {
  if (process.argv.includes('--json')) writeResult(`${JSON.stringify({ error: message, code, ...details })}\n`)
  else console.error(`kotoba: ${message}`)
  process.exit(exitCode)
}

try {
  await program.parseAsync(process.argv)
  process.exit(0)
} catch (error) {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) process.exit(0) // --help, --version
    // Commander has already printed the usage error on stderr.
    if (process.argv.includes('--json')) writeResult(`${JSON.stringify({ error: error.message.replace(/^error: /, ''), code: 'usage' })}\n`)
    process.exit(error.exitCode || 2)
  }
  if (error instanceof ApiError) fail(error.message, error.code, 1)
  if (error instanceof CliError) fail(error.message, error.code, error.exitCode, error.details)
  fail(error instanceof Error ? error.message : String(error), 'internal', 1)
}
