// Named starting points for runs, and how a create request becomes a complete stored configuration.
import { DialogueModelConfig, type CorpusKind, type ModelFamily, RunConfig, RunCreateParams, Seq2SeqModelConfig, TrainingConfig, TransformerModelConfig, type ModelKind } from '../../api/contract.ts'
import { english, message, type LocalText } from '../../api/messages.ts'
import { settingProblems } from '../../api/run-checks.ts'

interface Preset {
  description: LocalText
  seq2seq?: Partial<Seq2SeqModelConfig>
  transformer?: Partial<TransformerModelConfig>
  dialogue?: Partial<DialogueModelConfig>
  training: Partial<TrainingConfig>
}

const dialogueTraining: Partial<TrainingConfig> = { tokenBudget: 2048, lr: 1e-3, labelSmoothing: 0, bestMetric: 'dev/loss', maxTokens: 60, validSentences: 200 }

export const presets: Record<ModelKind, Record<string, Preset>> = {
  seq2seq: {
    tiny: {
      description: message('presetSeq2seqTiny'),
      seq2seq: { cell: 'gru', embeddingSize: 64, hiddenSize: 128, dropout: 0.1 },
      training: { tokenBudget: 1024, lr: 3e-3, validEvery: 100, checkpointEvery: 100, maxSteps: 600, labelSmoothing: 0 },
    },
    small: {
      description: message('presetSeq2seqSmall'),
      seq2seq: { cell: 'lstm', embeddingSize: 256, hiddenSize: 256 },
      training: { tokenBudget: 2048, lr: 1e-3 },
    },
  },
  transformer: {
    tiny: {
      description: message('presetTransformerTiny'),
      transformer: { dModel: 64, heads: 4, dFF: 256, encoderLayers: 2, decoderLayers: 2, dropout: 0.1, attentionDropout: 0 },
      training: { tokenBudget: 1024, lr: 2e-3, schedule: { kind: 'inverse-sqrt', warmup: 100 }, validEvery: 100, checkpointEvery: 100, maxSteps: 600 },
    },
    'base-small': {
      description: message('presetTransformerBaseSmall'),
      transformer: { dModel: 256, heads: 4, dFF: 1024, encoderLayers: 3, decoderLayers: 3 },
      training: { tokenBudget: 2048, lr: 5e-4, schedule: { kind: 'inverse-sqrt', warmup: 1000 } },
    },
    bench: {
      description: message('presetTransformerBench'),
      transformer: { dModel: 256, heads: 4, dFF: 1024, encoderLayers: 2, decoderLayers: 2 },
      training: { tokenBudget: 2048, lr: 5e-4, schedule: { kind: 'inverse-sqrt', warmup: 1000 } },
    },
  },
  hred: {
    tiny: {
      description: message('presetHredTiny'),
      dialogue: { embeddingSize: 64, utteranceHidden: 64, contextHidden: 128, decoderHidden: 128, dropout: 0.1, maxContext: 3 },
      training: { ...dialogueTraining, tokenBudget: 1024, lr: 3e-3, validEvery: 100, checkpointEvery: 100, maxSteps: 600 },
    },
    small: {
      description: message('presetHredSmall'),
      dialogue: { maxContext: 3 },
      training: dialogueTraining,
    },
  },
  vhred: {
    tiny: {
      description: message('presetVhredTiny'),
      dialogue: { embeddingSize: 64, utteranceHidden: 64, contextHidden: 128, decoderHidden: 128, latentSize: 32, wordDrop: 0.25, dropout: 0.1, maxContext: 3, klAnnealing: { kind: 'linear', steps: 300 } },
      training: { ...dialogueTraining, tokenBudget: 1024, lr: 3e-3, validEvery: 100, checkpointEvery: 100, maxSteps: 600 },
    },
    small: {
      description: message('presetVhredSmall'),
      dialogue: { latentSize: 64, wordDrop: 0.25, maxContext: 3, klAnnealing: { kind: 'linear', steps: 2000 } },
      training: dialogueTraining,
    },
  },
}

const isDialogue = (model: ModelKind) => model === 'hred' || model === 'vhred'

/** Preset values first, then the request's own values, then defaults (dialogue-corpus defaults for any run on one). Throws on an unknown preset. */
export function resolveRunConfig(params: RunCreateParams, corpusKind?: CorpusKind): RunConfig {
  const preset = params.preset ? presets[params.model][params.preset] : undefined
  if (params.preset && !preset) {
    throw new Error(`no ${params.model} preset named '${params.preset}' (available: ${Object.keys(presets[params.model]).join(', ')})`)
  }
  const training = TrainingConfig.parse({ ...(isDialogue(params.model) || corpusKind === 'dialogue' ? dialogueTraining : {}), ...preset?.training, ...params.training })
  const transformer = params.model === 'transformer' ? TransformerModelConfig.parse({ ...preset?.transformer, ...params.transformer }) : null
  if (transformer?.shareEmbeddings === 'all' && params.tgtTokenizer !== undefined && params.tgtTokenizer !== params.tokenizer) {
    throw new Error(`shareEmbeddings 'all' needs one joint tokenizer, but the source uses '${params.tokenizer}' and the target '${params.tgtTokenizer}'`)
  }
  const seq2seq = params.model === 'seq2seq' ? Seq2SeqModelConfig.parse({ ...preset?.seq2seq, ...params.seq2seq }) : null
  const problems = settingProblems({ seq2seq, transformer })
  if (problems.length > 0) throw new Error(problems.join('; '))
  return RunConfig.parse({
    model: params.model,
    corpus: params.corpus,
    tokenizer: params.tokenizer,
    tgtTokenizer: params.tgtTokenizer ?? params.tokenizer,
    preset: params.preset ?? null,
    seq2seq,
    transformer,
    dialogue: isDialogue(params.model) ? dialogueConfig(params.model, { ...preset?.dialogue, ...params.dialogue }) : null,
    training,
  })
}

/** hred has no latent variable; vhred needs one (64 unless given). */
function dialogueConfig(model: 'hred' | 'vhred', values: Partial<DialogueModelConfig>): DialogueModelConfig {
  if (model === 'hred' && values.latentSize) throw new Error(`hred has no latent variable (latentSize ${values.latentSize}); use --model vhred`)
  if (model === 'vhred' && values.latentSize === 0) throw new Error('vhred needs a latent variable (latentSize > 0); use --model hred for none')
  if (model === 'hred' && (values.freeBits || values.bowWeight)) throw new Error('free bits and the bag-of-words loss act on the latent variable: use --model vhred')
  return DialogueModelConfig.parse(model === 'vhred' ? { latentSize: 64, ...values } : { ...values, latentSize: 0 })
}

const families: Record<ModelKind, { title: string; description: LocalText; corpusKinds: CorpusKind[] }> = {
  seq2seq: { title: 'seq2seq (RNN + attention)', description: message('familySeq2seq'), corpusKinds: ['parallel', 'dialogue'] },
  transformer: { title: 'Transformer', description: message('familyTransformer'), corpusKinds: ['parallel', 'dialogue'] },
  hred: { title: 'HRED (dialogue)', description: message('familyHred'), corpusKinds: ['dialogue'] },
  vhred: { title: 'VHRED (dialogue)', description: message('familyVhred'), corpusKinds: ['dialogue'] },
}

/** Every model family with its presets resolved on each corpus kind it trains on (what runs.create would store). */
export function modelFamilies(): ModelFamily[] {
  return (Object.keys(families) as ModelKind[]).map((model) => ({
    model,
    ...families[model],
    description: english(families[model].description),
    descriptionText: families[model].description,
    presets: Object.entries(presets[model]).map(([name, preset]) => ({
      name,
      description: english(preset.description),
      descriptionText: preset.description,
      configs: families[model].corpusKinds.map((corpusKind) => {
        const config = resolveRunConfig({ name: 'preset', model, corpus: 'preset', tokenizer: 'preset', preset: name }, corpusKind)
        return { corpusKind, seq2seq: config.seq2seq, transformer: config.transformer, dialogue: config.dialogue, training: config.training }
      }),
    })),
  }))
}
