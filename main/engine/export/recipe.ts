// `kotoba export recipe`: a run's data, SentencePiece models and an equivalent Marian or OpenNMT-py config in one
// folder, to train the same model with an existing toolkit on a GPU cluster (docs/scale-out.md).
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { stringify } from 'yaml'
import { ApiError } from '../../api/contract.ts'
import { readModelProto } from '../../../models/tokenizer/model-proto.ts'
import type { Database } from '../store/database.ts'
import { findTokenizer, needsNfkc, tokenizerModel } from '../tokenizers/repository.ts'
import { splitPairs } from '../training/data.ts'
import type { StoredRun } from '../training/repository.ts'
import { marianConfig, openNmtConfig, type RecipeFiles } from './recipe-configs.ts'
import { writeWhole } from './write-whole.ts'

export type RecipeToolkit = 'marian' | 'opennmt-py'

export interface ExportedRecipe {
  path: string
  /** Written files, relative to `path`. */
  files: string[]
  notes: string[]
}

/** One sentence per line: a newline inside a sentence would shift every later line of one side. */
const asLines = (texts: readonly string[]): string => `${texts.map((text) => text.replace(/[\r\n]+/g, ' ')).join('\n')}\n`

export function exportRecipe(db: Database, run: StoredRun, toolkit: RecipeToolkit, out: string, force: boolean): ExportedRecipe {
  if (run.config.model !== 'seq2seq' && run.config.model !== 'transformer') {
    throw new ApiError({ code: 'bad_request', message: `run '${run.name}' is a ${run.config.model} dialogue model; Marian and OpenNMT-py recipes are for translation runs (seq2seq, transformer)` })
  }
  const dir = resolve(out)
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ApiError({ code: 'bad_request', message: `${dir} is a file; a recipe is a folder` })
  if (existsSync(dir) && readdirSync(dir).length > 0 && !force) {
    throw new ApiError({ code: 'conflict', message: `${dir} is not empty; choose another folder, or replace the recipe's files there with --force (force: true)` })
  }
  const config = run.config
  const notes: string[] = []
  const files: string[] = []
  const write = (relative: string, contents: string | Uint8Array): string => {
    mkdirSync(dirname(join(dir, relative)), { recursive: true })
    writeWhole(join(dir, relative), contents)
    files.push(relative)
    return relative
  }

  // Data: the run's splits as parallel text, one file per side.
  const nfkc = [config.tokenizer, config.tgtTokenizer].some((name) => needsNfkc(db, findTokenizer(db, name)!.id))
  if (nfkc) notes.push('The tokenizers were trained by an earlier version, which NFKC-normalised text itself: the data files are written NFKC-normalised.')
  const prepare = (text: string) => (nfkc ? text.normalize('NFKC') : text)
  const split = (name: 'train' | 'dev' | 'test'): [string, string] => {
    const pairs = splitPairs(db, config.corpus, name)
    return [write(`data/${name}.src`, asLines(pairs.map((p) => prepare(p.src)))), write(`data/${name}.tgt`, asLines(pairs.map((p) => prepare(p.tgt))))]
  }
  const train = split('train')
  const dev = split('dev')
  const test = split('test')

  // SentencePiece models, as they are (Marian takes .spm files), and OpenNMT-py vocabularies of their pieces.
  const joint = config.tokenizer === config.tgtTokenizer
  const side = (name: string, label: 'src' | 'tgt') => {
    const bytes = tokenizerModel(db, findTokenizer(db, name)!.id)
    const pieces = readModelProto(bytes).pieces
    const base = joint ? name : `${label}-${name}`
    const model = write(toolkit === 'marian' ? `spm/${base}.spm` : `spm/${base}.model`, bytes)
    const vocab = toolkit === 'opennmt-py' ? write(`spm/${base}.vocab`, asLines(pieces.filter((p) => p.type === 'normal' || p.type === 'user-defined' || p.type === 'byte').map((p) => `${p.piece}\t1`))) : ''
    return { model, vocab, size: pieces.length }
  }
  const src = side(config.tokenizer, 'src')
  const tgt = joint ? src : side(config.tgtTokenizer, 'tgt')
  const recipeFiles: RecipeFiles = { train, dev, test, srcModel: src.model, tgtModel: tgt.model, srcVocab: src.vocab, tgtVocab: tgt.vocab, joint, srcVocabSize: src.size, tgtVocabSize: tgt.size }

  const mapped = toolkit === 'marian' ? marianConfig(config, recipeFiles) : openNmtConfig(config, recipeFiles)
  notes.push(...mapped.notes)
  const header = `# ${toolkit === 'marian' ? 'Marian' : 'OpenNMT-py'} recipe for Kotoba Workbench run '${run.name}' (${config.model} on ${config.corpus}). See NOTES.md.\n`
  const configFile = write(toolkit === 'marian' ? 'marian.yml' : 'opennmt.yaml', header + stringify(mapped.config))
  const commands =
    toolkit === 'marian'
      ? [`marian -c ${configFile}`, `marian-decoder -m model/model.npz -v ${src.model} ${tgt.model} --beam-size 5 --normalize 0.6 < ${test[0]} > test.hyp`]
      : [`onmt_train -config ${configFile}`, `onmt_translate -model model/model_step_${config.training.maxSteps}.pt -src ${test[0]} -output test.hyp -beam_size 5 -length_penalty wu -alpha 0.6 -transforms sentencepiece -src_subword_model ${src.model} -tgt_subword_model ${tgt.model}`]
  write('train.sh', `#!/bin/sh\n# Train, then translate the test split; score test.hyp against ${test[1]} with sacrebleu.\nset -e\n${commands.join('\n')}\n`)
  write(
    'NOTES.md',
    [
      `# ${run.name}: ${toolkit} recipe`,
      '',
      `Exported from Kotoba Workbench: run '${run.name}' (${config.model}), corpus '${config.corpus}', tokenizer${joint ? ` '${config.tokenizer}' (joint)` : `s '${config.tokenizer}' → '${config.tgtTokenizer}'`}.`,
      'The architecture, sizes, optimiser and schedule match the run; what does not map exactly:',
      '',
      ...notes.map((note) => `- ${note}`),
      '',
    ].join('\n'),
  )
  return { path: dir, files, notes }
}
