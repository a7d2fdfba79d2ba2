// `kotoba w2v`: train word2vec on a corpus, query and evaluate the vectors, move them in and out as files.
import { spawn } from 'node:child_process'
import { Option, type Command } from 'commander'
import type { KotobaClient, Params, Word2VecDetail } from '../api/contract.ts'
import type { Engine } from '../engine/engine.ts'
import { integer, number } from './flags.ts'
import { ProgressBar } from './progress.ts'
import { renderTable } from './table.ts'
import type { CliHelpers } from './training.ts'
import { onStopSignal } from './signals.ts'

function describe(run: Word2VecDetail): string {
  const rows = run.epochLog.map((e) => [
    String(e.epoch),
    e.loss === null ? '' : e.loss.toFixed(4),
    e.wordsPerSecond === null ? '' : Math.round(e.wordsPerSecond).toLocaleString('en-US'),
    e.analogy === null ? '' : `${e.analogy.toFixed(2)} %`,
    e.spearman === null ? '' : e.spearman.toFixed(3),
  ])
  return [
    `${run.name}: ${run.method}${run.corpus ? ` on ${run.corpus}` : ''} — ${run.status}${run.source === 'trained' ? `, epoch ${run.epoch} of ${run.epochs}` : ''}; ${run.vocab.toLocaleString('en-US')} words × ${run.dim}`,
    ...(run.error ? [`  note: ${run.error}`] : []),
    ...(rows.length ? [renderTable(['epoch', 'loss', 'words/s', 'analogy', 'spearman'], rows)] : []),
  ].join('\n')
}

/** Follows a training job: a progress bar with words/s and ETA, a line per epoch; Ctrl-C pauses after the last epoch. */
async function follow(client: KotobaClient, engine: Engine, name: string, jobId: string, helpers: CliHelpers): Promise<Word2VecDetail> {
  const bar = !helpers.json() && process.stderr.isTTY ? new ProgressBar(process.stderr) : null
  const offProgress = client.on('job.progress', (job) => {
    if (job.jobId === jobId) bar?.update(job)
  })
  const offMetrics = client.on('run.metrics', (data) => {
    if (data.name !== name || helpers.json()) return
    const value = (metric: string) => data.points.find((p) => p.metric === metric)?.value
    const epoch = data.points[0]?.step
    const analogy = value('eval/analogy')
    const spearman = value('eval/spearman')
    process.stderr.write(
      `\repoch ${epoch}: loss ${value('train/loss')?.toFixed(4)}, ${Math.round(value('train/words_per_s') ?? 0).toLocaleString('en-US')} words/s` +
        `${analogy === undefined ? '' : `, analogy ${analogy.toFixed(2)} %`}${spearman === undefined ? '' : `, spearman ${spearman.toFixed(3)}`}\x1b[K\n`,
    )
  })
  const onInterrupt = (): void => {
    process.stderr.write('\npausing (finished epochs are kept; resume with `kotoba w2v resume`)…\n')
    void client.call('w2v.pause', { name }).catch(() => undefined)
  }
  const offSignals = onStopSignal(onInterrupt)
  try {
    const final = await engine.jobs.wait(jobId)
    bar?.finish(final)
    if (final.status === 'failed') helpers.fail(final.error ?? 'training failed', 1, final.errorCode ?? 'failed')
    return await client.call('w2v.show', { name })
  } finally {
    offProgress()
    offMetrics()
    offSignals()
  }
}

interface TrainFlags {
  corpus: string
  name: string
  sg?: boolean
  cbow?: boolean
  hs?: boolean
  dim?: string
  window?: string
  negative?: string
  minCount?: string
  maxVocab?: string
  sample?: string
  alpha?: string
  epochs?: string
  threads?: string
  seed?: string
  side?: 'src' | 'tgt' | 'joint'
  lowercase: boolean
  analogies?: string
  similarity?: string
  eval: boolean
  detach?: boolean
}

function trainParams(flags: TrainFlags): Params<'w2v.train'> {
  if (flags.sg && flags.cbow) throw new Error('choose one of --sg and --cbow')
  const negative = integer('--negative', flags.negative) ?? (flags.hs ? 0 : undefined) // --hs alone: hierarchical softmax only, as word2vec.c -hs 1
  const params: Params<'w2v.train'> = {
    name: flags.name,
    corpus: flags.corpus,
    architecture: flags.cbow ? 'cbow' : 'skipgram',
    hs: !!flags.hs,
    lowercase: flags.lowercase,
    ...(negative !== undefined && { negative }),
    ...(flags.side && { side: flags.side }),
  }
  const numbers: [keyof Params<'w2v.train'>, number | undefined][] = [
    ['dim', integer('--dim', flags.dim)],
    ['window', integer('--window', flags.window)],
    ['minCount', integer('--min-count', flags.minCount)],
    ['maxVocab', integer('--max-vocab', flags.maxVocab)],
    ['sample', number('--sample', flags.sample)],
    ['alpha', number('--alpha', flags.alpha)],
    ['epochs', integer('--epochs', flags.epochs)],
    ['threads', integer('--threads', flags.threads)],
    ['seed', integer('--seed', flags.seed)],
  ]
  for (const [key, value] of numbers) if (value !== undefined) Object.assign(params, { [key]: value })
  if (!flags.eval) Object.assign(params, { analogies: null, similarity: null })
  else {
    if (flags.analogies) params.analogies = flags.analogies
    if (flags.similarity) params.similarity = flags.similarity
  }
  return params
}

export function registerWord2VecCommands(program: Command, helpers: CliHelpers): void {
  const w2v = program.command('w2v').description('train and query word2vec embeddings')

  w2v
    .command('train')
    .description('train word2vec on a corpus (all cores, Hogwild); Ctrl-C pauses after the last finished epoch')
    .requiredOption('--corpus <name>', 'corpus to train on')
    .requiredOption('--name <name>', 'name of the embeddings')
    .option('--sg', 'skip-gram (the default)')
    .option('--cbow', 'continuous bag of words')
    .option('--hs', 'hierarchical softmax (alone unless --negative is given too)')
    .option('--dim <d>', 'vector size (default 100)')
    .option('--window <w>', 'context window, shrunk at random per word (default 5)')
    .option('--negative <k>', 'negative samples (default 5; 0 with --hs)')
    .option('--min-count <c>', 'ignore words seen fewer times (default 5)')
    .option('--max-vocab <n>', 'keep only the n most frequent words')
    .option('--sample <t>', 'subsampling threshold for frequent words (default 1e-3; 0 off)')
    .option('--alpha <a>', 'start learning rate (default 0.025 skip-gram, 0.05 CBOW)')
    .option('--epochs <e>', 'passes over the corpus (default 5)')
    .option('--threads <p>', 'worker threads (default: all cores; 1 is exactly reproducible)')
    .option('--seed <s>', 'random seed (default 1)')
    .addOption(new Option('--side <side>', 'text of a parallel corpus').choices(['src', 'tgt', 'joint']))
    .option('--no-lowercase', 'keep the case of words')
    .option('--analogies <file>', 'analogy questions evaluated after each epoch (default: the bundled WordNet set)')
    .option('--similarity <file>', 'word-pair ratings evaluated after each epoch (default: the bundled WordNet set)')
    .option('--no-eval', 'no evaluation after each epoch')
    .option('--detach', 'train in the background and return at once')
    .action((flags: TrainFlags) =>
      helpers.withEngine(async (client, engine) => {
        const { jobId } = await client.call('w2v.train', { ...trainParams(flags), start: !flags.detach })
        if (!jobId) {
          // Created here, trained by a detached `w2v resume` that outlives this command.
          const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...helpers.databaseArgs(), 'w2v', 'resume', flags.name], { detached: true, stdio: 'ignore' })
          child.unref()
          helpers.output({ name: flags.name, detached: true, pid: child.pid ?? null }, () => `training ${flags.name} in the background (pid ${child.pid}); follow it with \`kotoba w2v show ${flags.name}\``)
          return
        }
        const run = await follow(client, engine, flags.name, jobId, helpers)
        helpers.output(run, () => describe(run))
      }),
    )

  w2v
    .command('resume <name>')
    .description('continue training from the last finished epoch')
    .action((name: string) =>
      helpers.withEngine(async (client, engine) => {
        const { jobId } = await client.call('w2v.resume', { name })
        const run = await follow(client, engine, name, jobId, helpers)
        helpers.output(run, () => describe(run))
      }),
    )

  w2v
    .command('list')
    .description('list word2vec embeddings')
    .action(() =>
      helpers.withEngine(async (client) => {
        const runs = await client.call('w2v.list', {})
        helpers.output({ embeddings: runs }, () =>
          runs.length === 0
            ? 'no embeddings yet: kotoba w2v train --corpus N --name E'
            : renderTable(['name', 'method', 'status', 'epoch', 'words', 'dim', 'corpus'], runs.map((r) => [r.name, r.method, r.status, r.source === 'trained' ? `${r.epoch}/${r.epochs}` : '–', String(r.vocab), String(r.dim), r.corpus ?? ''])),
        )
      }),
    )

  w2v
    .command('show <name>')
    .description('configuration, status and per-epoch loss, words/s and evaluation')
    .action((name: string) =>
      helpers.withEngine(async (client) => {
        const run = await client.call('w2v.show', { name })
        helpers.output(run, () => describe(run))
      }),
    )

  w2v
    .command('pause <name>')
    .description('pause a training after its last finished epoch (also one that another process runs); resume continues it')
    .action((name: string) =>
      helpers.withEngine(async (client) => {
        const result = await client.call('w2v.pause', { name })
        helpers.output(result, () => `${name}: ${result.status} at epoch ${result.epoch}/${result.epochs}`)
      }),
    )

  w2v
    .command('delete <name>')
    .description('delete embeddings with every stored epoch')
    .action((name: string) =>
      helpers.withEngine(async (client) => {
        const result = await client.call('w2v.delete', { name })
        helpers.output(result, () => (result.deleted ? `deleted ${name}` : `no embeddings named ${name}`))
      }),
    )

  const epochOption = (command: Command) => command.option('--epoch <n>', 'vectors of this epoch (default: the last)')

  epochOption(
    w2v
      .command('neighbors <word>')
      .description('nearest neighbours by cosine similarity')
      .requiredOption('--name <name>', 'embeddings')
      .option('-k, --k <k>', 'how many (default 10)'),
  ).action((word: string, flags: { name: string; k?: string; epoch?: string }) =>
    helpers.withEngine(async (client) => {
      const result = await client.call('w2v.neighbors', { name: flags.name, word, ...(flags.k && { k: integer('-k', flags.k) }), ...(flags.epoch && { epoch: integer('--epoch', flags.epoch) }) })
      helpers.output(result, () => renderTable(['neighbour', 'cosine'], result.neighbours.map((n) => [n.word, n.similarity.toFixed(4)])))
    }),
  )

  epochOption(
    w2v
      .command('analogy <a> <b> <c>')
      .description('a is to b as c is to …? (3CosAdd, or 3CosMul with --method mul)')
      .requiredOption('--name <name>', 'embeddings')
      .addOption(new Option('--method <m>', 'scoring').choices(['add', 'mul']).default('add'))
      .option('-k, --k <k>', 'how many answers (default 10)'),
  ).action((a: string, b: string, c: string, flags: { name: string; method: 'add' | 'mul'; k?: string; epoch?: string }) =>
    helpers.withEngine(async (client) => {
      const result = await client.call('w2v.analogy', { name: flags.name, a, b, c, method: flags.method, ...(flags.k && { k: integer('-k', flags.k) }), ...(flags.epoch && { epoch: integer('--epoch', flags.epoch) }) })
      helpers.output(result, () => renderTable(['answer', 'score'], result.answers.map((n) => [n.word, n.similarity.toFixed(4)])))
    }),
  )

  epochOption(
    w2v
      .command('similarity <first> <second>')
      .description('cosine similarity of two words')
      .requiredOption('--name <name>', 'embeddings'),
  ).action((first: string, second: string, flags: { name: string; epoch?: string }) =>
    helpers.withEngine(async (client) => {
      const result = await client.call('w2v.similarity', { name: flags.name, first, second, ...(flags.epoch && { epoch: integer('--epoch', flags.epoch) }) })
      helpers.output(result, () => result.similarity.toFixed(4))
    }),
  )

  epochOption(
    w2v
      .command('odd-one-out <words...>')
      .description('the word least like the others')
      .requiredOption('--name <name>', 'embeddings'),
  ).action((words: string[], flags: { name: string; epoch?: string }) =>
    helpers.withEngine(async (client) => {
      const result = await client.call('w2v.oddOneOut', { name: flags.name, words, ...(flags.epoch && { epoch: integer('--epoch', flags.epoch) }) })
      helpers.output(result, () => result.word)
    }),
  )

  epochOption(
    w2v
      .command('eval')
      .description('analogy accuracy per section and Spearman correlation (default: the bundled WordNet sets)')
      .requiredOption('--name <name>', 'embeddings')
      .option('--analogies <file>', 'questions-words.txt-format analogies')
      .option('--similarity <file>', "word-pair file: 'word1 word2 rating' per line")
      .addOption(new Option('--method <m>', 'analogy scoring').choices(['add', 'mul']).default('add'))
      .option('--restrict-vocab <n>', 'only the n most frequent words as question words and answers'),
  ).action((flags: { name: string; analogies?: string; similarity?: string; method: 'add' | 'mul'; restrictVocab?: string; epoch?: string }) =>
    helpers.withEngine(async (client) => {
      const result = await client.call('w2v.eval', {
        name: flags.name,
        method: flags.method,
        ...(flags.analogies && { analogies: flags.analogies }),
        ...(flags.similarity && { similarity: flags.similarity }),
        ...(flags.restrictVocab && { restrictVocab: integer('--restrict-vocab', flags.restrictVocab) }),
        ...(flags.epoch && { epoch: integer('--epoch', flags.epoch) }),
      })
      helpers.output(result, () => {
        const parts: string[] = [`${result.name}, epoch ${result.epoch}`]
        if (result.analogy) {
          const row = (s: typeof result.analogy.total) => [s.section, `${(100 * s.accuracy).toFixed(2)} %`, String(s.correct), String(s.evaluated), String(s.skipped)]
          parts.push(`analogies (${result.analogies}, 3Cos${result.analogy.method === 'add' ? 'Add' : 'Mul'}):`)
          parts.push(renderTable(['section', 'accuracy', 'correct', 'evaluated', 'skipped (unknown word)'], [...result.analogy.sections.map(row), row(result.analogy.total)]))
        }
        if (result.similarity) {
          parts.push(`similarity (${result.similarityFile}): Spearman ${result.similarity.spearman?.toFixed(4) ?? 'n/a'}, Pearson ${result.similarity.pearson?.toFixed(4) ?? 'n/a'} over ${result.similarity.evaluated} pairs (${result.similarity.skipped} skipped: unknown word)`)
        }
        return parts.join('\n')
      })
    }),
  )

  epochOption(
    w2v
      .command('export')
      .description('write the vectors as word2vec text or binary (gensim reads both) or projector TSV files')
      .requiredOption('--name <name>', 'embeddings')
      .addOption(new Option('--format <f>', 'file format').choices(['word2vec', 'word2vec-bin', 'projector']).makeOptionMandatory())
      .requiredOption('--out <path>', 'file (word2vec formats) or folder (projector: vectors.tsv and metadata.tsv)')
      .option('--force', 'replace existing files'),
  ).action((flags: { name: string; format: 'word2vec' | 'word2vec-bin' | 'projector'; out: string; epoch?: string; force?: boolean }) =>
    helpers.withEngine(async (client) => {
      const result = await client.call('w2v.export', { name: flags.name, format: flags.format, out: flags.out, force: !!flags.force, ...(flags.epoch && { epoch: integer('--epoch', flags.epoch) }) })
      helpers.output(result, () => `wrote ${result.words} words × ${result.dim} to ${result.files.join(' and ')}`)
    }),
  )

  w2v
    .command('from-run <run>')
    .description("a translation or dialogue run's embedding table as an embedding set (one vector per piece)")
    .requiredOption('--name <name>', 'name of the embeddings')
    .addOption(new Option('--side <side>', 'which embedding table').choices(['source', 'target']).default('source'))
    .option('--checkpoint <step>', 'checkpoint (default: the best)')
    .action((run: string, flags: { name: string; side: 'source' | 'target'; checkpoint?: string }) =>
      helpers.withEngine(async (client) => {
        const result = await client.call('w2v.fromRun', { name: flags.name, run, side: flags.side, ...(flags.checkpoint && { checkpoint: integer('--checkpoint', flags.checkpoint) }) })
        helpers.output(result, () => `stored ${result.vocab.toLocaleString('en-US')} pieces × ${result.dim} as ${result.name} (${result.method})`)
      }),
    )

  w2v
    .command('import <file>')
    .description('import word2vec text or binary vectors or GloVe text (streamed: any size), or projector files (vectors.tsv with its metadata.tsv, or their folder; extra metadata columns such as part of speech colour the projector)')
    .requiredOption('--name <name>', 'name of the embeddings')
    .addOption(new Option('--format <f>', 'file format (default: detected)').choices(['word2vec', 'word2vec-bin', 'glove', 'projector']))
    .option('--max-vocab <n>', 'keep only the first N words (the commonest: vector files are sorted by frequency)')
    .action((file: string, flags: { name: string; format?: 'word2vec' | 'word2vec-bin' | 'glove' | 'projector'; maxVocab?: string }) =>
      helpers.withEngine(async (client) => {
        const result = await client.call('w2v.import', { name: flags.name, file, ...(flags.format && { format: flags.format }), ...(flags.maxVocab && { maxVocab: integer('--max-vocab', flags.maxVocab) }) })
        helpers.output(result, () => `imported ${result.vocab.toLocaleString('en-US')} words × ${result.dim} as ${result.name}`)
      }),
    )
}
