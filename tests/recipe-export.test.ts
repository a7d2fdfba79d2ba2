// kotoba export recipe: a run's splits, SentencePiece models and an equivalent Marian or OpenNMT-py config. The files
// are checked as those toolkits read them: YAML configs, line-aligned text, and models spm_encode loads.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { parse } from 'yaml'
import { Random } from '../models/core/random.ts'
import { learningRate } from '../models/train/schedules.ts'
import { Engine } from '../main/engine/engine.ts'
import { defaultWorkerEntry } from '../main/engine/runtime.ts'
import { splitPairs } from '../main/engine/training/data.ts'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'

const dir = tempDir({ after })
const dbPath = join(dir, 'kotoba.db')
let engine: Engine

before(async () => {
  engine = await Engine.open({ dbPath, loadSample: false, worker: defaultWorkerEntry() })
  const random = new Random(3)
  const words = ['in', 'the', 'beginning', 'god', 'created', 'heaven', 'earth', 'light']
  const lines = Array.from({ length: 300 }, () => {
    const sentence = Array.from({ length: 3 + random.integer(6) }, () => words[random.integer(words.length)]!)
    return `${sentence.join(' ')}\t${sentence.map((w) => w.toUpperCase()).join(' ')}`
  })
  const file = join(dir, 'pairs.tsv')
  writeFileSync(file, `${lines.join('\n')}\n`)
  const wait = async (started: unknown) => assert.equal((await engine.jobs.wait((started as { jobId: string }).jobId)).status, 'done')
  await wait(await engine.handle('corpus.import', { name: 'pairs', files: [file] }))
  await engine.handle('corpus.split', { name: 'pairs', dev: 20, test: 20, seed: 1 })
  await wait(await engine.handle('tokenizer.train', { corpus: 'pairs', name: 'joint', type: 'bpe', vocabSize: 80 }))
  await wait(await engine.handle('tokenizer.train', { corpus: 'pairs', name: 'src-uni', type: 'unigram', vocabSize: 60, side: 'src' }))
  await wait(await engine.handle('tokenizer.train', { corpus: 'pairs', name: 'tgt-uni', type: 'unigram', vocabSize: 60, side: 'tgt' }))
  await engine.handle('runs.create', {
    name: 'tf',
    model: 'transformer',
    corpus: 'pairs',
    tokenizer: 'joint',
    transformer: { dModel: 64, heads: 4, dFF: 256, encoderLayers: 3, decoderLayers: 2, dropout: 0.2, attentionDropout: 0.1, norm: 'pre', shareEmbeddings: 'all' },
    training: { maxSteps: 5000, lr: 7e-4, schedule: { kind: 'inverse-sqrt', warmup: 400 }, labelSmoothing: 0.1, tokenBudget: 3000, validEvery: 500, checkpointEvery: 500 },
  })
  await engine.handle('runs.create', {
    name: 'gru',
    model: 'seq2seq',
    corpus: 'pairs',
    tokenizer: 'src-uni',
    tgtTokenizer: 'tgt-uni',
    seq2seq: { cell: 'gru', embeddingSize: 48, hiddenSize: 64, attention: 'luong', inputFeeding: true, bidirectional: true, dropout: 0.3 },
    training: { maxSteps: 1200, lr: 2e-3, schedule: { kind: 'inverse-sqrt', warmup: 100 }, accumulate: 2 },
  })
})

after(async () => {
  await engine?.close()
})

const lines = (path: string) => readFileSync(path, 'utf8').replace(/\n$/, '').split('\n')

test('a Transformer run as a Marian recipe: aligned splits, its SentencePiece model, and the same architecture and schedule', async (t) => {
  const out = join(tempDir(t), 'marian')
  const result = (await engine.handle('runs.exportRecipe', { name: 'tf', to: 'marian', out })) as { path: string; files: string[]; notes: string[] }
  assert.deepEqual(result.files.sort(), ['NOTES.md', 'data/dev.src', 'data/dev.tgt', 'data/test.src', 'data/test.tgt', 'data/train.src', 'data/train.tgt', 'marian.yml', 'spm/joint.spm', 'train.sh'])
  for (const split of ['train', 'dev', 'test'] as const) {
    const pairs = splitPairs(engine.db, 'pairs', split)
    assert.deepEqual(lines(join(out, `data/${split}.src`)), pairs.map((p) => p.src))
    assert.deepEqual(lines(join(out, `data/${split}.tgt`)), pairs.map((p) => p.tgt))
  }
  const config = parse(readFileSync(join(out, 'marian.yml'), 'utf8')) as Record<string, unknown>
  assert.deepEqual(
    { type: config['type'], dim: config['dim-emb'], enc: config['enc-depth'], dec: config['dec-depth'], heads: config['transformer-heads'], ffn: config['transformer-dim-ffn'] },
    { type: 'transformer', dim: 64, enc: 3, dec: 2, heads: 4, ffn: 256 },
  )
  assert.equal(config['tied-embeddings-all'], true)
  assert.deepEqual([config['transformer-preprocess'], config['transformer-postprocess']], ['n', 'da'], 'pre-LN')
  assert.deepEqual([config['transformer-dropout'], config['transformer-dropout-attention'], config['label-smoothing']], [0.2, 0.1, 0.1])
  assert.deepEqual([config['learn-rate'], config['lr-warmup'], config['lr-decay-inv-sqrt']], [7e-4, 400, 400])
  assert.deepEqual([config['after'], config['valid-freq'], config['save-freq'], config['mini-batch-words']], ['5000u', '500u', '500u', 3000])
  assert.deepEqual(config['vocabs'], ['spm/joint.spm', 'spm/joint.spm'])
  assert.deepEqual(config['train-sets'], ['data/train.src', 'data/train.tgt'])
  assert.match(readFileSync(join(out, 'train.sh'), 'utf8'), /marian -c marian\.yml/)

  // The model file is the tokenizer itself: spm_encode on the exported dev data gives the workbench's ids.
  const dev = lines(join(out, 'data/dev.src'))
  const spmIds = execFileSync('spm_encode', [`--model=${join(out, 'spm/joint.spm')}`, '--output_format=id'], { input: `${dev.join('\n')}\n`, encoding: 'utf8' }).trimEnd().split('\n').map((line) => line.split(' ').map(Number))
  const ours = (await engine.handle('tokenizer.encode', { name: 'joint', lines: dev })) as { ids: number[][] }
  assert.deepEqual(spmIds, ours.ids)

  await assert.rejects(engine.handle('runs.exportRecipe', { name: 'tf', to: 'marian', out }), /is not empty; choose another folder, or replace the recipe's files there with --force/)
  await engine.handle('runs.exportRecipe', { name: 'tf', to: 'marian', out, force: true })
})

test('a GRU seq2seq run with its own source and target tokenizers as an OpenNMT-py recipe; what Marian cannot express is noted', async (t) => {
  const out = join(tempDir(t), 'onmt')
  const result = (await engine.handle('runs.exportRecipe', { name: 'gru', to: 'opennmt-py', out })) as { files: string[]; notes: string[] }
  assert.ok(result.files.includes('spm/src-src-uni.model') && result.files.includes('spm/tgt-tgt-uni.model'))
  const config = parse(readFileSync(join(out, 'opennmt.yaml'), 'utf8')) as Record<string, unknown>
  assert.deepEqual(
    [config['encoder_type'], config['decoder_type'], config['rnn_type'], config['global_attention'], config['input_feed'], config['hidden_size'], config['word_vec_size']],
    ['brnn', 'rnn', 'GRU', 'general', 1, 64, 48],
  )
  assert.deepEqual(config['dropout'], [0.3])
  assert.deepEqual(config['accum_count'], [2])
  assert.equal(config['share_vocab'], false)
  assert.deepEqual((config['data'] as Record<string, { path_src: string }>)['corpus_1']!.path_src, 'data/train.src')
  assert.equal(config['src_subword_model'], 'spm/src-src-uni.model')
  // OpenNMT-py's noam schedule, with the exported learning rate, is our inverse-square-root curve step for step.
  assert.equal(config['decay_method'], 'noam')
  const onmtLr = (step: number) => (config['learning_rate'] as number) * 64 ** -0.5 * Math.min(step ** -0.5, step * (config['warmup_steps'] as number) ** -1.5)
  for (const step of [1, 50, 100, 400, 1200]) {
    const ours = learningRate({ kind: 'inverse-sqrt', warmup: 100 }, 2e-3, step)
    assert.ok(Math.abs(onmtLr(step) - ours) < 1e-12, `step ${step}: ${onmtLr(step)} vs ${ours}`)
  }
  // The vocabulary lists the model's normal pieces, one per line with a count.
  const vocab = lines(join(out, 'spm/src-src-uni.vocab'))
  assert.ok(vocab.length > 20 && vocab.every((line) => /^\S+\t1$/.test(line)) && !vocab.some((line) => line.startsWith('<unk>')))

  const marian = (await engine.handle('runs.exportRecipe', { name: 'gru', to: 'marian', out: join(tempDir(t), 'marian') })) as { notes: string[] }
  assert.ok(marian.notes.some((note) => /always uses Bahdanau \(MLP\) attention; this run uses luong attention/.test(note)))
  assert.ok(readFileSync(join(out, 'NOTES.md'), 'utf8').includes('onmt_build_vocab'))
})

test('kotoba export recipe from the CLI', (t) => {
  const out = join(tempDir(t), 'cli')
  const result = runCli(['--db', dbPath, '--json', 'export', 'recipe', '--run', 'tf', '--to', 'opennmt-py', '--out', out])
  assert.equal(result.status, 0, result.stderr)
  const exported = parseJsonOutput<{ path: string; files: string[] }>(result)
  assert.equal(exported.path, out)
  const config = parse(readFileSync(join(out, 'opennmt.yaml'), 'utf8')) as Record<string, unknown>
  assert.deepEqual([config['encoder_type'], config['share_embeddings'], config['share_vocab'], config['position_encoding']], ['transformer', true, true, true])
  const bad = runCli(['--db', dbPath, '--json', 'export', 'recipe', '--run', 'tf', '--to', 'fairseq', '--out', out])
  assert.notEqual(bad.status, 0)
})
