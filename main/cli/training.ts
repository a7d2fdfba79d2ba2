// `kotoba train`, `runs`, `translate` and `eval`: training runs from the terminal.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { readFileSync } from 'node:fs'
import { Option, type Command } from 'commander'
import type { Engine } from '../engine/engine.ts'
import type { ChatReplyResult, CorpusSummary, ReinforcementConfig, JobProgress, KotobaClient, Params, RunDetail, SearchOptions } from '../api/contract.ts'
import { checkpointChoice, integer, number } from './flags.ts'
import { ProgressBar } from './progress.ts'
import { renderTable } from './table.ts'
import { onStopSignal } from './signals.ts'

export interface CliHelpers {
  withEngine<T>(action: (client: KotobaClient, engine: Engine) => Promise<T>): Promise<T>
  output(result: unknown, human: () => string): void
  json(): boolean
  fail(message: string, exitCode?: number, code?: string): never
  stdinLines(): Promise<string[]>
  /** Waits for a job with a progress bar; Ctrl-C cancels it. Throws when it fails or is cancelled. */
  followJob(client: KotobaClient, engine: Engine, jobId: string): Promise<JobProgress>
  /** The arguments that reopen the same database in a child process. */
  databaseArgs(): string[]
}

function describeRun(run: RunDetail): string {
  const best = run.checkpoints.find((c) => c.isBest)
  const latest = run.checkpoints.at(-1)
  return [
    `${run.name}: ${run.model} on ${run.corpus ?? '(deleted corpus)'} — ${run.status}, step ${run.step} of ${run.maxSteps}`,
    ...(run.error ? [`  note: ${run.error}`] : []),
    ...(run.parameters ? [`  parameters: ${run.parameters.toLocaleString('en-US')}`] : []),
    ...(run.config.distillation ? [`  distilled from ${run.config.distillation.teacher} (step ${run.config.distillation.checkpointStep}, weight ${run.config.distillation.weight})`] : []),
    ...(run.config.finetunedFrom ? [`  continues ${run.config.finetunedFrom.run} from step ${run.config.finetunedFrom.step}${run.config.reinforcement ? '' : ' (supervised loss only)'}`] : []),
    ...(run.config.reinforcement ? [`  reinforcement: ${describeReinforcement(run.config.reinforcement)}`] : []),
    `  checkpoints: ${run.checkpoints.map((c) => `${c.step}${c.isBest ? '*' : ''}`).join(', ') || 'none yet'}`,
    ...(best ? [`  best (step ${best.step}): ${Object.entries(best.metrics).filter(([k]) => !k.endsWith('seconds')).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`] : []),
    ...(latest && latest !== best ? [`  latest (step ${latest.step}): ${Object.entries(latest.metrics).filter(([k]) => !k.endsWith('seconds')).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`] : []),
  ].join('\n')
}

function describeReinforcement(rl: ReinforcementConfig): string {
  const settings = `baseline the greedy output's reward, policy-gradient share γ ${rl.weight}, sampling temperature ${rl.temperature}`
  if (rl.algorithm === 'reinforce') return `REINFORCE with the dialogue rewards of Li et al. 2016 (0.25 ease of answering + 0.25 information flow + 0.5 coherence, judged by the starting model), ${settings}`
  return `self-critical (SCST): reward sentence ${rl.reward === 'chrf' ? 'chrF' : 'BLEU'}, ${settings}`
}

function describeDistilled(corpus: CorpusSummary): string {
  const from = corpus.distilledFrom
  return [
    `${corpus.name}: ${corpus.splits.train} training pairs translated, dev ${corpus.splits.dev}, test ${corpus.splits.test} (the original references)`,
    ...(from ? [`  teacher: ${from.run} at step ${from.checkpointStep}, ${from.search}, on ${from.corpus}`] : []),
  ].join('\n')
}

/** Where an int8 run comes from and what stayed float. */
function describeQuantization(q: NonNullable<RunDetail['config']['quantization']>): string {
  const float = [...(q.embeddings ? [] : ['embeddings']), ...(q.output ? [] : ['output layer'])]
  return `  int8 quantisation of ${q.from.run} at step ${q.from.step}, for inference; ${float.length > 0 ? `kept float: ${float.join(', ')}` : 'every matrix in int8'}`
}

/** Zeros per pruned layer, and overall. */
function describeSparsity(run: RunDetail): string {
  const layers = run.sparsity ?? []
  if (layers.length === 0) return '  sparsity: none measured yet'
  const size = layers.reduce((sum, layer) => sum + layer.size, 0)
  const zeros = layers.reduce((sum, layer) => sum + layer.zeros, 0)
  const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`
  return [
    `  sparsity: ${percent(zeros, size)} of ${size.toLocaleString('en-US')} prunable weights are zero`,
    renderTable(
      ['layer', 'weights', 'zeros', 'sparsity'],
      layers.map((layer) => [layer.name, layer.size.toLocaleString('en-US'), layer.zeros.toLocaleString('en-US'), percent(layer.zeros, layer.size)]),
    ),
  ].join('\n')
}

/** Follows a training job: a progress bar and the latest loss on a terminal; Ctrl-C pauses with a checkpoint. */
async function followTraining(client: KotobaClient, engine: Engine, name: string, jobId: string, helpers: CliHelpers): Promise<RunDetail> {
  const bar = !helpers.json() && process.stderr.isTTY ? new ProgressBar(process.stderr) : null
  let loss: number | null = null
  const offMetrics = client.on('run.metrics', (data) => {
    if (data.name !== name) return
    for (const point of data.points) {
      if (point.metric === 'train/loss') loss = point.value
      if (point.metric === 'dev/bleu' && !helpers.json()) process.stderr.write(`\rstep ${point.step}: dev BLEU ${point.value.toFixed(2)}${' '.repeat(30)}\n`)
    }
  })
  const offProgress = client.on('job.progress', (job) => {
    if (job.jobId === jobId) bar?.update({ ...job, label: loss === null ? job.label : `${job.label} · loss ${loss.toFixed(3)}` })
  })
  const onInterrupt = (): void => {
    process.stderr.write('\npausing (a checkpoint is saved; resume with `kotoba runs resume`)…\n')
    void client.call('runs.pause', { name }).catch(() => undefined)
  }
  const offSignals = onStopSignal(onInterrupt)
  try {
    const final = await engine.jobs.wait(jobId)
    bar?.finish(final)
    const run = await client.call('runs.show', { name })
    if (final.status === 'failed') helpers.fail(final.error ?? 'training failed', 1, final.errorCode ?? 'failed')
    return run
  } finally {
    offMetrics()
    offProgress()
    offSignals()
  }
}

const rounded = (weights: number[][]) => weights.map((row) => row.map((w) => Number(w.toFixed(4))))

/** Trains in a detached child process (the same CLI, `runs resume`), so this command returns at once. */
function detach(name: string, helpers: CliHelpers): number {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...helpers.databaseArgs(), 'runs', 'resume', name], { detached: true, stdio: 'ignore' })
  child.unref()
  return child.pid ?? -1
}

/** A --config file: missing, unreadable or not a JSON object each get their own plain message. */
function readConfigFile(path: string, helpers: CliHelpers): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return helpers.fail(code === 'ENOENT' ? `--config ${path}: no such file` : code === 'EISDIR' ? `--config ${path}: a folder, not a file` : `--config ${path}: cannot read it (${code ?? (error as Error).message})`, 2, 'usage')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return helpers.fail(`--config ${path} is not valid JSON: ${(error as Error).message}`, 2, 'usage')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return helpers.fail(`--config ${path} must hold one JSON object (a run configuration)`, 2, 'usage')
  return parsed as Record<string, unknown>
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** A difference with its sign. */
const signed = (value: number, digits: number): string => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`

interface SearchFlags {
  beam?: string
  nbest?: string
  alpha?: string
  greedy?: boolean
  sample?: boolean
  temperature?: string
  topK?: string
  topP?: string
  /** `--no-repeat-ngram <n>`: commander reads a `--no-` flag as the negation of `repeatNgram`, true when absent. */
  repeatNgram?: string | boolean
  maxLength?: string
}

function searchOptions(flags: SearchFlags): Partial<SearchOptions> {
  return defined({
    search: flags.greedy ? 'greedy' : flags.sample ? 'sample' : undefined,
    beamSize: integer('--beam', flags.beam),
    nBest: integer('--nbest', flags.nbest),
    alpha: number('--alpha', flags.alpha),
    temperature: number('--temperature', flags.temperature),
    topK: integer('--top-k', flags.topK),
    topP: number('--top-p', flags.topP),
    noRepeatNgram: typeof flags.repeatNgram === 'string' ? integer('--no-repeat-ngram', flags.repeatNgram) : undefined,
    maxLength: integer('--max-length', flags.maxLength),
  }) as Partial<SearchOptions>
}

function withSearchOptions(command: Command): Command {
  return command
    .option('--beam <b>', 'beam size (default 5)')
    .option('--nbest <k>', 'hypotheses per input (default 1)')
    .option('--alpha <a>', 'GNMT length penalty α (default 0.6)')
    .option('--greedy', 'greedy search instead of beam search')
    .option('--sample', 'sample instead of searching')
    .option('--temperature <t>', 'sampling temperature')
    .option('--top-k <k>', 'sample from the k most probable pieces')
    .option('--top-p <p>', 'sample from the smallest set of pieces with probability ≥ p')
    .option('--no-repeat-ngram <n>', 'never repeat an n-gram')
    .option('--max-length <n>', 'output length limit in pieces')
}

export function registerTrainingCommands(program: Command, helpers: CliHelpers): void {
  program
    .command('train')
    .description('train a model (seq2seq, Transformer, HRED or VHRED); Ctrl-C pauses with a checkpoint')
    .addOption(new Option('--model <kind>', 'model').choices(['seq2seq', 'transformer', 'hred', 'vhred']))
    .option('--corpus <name>', 'corpus with train and dev splits: parallel, or dialogue (hred/vhred; seq2seq/transformer learn previous turn → next turn)')
    .option('--tokenizer <name>', 'tokenizer (joint, or the source side)')
    .option('--tgt-tokenizer <name>', 'target tokenizer (default: --tokenizer)')
    .requiredOption('--name <name>', 'name of the run')
    .addOption(new Option('--cell <cell>', 'seq2seq cell').choices(['rnn', 'lstm', 'gru']))
    .addOption(new Option('--attention <type>', 'seq2seq attention').choices(['none', 'bahdanau', 'luong', 'luong-dot']))
    .option('--bidirectional', 'bidirectional seq2seq encoder (the default)')
    .option('--no-bidirectional', 'unidirectional seq2seq encoder')
    .option('--preset <name>', 'a named configuration (seq2seq: tiny, small; transformer: tiny, base-small, bench; hred, vhred: tiny, small)')
    .option('--latent-size <n>', 'vhred: size of the latent z')
    .option('--max-context <n>', 'hred/vhred: context turns before each response')
    .option('--free-bits <nats>', 'vhred: free bits per latent unit against posterior collapse (Kingma et al. 2016)')
    .option('--bow-weight <w>', 'vhred: weight of the bag-of-words loss (Zhao et al. 2017)')
    .option('--max-steps <s>', 'updates to train for')
    .option('--lr <lr>', 'learning rate')
    .option('--token-budget <n>', 'padded tokens per batch')
    .option('--valid-every <n>', 'validate every N steps')
    .option('--checkpoint-every <n>', 'save a checkpoint every N steps')
    .option('--seed <s>', 'seed for initialisation and batching')
    .option('--teacher <run>', 'word-level knowledge distillation from this trained run (same tokenizers)')
    .option('--kd-weight <a>', 'weight of the teacher’s distribution in the targets (0–1)', '0.5')
    .option('--config <file>', 'a JSON run configuration ({model, corpus, tokenizer, seq2seq, transformer, training}); flags override it')
    .option('--from <run>', 'a new phase: continue from this run’s checkpoint as a new run (model, corpus and tokenizers are its)')
    .option('--steps <n>', 'with --from: updates after the checkpoint', '200')
    .option('--checkpoint <which>', 'with --from: best, latest or a step', 'best')
    .addOption(new Option('--rl <algorithm>', 'with --from: reinforcement learning — scst: self-critical sequence training of a translation run (Rennie et al. 2017); reinforce: an hred/vhred run with the dialogue rewards of Li et al. 2016').choices(['scst', 'reinforce']))
    .addOption(new Option('--reward <reward>', 'with --rl: scst — sentence chrF (default) or BLEU against the reference; reinforce — dialogue (ease of answering, information flow, coherence)').choices(['chrf', 'bleu', 'dialogue']))
    .option('--rl-weight <γ>', 'with --rl: share of the policy-gradient loss, the rest the supervised loss on the references (default: 0.9 scst, 0.5 reinforce)')
    .option('--temperature <t>', 'with --rl: sampling temperature of the rollouts (exploration)', '1')
    .option('--detach', 'train in the background and return at once')
    .action(
      (options: {
        model?: string
        corpus?: string
        tokenizer?: string
        tgtTokenizer?: string
        name: string
        cell?: string
        attention?: string
        bidirectional?: boolean
        preset?: string
        latentSize?: string
        maxContext?: string
        freeBits?: string
        bowWeight?: string
        maxSteps?: string
        lr?: string
        tokenBudget?: string
        validEvery?: string
        checkpointEvery?: string
        seed?: string
        teacher?: string
        kdWeight: string
        config?: string
        from?: string
        steps: string
        checkpoint: string
        rl?: 'scst' | 'reinforce'
        reward?: 'chrf' | 'bleu' | 'dialogue'
        rlWeight?: string
        temperature: string
        detach?: boolean
      }) =>
        helpers.withEngine(async (client, engine) => {
          if (options.from) {
            const { run: created, jobId } = await client.call('runs.finetune', {
              name: options.from,
              into: options.name,
              steps: integer('--steps', options.steps)!,
              checkpoint: checkpointChoice(options.checkpoint),
              ...defined({ lr: number('--lr', options.lr) }),
              ...(options.rl ? { reinforcement: { algorithm: options.rl, ...defined({ reward: options.reward, weight: number('--rl-weight', options.rlWeight) }), temperature: number('--temperature', options.temperature)! } } : {}),
            })
            if (!jobId) helpers.fail(`run '${created.name}' did not start`)
            const run = await followTraining(client, engine, created.name, jobId, helpers)
            helpers.output(run, () => describeRun(run))
            return
          }
          if (options.rl) helpers.fail('--rl continues a trained run: give it with --from <run>', 2, 'usage')
          const file = options.config ? readConfigFile(options.config, helpers) : {}
          const model = options.model ?? (file['model'] as string | undefined)
          if (model !== 'seq2seq' && model !== 'transformer' && model !== 'hred' && model !== 'vhred') helpers.fail('--model seq2seq|transformer|hred|vhred is required (or "model" in --config)', 2)
          if ((model === 'hred' || model === 'vhred') && options.cell === 'rnn') helpers.fail('dialogue models use --cell gru or lstm', 2)
          const fileTraining = (file['training'] ?? {}) as Record<string, unknown>
          const params = {
            ...file,
            name: options.name,
            model,
            corpus: options.corpus ?? file['corpus'],
            tokenizer: options.tokenizer ?? file['tokenizer'],
            ...defined({ tgtTokenizer: options.tgtTokenizer, preset: options.preset }),
            ...(model === 'seq2seq'
              ? { seq2seq: { ...((file['seq2seq'] ?? {}) as object), ...defined({ cell: options.cell, attention: options.attention, bidirectional: process.argv.some((a) => a.endsWith('bidirectional')) ? options.bidirectional : undefined }) } }
              : {}),
            ...(model === 'hred' || model === 'vhred'
              ? { dialogue: { ...((file['dialogue'] ?? {}) as object), ...defined({ cell: options.cell, latentSize: integer('--latent-size', options.latentSize), maxContext: integer('--max-context', options.maxContext), freeBits: number('--free-bits', options.freeBits), bowWeight: number('--bow-weight', options.bowWeight) }) } }
              : {}),
            training: {
              ...fileTraining,
              ...defined({
                maxSteps: integer('--max-steps', options.maxSteps),
                lr: number('--lr', options.lr),
                tokenBudget: integer('--token-budget', options.tokenBudget),
                validEvery: integer('--valid-every', options.validEvery),
                checkpointEvery: integer('--checkpoint-every', options.checkpointEvery),
                seed: integer('--seed', options.seed),
              }),
            },
            ...(options.teacher ? { distillation: { teacher: options.teacher, weight: number('--kd-weight', options.kdWeight)! } } : {}),
          } as Params<'runs.create'>
          const created = await client.call('runs.create', params)
          if (options.detach) {
            const pid = detach(created.name, helpers)
            helpers.output({ ...created, pid }, () => `training '${created.name}' in the background (pid ${pid}); follow it with: kotoba runs show ${created.name}`)
            return
          }
          const { jobId } = await client.call('runs.start', { name: created.name })
          const run = await followTraining(client, engine, created.name, jobId, helpers)
          helpers.output(run, () => describeRun(run))
        }),
    )

  const compress = program.command('compress').description('make a trained model lighter: int8 quantisation, magnitude pruning, sequence-level distillation')
  compress
    .command('quantize')
    .alias('quantise')
    .description('a new run holding an int8 copy of a run’s checkpoint (per-channel weights, int8 products at inference); the run is left as it is')
    .requiredOption('--run <run>', 'the trained run')
    .option('--name <name>', 'the new run (default: <run>-int8)')
    .option('--checkpoint <which>', 'best, latest or a step', 'best')
    .option('--keep-float <parts>', 'parts left in float: embeddings, output (comma-separated)', '')
    .action((options: { run: string; name?: string; checkpoint: string; keepFloat: string }) =>
      helpers.withEngine(async (client) => {
        const checkpoint = checkpointChoice(options.checkpoint)
        const keep = options.keepFloat.split(',').map((part) => part.trim()).filter(Boolean)
        const unknown = keep.filter((part) => part !== 'embeddings' && part !== 'output')
        if (unknown.length > 0) helpers.fail(`--keep-float takes embeddings and/or output, not ${unknown.join(', ')}`)
        const result = await client.call('runs.quantize', { name: options.run, ...defined({ into: options.name }), checkpoint, embeddings: !keep.includes('embeddings'), output: !keep.includes('output') })
        helpers.output(result, () =>
          [
            `${result.run.name}: int8 copy of ${options.run} at step ${result.run.step}, ${result.bytes.toLocaleString('en-US')} bytes (float: ${result.floatBytes.toLocaleString('en-US')}, ${(result.floatBytes / result.bytes).toFixed(1)}× smaller)`,
            renderTable(
              ['matrix', 'weights', '‖W − Ŵ‖/‖W‖'],
              result.layers.map((layer) => [layer.name, layer.size.toLocaleString('en-US'), `${(100 * layer.relativeError).toFixed(2)} %`]),
            ),
            `Score it with: kotoba eval --run ${result.run.name} --split test; compare: kotoba compress report --run ${options.run} --latency`,
          ].join('\n'),
        )
      }),
    )
  compress
    .command('prune')
    .description('a new run from a run’s checkpoint, pruned by weight magnitude (Zhu & Gupta 2017) while it fine-tunes')
    .requiredOption('--run <run>', 'the trained run (left as it is)')
    .requiredOption('--sparsity <s>', 'share of weight matrices’ entries set to zero, e.g. 0.5')
    .option('--name <name>', 'the new run (default: <run>-pruned<percent>)')
    .addOption(new Option('--scope <scope>', 'one threshold for all weights, or the same share per layer').choices(['global', 'layer']).default('global'))
    .addOption(new Option('--schedule <schedule>', 'all at once, or a cubic ramp over two thirds of the steps').choices(['one-shot', 'gradual']).default('gradual'))
    .option('--steps <n>', 'fine-tuning steps', '200')
    .option('--checkpoint <which>', 'best, latest or a step', 'best')
    .action((options: { run: string; sparsity: string; name?: string; scope: 'global' | 'layer'; schedule: 'one-shot' | 'gradual'; steps: string; checkpoint: string }) =>
      helpers.withEngine(async (client, engine) => {
        const checkpoint = checkpointChoice(options.checkpoint)
        const { run: created, jobId } = await client.call('runs.prune', {
          name: options.run,
          ...defined({ into: options.name }),
          sparsity: number('--sparsity', options.sparsity)!,
          scope: options.scope,
          schedule: options.schedule,
          steps: integer('--steps', options.steps)!,
          checkpoint,
        })
        if (!jobId) helpers.fail(`run '${created.name}' did not start`)
        const run = await followTraining(client, engine, created.name, jobId, helpers)
        helpers.output(run, () => `${describeRun(run)}\n${describeSparsity(run)}`)
      }),
    )

  compress
    .command('report')
    .description('the run beside the models made from it: parameters, zeros, bytes, test BLEU/chrF (from kotoba eval), latency')
    .requiredOption('--run <run>', 'the original run')
    .option('--latency', 'also time a 20-word test sentence, beam 5, warm (median of five)')
    .action((options: { run: string; latency?: boolean }) =>
      helpers.withEngine(async (client) => {
        const report = await client.call('compress.report', { name: options.run, latency: !!options.latency })
        const score = (value: number | null) => (value === null ? '—' : value.toFixed(2))
        helpers.output(report, () =>
          [
            renderTable(
              ['run', 'kind', 'step', 'parameters', 'non-zero', 'bytes', 'BLEU', 'chrF', 'latency'],
              report.rows.map((row) => [
                row.run,
                row.kind === 'pruned' ? `pruned ${Math.round(100 * row.sparsity!)} %` : row.kind === 'distilled' ? `student (${row.corpus})` : row.kind,
                String(row.checkpointStep),
                row.parameters.toLocaleString('en-US'),
                row.nonZero.toLocaleString('en-US'),
                row.bytes.toLocaleString('en-US'),
                score(row.bleu),
                score(row.chrf),
                row.latencyMs === null ? '—' : `${row.latencyMs.toFixed(0)} ms`,
              ]),
            ),
            ...(report.rows.some((row) => row.bleu === null) ? ['BLEU/chrF —: not evaluated at that checkpoint yet (kotoba eval --run R --split test)'] : []),
          ].join('\n'),
        )
      }),
    )

  compress
    .command('distil')
    .description('sequence-level knowledge distillation (Kim & Rush 2016): a run translates its training split into a new corpus; --student trains on it')
    .requiredOption('--run <run>', 'the teacher: a trained translation run')
    .option('--corpus <name>', 'the new corpus (default: <corpus>-by-<run>)')
    .option('--checkpoint <step>', 'the teacher’s checkpoint (default: best)')
    .option('--beam <n>', 'beam size', '5')
    .option('--greedy', 'greedy decoding instead of beam search (faster)')
    .option('--limit <n>', 'translate at most this many training sentences')
    .option('--student <name>', 'then train a run of this name on the new corpus (the teacher’s model, tokenizers and training settings)')
    .option('--preset <name>', 'the student’s preset, e.g. tiny (default: the teacher’s model configuration)')
    .option('--max-steps <s>', 'the student’s updates (default: the teacher’s)')
    .action(
      (options: { run: string; corpus?: string; checkpoint?: string; beam: string; greedy?: boolean; limit?: string; student?: string; preset?: string; maxSteps?: string }) =>
        helpers.withEngine(async (client, engine) => {
          const teacher = await client.call('runs.show', { name: options.run })
          const started = await client.call('runs.distil', {
            name: options.run,
            ...defined({ into: options.corpus, checkpoint: integer('--checkpoint', options.checkpoint), limit: integer('--limit', options.limit) }),
            search: options.greedy ? 'greedy' : 'beam',
            beamSize: integer('--beam', options.beam)!,
          })
          await helpers.followJob(client, engine, started.jobId)
          const corpus = await client.call('corpus.show', { name: started.corpus })
          if (!options.student) {
            helpers.output(corpus, () => describeDistilled(corpus))
            return
          }
          const config = teacher.config
          const created = await client.call('runs.create', {
            name: options.student,
            model: config.model,
            corpus: corpus.name,
            tokenizer: config.tokenizer,
            tgtTokenizer: config.tgtTokenizer,
            ...(options.preset ? { preset: options.preset } : { ...defined({ preset: config.preset ?? undefined }), ...(config.seq2seq ? { seq2seq: config.seq2seq } : {}), ...(config.transformer ? { transformer: config.transformer } : {}) }),
            training: { ...config.training, ...defined({ maxSteps: integer('--max-steps', options.maxSteps) }) },
          } as Params<'runs.create'>)
          const { jobId } = await client.call('runs.start', { name: created.name })
          const run = await followTraining(client, engine, created.name, jobId, helpers)
          helpers.output({ corpus, run }, () => `${describeDistilled(corpus)}\n${describeRun(run)}`)
        }),
    )

  const runs = program.commands.find((c) => c.name() === 'runs')!
  runs
    .command('show')
    .description('a run: configuration, status, checkpoints and their validation scores')
    .argument('<run>')
    .action((name: string) =>
      helpers.withEngine(async (client) => {
        const run = await client.call('runs.show', { name })
        helpers.output(run, () =>
          [
            describeRun(run),
            `  config: ${JSON.stringify({ seq2seq: run.config.seq2seq, transformer: run.config.transformer, training: run.config.training })}`,
            ...(run.config.pruning ? [`  pruned from ${run.config.pruning.from.run} at step ${run.config.pruning.from.step}`, describeSparsity(run)] : []),
            ...(run.config.quantization ? [describeQuantization(run.config.quantization)] : []),
          ].join('\n'),
        )
      }),
    )

  runs
    .command('resume')
    .description('continue training from the last checkpoint (after a pause, a stop or a crash)')
    .argument('<run>')
    .option('--detach', 'train in the background and return at once')
    .action((name: string, options: { detach?: boolean }) =>
      helpers.withEngine(async (client, engine) => {
        if (options.detach) {
          await client.call('runs.show', { name })
          const pid = detach(name, helpers)
          helpers.output({ name, pid }, () => `training '${name}' in the background (pid ${pid})`)
          return
        }
        const { jobId } = await client.call('runs.start', { name })
        const run = await followTraining(client, engine, name, jobId, helpers)
        helpers.output(run, () => describeRun(run))
      }),
    )

  for (const [command, description] of [
    ['pause', 'save a checkpoint and pause (resume with `runs resume`)'],
    ['stop', 'save a checkpoint and stop'],
  ] as const) {
    runs
      .command(command)
      .description(description)
      .argument('<run>')
      .action((name: string) =>
        helpers.withEngine(async (client) => {
          const run = await client.call(command === 'pause' ? 'runs.pause' : 'runs.stop', { name })
          helpers.output(run, () => `${run.name}: ${run.status} at step ${run.step}`)
        }),
      )
  }

  runs
    .command('extend')
    .description('raise the step limit and continue training')
    .argument('<run>')
    .requiredOption('--steps <s>', 'additional steps')
    .option('--detach', 'train in the background and return at once')
    .action((name: string, options: { steps: string; detach?: boolean }) =>
      helpers.withEngine(async (client, engine) => {
        const steps = integer('--steps', options.steps)!
        if (options.detach) {
          const { maxSteps } = await client.call('runs.extend', { name, steps, start: false })
          const pid = detach(name, helpers)
          helpers.output({ name, maxSteps, pid }, () => `extended '${name}' to ${maxSteps} steps; training in the background (pid ${pid})`)
          return
        }
        const { jobId, maxSteps } = await client.call('runs.extend', { name, steps })
        if (!jobId) helpers.fail(`run '${name}' did not start`)
        if (!helpers.json()) process.stderr.write(`training '${name}' up to step ${maxSteps}\n`)
        const run = await followTraining(client, engine, name, jobId, helpers)
        helpers.output(run, () => describeRun(run))
      }),
    )

  runs
    .command('delete')
    .description('delete a run with its metrics and checkpoints')
    .argument('<run>')
    .action((name: string) =>
      helpers.withEngine(async (client) => {
        const result = await client.call('runs.delete', { name })
        if (!result.deleted) helpers.fail(`no run named '${name}'`)
        helpers.output(result, () => `deleted '${name}'`)
      }),
    )

  withSearchOptions(
    program
      .command('translate')
      .description('translate stdin, one sentence per line, with a trained run (n-best: "i ||| text ||| score")')
      .requiredOption('--run <run>', 'the run')
      .option('--checkpoint <step>', 'checkpoint step (default: the best)')
      .option('--average <k>', 'average the weights of the last K checkpoints')
      .option('--attention', 'also print each hypothesis attention matrix (JSON, on its own line)')
      .option('--all-heads', 'also print every layer and head of the best hypothesis (encoder self, decoder self, cross; one JSON line each)'),
  ).action((options: SearchFlags & { run: string; checkpoint?: string; average?: string; attention?: boolean; allHeads?: boolean }) =>
    helpers.withEngine(async (client) => {
      const lines = await helpers.stdinLines()
      if (lines.length === 0) helpers.fail('nothing to translate: give sentences on stdin, one per line')
      const result = await client.call('translate', {
        run: options.run,
        lines,
        attention: !!options.attention || helpers.json(),
        inspect: !!options.allHeads,
        ...defined({ checkpoint: integer('--checkpoint', options.checkpoint), average: integer('--average', options.average) }),
        ...searchOptions(options),
      })
      helpers.output(result, () =>
        result.results
          .flatMap((r, i) =>
            [
              ...r.hypotheses.flatMap((h) => {
                const text = r.hypotheses.length > 1 ? `${i} ||| ${h.text} ||| ${h.score.toFixed(4)}` : h.text
                return options.attention && h.attention ? [text, JSON.stringify({ src: r.srcPieces, tgt: h.pieces, weights: rounded(h.attention) })] : [text]
              }),
              ...(r.maps ?? []).map((m) => JSON.stringify({ kind: m.kind, layer: m.layer, head: m.head, rows: m.rowTokens, cols: m.colTokens, weights: rounded(m.weights) })),
            ],
          )
          .join('\n'),
      )
    }),
  )

  withSearchOptions(
    program
      .command('chat')
      .description('chat with an hred/vhred run: interactive on a terminal (/new, /resample, /distinct, /quit); else each stdin line is your next turn')
      .requiredOption('--run <run>', 'the dialogue run')
      .option('--checkpoint <step>', 'checkpoint step (default: the best)')
      .option('--script <file>', 'JSONL, each line a context (a JSON array of turns): one reply per line, nothing stored')
      .option('--latent-seed <n>', 'VHRED: seed of the latent sample z')
      .option('--self-chat <turns>', 'self-chat: two copies of the model (or --partner) talk for this many replies after the --opening turns; stored')
      .option('--opening <text>', 'self-chat: an opening turn (repeat for several)', (value: string, previous: string[] = []) => [...previous, value])
      .option('--partner <run>', 'self-chat: the run that speaks second (default: the same run)')
      .option('--seed <n>', 'sampling seed (self-chat: of the first reply; each later reply adds one)'),
  ).action((options: SearchFlags & { run: string; checkpoint?: string; script?: string; latentSeed?: string; selfChat?: string; opening?: string[]; partner?: string; seed?: string }) =>
    helpers.withEngine(async (client) => {
      const search = { ...searchOptions(options), ...defined({ latentSeed: integer('--latent-seed', options.latentSeed), seed: integer('--seed', options.seed) }) }
      const checkpoint = defined({ checkpoint: integer('--checkpoint', options.checkpoint) })
      if (options.selfChat !== undefined) {
        if (!options.opening?.length) helpers.fail('--self-chat needs at least one --opening turn', 2, 'usage')
        const chat = await client.call('chat.selfChat', { run: options.run, opening: options.opening, turns: integer('--self-chat', options.selfChat)!, ...defined({ partner: options.partner }), ...search })
        helpers.output(chat, () =>
          chat.history.map((t) => (t.meta['speaker'] ? `${String(t.meta['speaker'])} (${String(t.meta['run'])}): ${t.text}` : `opening: ${t.text}`)).join('\n'),
        )
        return
      }
      if (options.script) {
        const contexts = readFileSync(options.script, 'utf8')
          .split('\n')
          .map((line, i) => [line, i + 1] as const)
          .filter(([line]) => line.trim() !== '')
          .map(([line, number]) => {
            let turns: unknown
            try {
              turns = JSON.parse(line)
            } catch {
              return helpers.fail(`${options.script}:${number}: not JSON (each line is an array of turns)`)
            }
            if (!Array.isArray(turns) || turns.length === 0 || !turns.every((t) => typeof t === 'string')) return helpers.fail(`${options.script}:${number}: expected a non-empty array of strings`)
            return turns as string[]
          })
        const replies: (ChatReplyResult & { turns: string[] })[] = []
        for (const turns of contexts) replies.push({ turns, ...(await client.call('chat.reply', { run: options.run, turns, ...checkpoint, ...search })) })
        helpers.output({ run: options.run, replies }, () => replies.map((r) => r.replies[0]?.text ?? '').join('\n'))
        return
      }
      let chat = await client.call('chat.create', { run: options.run })
      const say = async (text: string) => {
        chat = await client.call('chat.say', { id: chat.id, text, ...search })
        return chat.history.at(-1)!.text
      }
      if (!process.stdin.isTTY) {
        for (const line of await helpers.stdinLines()) await say(line)
        helpers.output(chat, () => chat.history.map((t) => `${t.role === 'user' ? '>' : '<'} ${t.text}`).join('\n'))
        return
      }
      const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' })
      console.log(`Chatting with ${options.run} (conversation ${chat.id}). /new, /resample, /distinct, /quit`)
      rl.prompt()
      for await (const line of rl) {
        const text = line.trim()
        if (text === '/quit') break
        if (text === '/new') {
          chat = await client.call('chat.create', { run: options.run })
          console.log(`new conversation ${chat.id}`)
        } else if (text === '/resample') {
          chat = await client.call('chat.resample', { id: chat.id, ...search })
          console.log(`< ${chat.history.at(-1)?.text ?? ''}`)
        } else if (text === '/distinct') {
          const d = await client.call('chat.distinct', { id: chat.id })
          console.log(`distinct-1 ${d.distinct1.inter.toFixed(3)}, distinct-2 ${d.distinct2.inter.toFixed(3)} over ${d.replies} replies`)
        } else if (text) console.log(`< ${await say(text)}`)
        rl.prompt()
      }
      rl.close()
    }),
  )

  withSearchOptions(
    program
      .command('eval')
      .description('score a run on its dev or test split: BLEU, chrF and TER (sacreBLEU-exact, with signatures)')
      .requiredOption('--run <run>', 'the run')
      .addOption(new Option('--split <split>', 'which split').choices(['dev', 'test']).default('test'))
      .option('--checkpoint <step>', 'checkpoint step (default: the best)')
      .option('--average <k>', 'average the weights of the last K checkpoints')
      .option('--limit <n>', 'only the first N sentences')
      .option('--against <run>', 'also score this run on the same sentences and compare the two by paired bootstrap')
      .option('--against-checkpoint <step>', "the --against run's checkpoint (default: its best)")
      .option('--resamples <n>', 'paired bootstrap resamples (default 1000)'),
  ).action((options: SearchFlags & { run: string; split: 'dev' | 'test'; checkpoint?: string; average?: string; limit?: string; against?: string; againstCheckpoint?: string; resamples?: string }) =>
    helpers.withEngine(async (client) => {
      const result = await client.call('eval', {
        run: options.run,
        split: options.split,
        ...defined({
          checkpoint: integer('--checkpoint', options.checkpoint),
          average: integer('--average', options.average),
          limit: integer('--limit', options.limit),
          against: options.against,
          againstCheckpoint: integer('--against-checkpoint', options.againstCheckpoint),
          resamples: integer('--resamples', options.resamples),
        }),
        ...searchOptions(options),
      })
      const comparison = result.comparison
      helpers.output(result, () =>
        [
          `${result.run}, checkpoint ${result.checkpointStep}, ${result.split} (${result.sentences} sentences, ${result.seconds.toFixed(1)} s):`,
          renderTable(
            ['metric', 'score', 'signature'],
            result.scores.map((s) => [s.metric.toUpperCase(), s.score.toFixed(2), s.signature]),
          ),
          `loss ${result.loss.toFixed(4)}, perplexity ${result.perplexity.toFixed(2)}`,
          ...(comparison
            ? [
                '',
                `against ${comparison.against}, checkpoint ${comparison.againstCheckpoint}: paired bootstrap, ${comparison.resamples} resamples (difference = ${result.run} − ${comparison.against})`,
                renderTable(
                  ['metric', comparison.against, result.run, 'difference', '95% interval', 'p'],
                  comparison.metrics.map((m) => {
                    const digits = m.metric.startsWith('distinct') ? 4 : 2
                    return [m.metric.toUpperCase(), m.baseline.toFixed(digits), m.system.toFixed(digits), signed(m.difference, digits), `[${signed(m.low, digits)}, ${signed(m.high, digits)}]`, m.pValue.toFixed(3)]
                  }),
                ),
              ]
            : []),
        ].join('\n'),
      )
    }),
  )
}
