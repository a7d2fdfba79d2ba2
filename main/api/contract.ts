// The one API contract shared by the engine, the Electron preload and the browser client.
// Every request is validated against `params` at the engine boundary; `result` documents
// (and types) what comes back. Events are pushed by the engine to every connected client.
import { z } from 'zod'
import { limits, Name, Text } from './limits.ts'
import { LocalText } from './messages.ts'
import { Word2VecStatus, word2vecMethods } from './word2vec-contract.ts'

// ---- shared shapes -------------------------------------------------------------------------

export const BackendName = z.enum(['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'])
export type BackendName = z.infer<typeof BackendName>

export const BackendAttempt = z.object({
  name: BackendName,
  status: z.enum(['active', 'available', 'failed', 'skipped', 'not-tried']),
  /** In English (CLI, logs); `detailText` is the same for the UI to translate. */
  detail: z.string(),
  detailText: LocalText.optional(),
})
export type BackendAttempt = z.infer<typeof BackendAttempt>

/** The WebGPU adapter Dawn offered (used, or skipped as software-only): what the kernels may rely on. */
export const GpuAdapter = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  /** A software rasteriser (SwiftShader, llvmpipe): correct but slow. */
  software: z.boolean(),
  subgroupSizes: z.object({ min: z.number().int(), max: z.number().int() }).nullable(),
  features: z.array(z.string()),
  /** Every numeric limit (maxStorageBuffersPerShaderStage, maxBufferSize, maxComputeWorkgroupStorageSize, …). */
  limits: z.record(z.string(), z.number()),
})
export type GpuAdapter = z.infer<typeof GpuAdapter>

/** The limits that decide what our compute shaders can do, as the Devices panel and `kotoba info` list them first. */
export const computeLimitNames = [
  'maxStorageBuffersPerShaderStage',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
] as const

/** The newest training measured on a device: its run and the tokens per second of its latest log window. */
export const DeviceThroughput = z.object({
  run: z.string(),
  backend: BackendName,
  device: z.string(),
  tokensPerSecond: z.number(),
  step: z.number().int(),
  at: z.string(),
})
export type DeviceThroughput = z.infer<typeof DeviceThroughput>

export const ComputeReport = z.object({
  active: BackendName.nullable(),
  /** What the active backend computes on: the GPU adapter's name, or the CPU's model. */
  device: z.string().nullable(),
  adapter: GpuAdapter.nullable(),
  /** The last run that trained on the active backend and device (null: none yet). */
  lastRun: DeviceThroughput.nullable(),
  /** The user's cap on the memory of the active backend's tensors, and the variable that set it (null: none). */
  memoryLimit: z.object({ bytes: z.number().int(), variable: z.string() }).nullable(),
  forced: BackendName.nullable(),
  reason: z.string(),
  reasonText: LocalText.optional(),
  attempts: z.array(BackendAttempt),
  tensors: z.number().int(),
  bytes: z.number().int(),
  error: z.string().nullable(),
  errorText: LocalText.optional(),
})
export type ComputeReport = z.infer<typeof ComputeReport>

export const AppInfo = z.object({
  version: z.string(),
  dbPath: z.string(),
  schemaVersion: z.number().int(),
  node: z.string(),
  platform: z.string(),
  compute: ComputeReport,
})
export type AppInfo = z.infer<typeof AppInfo>

export const CorpusKind = z.enum(['parallel', 'dialogue', 'monolingual'])
export type CorpusKind = z.infer<typeof CorpusKind>

export const CorpusFormat = z.enum(['tsv', 'moses', 'tmx', 'po', 'mo', 'jsonl', 'text'])
export type CorpusFormat = z.infer<typeof CorpusFormat>

export const CorpusSummary = z.object({
  id: z.number().int(),
  name: z.string(),
  kind: CorpusKind,
  srcLang: z.string().nullable(),
  tgtLang: z.string().nullable(),
  rows: z.number().int(),
  /** Rows in each split (all 0: not split yet; runs need train and dev). */
  splits: z.object({ train: z.number().int(), dev: z.number().int(), test: z.number().int() }),
  /** Where the rows came from (a file, or a sample's description); `sourceText` translates a sample's. */
  source: z.string(),
  sourceText: LocalText.optional(),
  /** Corpora made by sequence-level distillation: the teacher and how it translated. */
  distilledFrom: z.object({ run: z.string(), checkpointStep: z.number().int(), corpus: z.string(), search: z.string(), sentences: z.number().int() }).optional(),
  createdAt: z.string(),
})
export type CorpusSummary = z.infer<typeof CorpusSummary>

export const CorpusRow = z.object({
  index: z.number().int(),
  src: z.string().nullable(),
  tgt: z.string().nullable(),
  turns: z.array(z.string()).nullable(),
  group: z.string().nullable(),
  split: z.string().nullable(),
})
export type CorpusRow = z.infer<typeof CorpusRow>

export const RunSummary = z.object({
  id: z.number().int(),
  name: z.string(),
  model: z.string(),
  status: z.enum(['created', 'running', 'paused', 'stopped', 'done', 'failed']),
  corpus: z.string().nullable(),
  maxSteps: z.number().int().nullable(),
  step: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type RunSummary = z.infer<typeof RunSummary>

export const JobKind = z.enum(['corpus.import', 'corpus.clean', 'corpus.index', 'tokenizer.train', 'run.train', 'run.eval', 'run.translate', 'run.chat', 'run.distil', 'w2v.train', 'w2v.eval', 'w2v.import'])
export type JobKind = z.infer<typeof JobKind>

export const JobStatus = z.enum(['running', 'done', 'cancelled', 'failed'])
export type JobStatus = z.infer<typeof JobStatus>

export { limits, Name }

/** What kind of failure an error is. `disk_full`: the disk (or the database's quota) is full — free space, then retry;
 *  nothing was half-written. `too_large`: an input is over a documented limit (docs/reliability.md). `gpu_lost`: the
 *  GPU was lost (a driver reset, a GPU put to sleep) — a training paused at its last checkpoint; resume or ask again
 *  once the GPU is back. */
export const ErrorCode = z.enum(['bad_request', 'unknown_method', 'not_found', 'conflict', 'unavailable', 'disk_full', 'too_large', 'gpu_lost', 'internal'])
export type ErrorCode = z.infer<typeof ErrorCode>

export const JobProgress = z.object({
  jobId: z.string(),
  kind: JobKind,
  /** The job's title in English (CLI, logs); `labelText` is the same title for the UI to translate. */
  label: z.string(),
  labelText: LocalText.optional(),
  status: JobStatus,
  done: z.number(),
  total: z.number().nullable(),
  unit: z.string(),
  /** 0..1, or null while the total is unknown */
  fraction: z.number().nullable(),
  /** units per second, smoothed */
  throughput: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  startedAt: z.string(),
  error: z.string().nullable(),
  /** The kind of failure, when it failed (absent in jobs from older engines). */
  errorCode: ErrorCode.nullable().optional(),
  /** A training job that ended on a pause or stop request (it is resumable), rather than at its last step. */
  outcome: z.enum(['paused', 'stopped']).nullable().optional(),
})
export type JobProgress = z.infer<typeof JobProgress>

// ---- request parameters --------------------------------------------------------------------

const NoParams = z.object({}).strict()
const CorpusRef = z.object({ name: Name }).strict()
const LangCode = z
  .string()
  .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'expected a language code such as "en" or "pt-BR"')

export const CorpusImportParams = z
  .object({
    name: Name,
    /** One file, or two for a Moses pair (source side first). */
    files: z.array(z.string().min(1)).min(1).max(2, 'at most two files (a Moses pair)'),
    format: CorpusFormat.optional(),
    srcLang: LangCode.optional(),
    tgtLang: LangCode.optional(),
  })
  .strict()
export type CorpusImportParams = z.infer<typeof CorpusImportParams>

export const CleanOptions = z
  .object({
    /** Unicode NFKC normalisation. */
    normalize: z.boolean().default(true),
    /** Collapse runs of whitespace and trim. */
    trim: z.boolean().default(true),
    dropEmpty: z.boolean().default(true),
    dedupe: z.boolean().default(true),
    /** In characters, per side (or turn). */
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(1).optional(),
    /** Longer side / shorter side, in characters (parallel corpora). */
    maxRatio: z.number().min(1).optional(),
  })
  .strict()
export type CleanOptions = z.infer<typeof CleanOptions>

export const SplitResult = z.object({
  train: z.number().int(),
  dev: z.number().int(),
  test: z.number().int(),
  groups: z.object({ dev: z.array(z.string()), test: z.array(z.string()) }).optional(),
})

export const ExportFormat = z.enum(['tsv', 'jsonl', 'text'])

export const TokenizerSummary = z.object({
  id: z.number().int(),
  name: z.string(),
  type: z.enum(['unigram', 'bpe', 'word', 'char']),
  side: z.enum(['src', 'tgt', 'joint']),
  vocabSize: z.number().int(),
  source: z.string(),
  sourceText: LocalText.optional(),
  /** The normalisation rule encoders apply to raw text (nmt_nfkc, identity, …); 'nfkc (workbench)' for models trained
   *  before rules were written into models, whose text the workbench NFKC-normalises itself. */
  normalization: z.string(),
  createdAt: z.string(),
})
export type TokenizerSummary = z.infer<typeof TokenizerSummary>

const TokenizerRef = z.object({ name: Name }).strict()

export const TokenizerTrainParams = z
  .object({
    corpus: Name,
    name: Name,
    type: z.enum(['unigram', 'bpe']),
    vocabSize: z.number().int().min(50).max(200_000),
    /** Which text to learn from: the source side, the target side, or both (a joint vocabulary). */
    side: z.enum(['src', 'tgt', 'joint']).default('joint'),
    characterCoverage: z.number().gt(0).max(1).default(0.9995),
    /** Pieces always kept whole, such as tags (<sep>, <2es>). */
    userSymbols: z.array(z.string().min(1).max(64).regex(/^\S+$/, 'no whitespace in a user symbol')).max(1000).default([]),
    /** Characters outside the vocabulary become UTF-8 byte pieces instead of <unk>. */
    byteFallback: z.boolean().default(false),
    /** The normalisation rule written into the model (spm_train's --normalization_rule_name): nmt_nfkc, or identity for text used as it is. */
    normalization: z.enum(['nmt_nfkc', 'identity']).default('nmt_nfkc'),
  })
  .strict()
export type TokenizerTrainParams = z.infer<typeof TokenizerTrainParams>

export const TokenizerStats = z.object({
  corpus: z.string(),
  sentences: z.number().int(),
  pieces: z.number().int(),
  piecesPerSentence: z.number(),
  charactersPerPiece: z.number(),
  /** Share of pieces that are <unk>. */
  unknownRate: z.number(),
  /** Share of pieces that are byte-fallback pieces. */
  byteRate: z.number(),
  /** Share of (non-space) characters not lost to <unk>. */
  characterCoverage: z.number(),
  /** Share of the vocabulary's normal pieces the text uses. */
  vocabularyUsed: z.number(),
})
export type TokenizerStats = z.infer<typeof TokenizerStats>

export const CorpusStats = z.object({
  kind: CorpusKind,
  /** Per side (src, tgt; or the turns of dialogues): lengths in characters. */
  sides: z.array(
    z.object({
      side: z.enum(['src', 'tgt', 'turns']),
      mean: z.number(),
      max: z.number().int(),
      /** counts[i] = texts of length in [i·bucketSize, (i+1)·bucketSize); the last bucket is open-ended. */
      histogram: z.object({ bucketSize: z.number().int(), counts: z.array(z.number().int()) }),
    }),
  ),
  splits: z.array(z.object({ split: z.string(), rows: z.number().int() })),
})
export type CorpusStats = z.infer<typeof CorpusStats>

// ---- training runs ---------------------------------------------------------------------------

export const RunStatus = z.enum(['created', 'running', 'paused', 'stopped', 'done', 'failed'])
export type RunStatus = z.infer<typeof RunStatus>

export const Seq2SeqModelConfig = z
  .object({
    cell: z.enum(['rnn', 'lstm', 'gru']).default('lstm'),
    embeddingSize: z.number().int().min(1).max(4096).default(256),
    hiddenSize: z.number().int().min(1).max(4096).default(256),
    encoderLayers: z.number().int().min(1).max(4).default(1),
    decoderLayers: z.number().int().min(1).max(4).default(1),
    bidirectional: z.boolean().default(true),
    attention: z.enum(['none', 'bahdanau', 'luong', 'luong-dot']).default('luong'),
    inputFeeding: z.boolean().default(true),
    dropout: z.number().min(0).max(0.9).default(0.2),
  })
  .strict()
export type Seq2SeqModelConfig = z.infer<typeof Seq2SeqModelConfig>

export const TransformerModelConfig = z
  .object({
    dModel: z.number().int().min(8).max(4096).default(256),
    heads: z.number().int().min(1).max(64).default(4),
    dFF: z.number().int().min(8).max(16384).default(1024),
    encoderLayers: z.number().int().min(1).max(12).default(2),
    decoderLayers: z.number().int().min(1).max(12).default(2),
    dropout: z.number().min(0).max(0.9).default(0.1),
    attentionDropout: z.number().min(0).max(0.9).default(0.1),
    norm: z.enum(['pre', 'post']).default('pre'),
    positions: z.enum(['sinusoidal', 'learned']).default('sinusoidal'),
    /** Tie the target embedding to the output layer, or share one table for source, target and output (joint vocabulary). */
    shareEmbeddings: z.enum(['none', 'target-output', 'all']).default('none'),
    maxLength: z.number().int().min(8).max(4096).default(256),
  })
  .strict()
export type TransformerModelConfig = z.infer<typeof TransformerModelConfig>

/** HRED (latentSize 0) or VHRED (latentSize > 0): Serban et al. 2016, 2017. */
export const DialogueModelConfig = z
  .object({
    cell: z.enum(['gru', 'lstm']).default('gru'),
    embeddingSize: z.number().int().min(4).max(2048).default(256),
    utteranceHidden: z.number().int().min(4).max(4096).default(256),
    bidirectional: z.boolean().default(true),
    contextHidden: z.number().int().min(4).max(4096).default(256),
    decoderHidden: z.number().int().min(4).max(4096).default(256),
    latentSize: z.number().int().min(0).max(1024).default(0),
    dropout: z.number().min(0).max(0.9).default(0.2),
    /** Decoder inputs replaced by <unk> during training (VHRED, Bowman et al. 2016). */
    wordDrop: z.number().min(0).max(0.9).default(0),
    /** Context turns before each response (1: a single-turn baseline). */
    maxContext: z.number().int().min(1).max(50).default(3),
    klAnnealing: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('none') }).strict(),
        z.object({ kind: z.literal('linear'), steps: z.number().int().min(1) }).strict(),
        z.object({ kind: z.literal('sigmoid'), steps: z.number().int().min(1) }).strict(),
        /** Fu et al. 2019: cycles of `cycleSteps`, each ramping β from 0 to 1 over its first `ramp` share. */
        z.object({ kind: z.literal('cyclical'), cycleSteps: z.number().int().min(2), ramp: z.number().gt(0).max(1).default(0.5) }).strict(),
      ])
      .default({ kind: 'linear', steps: 2000 }),
    /** VHRED: free bits λ, nats per latent dimension below which the KL term stops pulling (Kingma et al. 2016); 0: off. */
    freeBits: z.number().min(0).max(10).default(0),
    /** VHRED: weight of the bag-of-words loss from [context; z] (Zhao et al. 2017); 0: off. */
    bowWeight: z.number().min(0).max(10).default(0),
  })
  .strict()
export type DialogueModelConfig = z.infer<typeof DialogueModelConfig>

export const ScheduleConfig = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('constant') }).strict(),
  z.object({ kind: z.literal('inverse-sqrt'), warmup: z.number().int().min(1) }).strict(),
  z.object({ kind: z.literal('noam'), warmup: z.number().int().min(1), dModel: z.number().int().min(1), factor: z.number().positive() }).strict(),
  z.object({ kind: z.literal('plateau'), patience: z.number().int().min(1), decay: z.number().gt(0).max(1), minLr: z.number().min(0) }).strict(),
])
export type ScheduleConfig = z.infer<typeof ScheduleConfig>

export const ValidationMetric = z.enum(['dev/bleu', 'dev/chrf', 'dev/ter', 'dev/loss'])
export type ValidationMetric = z.infer<typeof ValidationMetric>

export const TrainingConfig = z
  .object({
    maxSteps: z.number().int().min(1).max(limits.maxSteps).default(2000),
    /** Padded tokens per micro-batch (longest sentence × sentences). */
    tokenBudget: z.number().int().min(16).default(2048),
    /** Training pairs with a side longer than this (in pieces) are skipped. */
    maxTokens: z.number().int().min(2).default(80),
    /** Micro-batches per update (gradient accumulation). */
    accumulate: z.number().int().min(1).max(64).default(1),
    optimizer: z.enum(['adam', 'adamw']).default('adam'),
    lr: z.number().positive().default(1e-3),
    beta1: z.number().min(0).lt(1).default(0.9),
    beta2: z.number().min(0).lt(1).default(0.998),
    weightDecay: z.number().min(0).default(0),
    schedule: ScheduleConfig.default({ kind: 'constant' }),
    clipNorm: z.number().positive().default(5),
    labelSmoothing: z.number().min(0).lt(1).default(0.1),
    seed: z.number().int().default(1),
    logEvery: z.number().int().min(1).default(10),
    validEvery: z.number().int().min(1).default(200),
    checkpointEvery: z.number().int().min(1).default(200),
    /** Recent checkpoints kept besides the best one. */
    keepCheckpoints: z.number().int().min(1).default(3),
    bestMetric: ValidationMetric.default('dev/bleu'),
    /** Stop after this many validations without a better bestMetric (0: never). */
    patience: z.number().int().min(0).default(0),
    /** Dev sentences decoded for BLEU/chrF/TER at each validation. */
    validSentences: z.number().int().min(1).default(200),
    /** Dev sentences whose hypotheses and attention are stored at every validation. */
    probes: z.number().int().min(0).max(20).default(3),
  })
  .strict()
export type TrainingConfig = z.infer<typeof TrainingConfig>

export const ModelKind = z.enum(['seq2seq', 'transformer', 'hred', 'vhred'])
export type ModelKind = z.infer<typeof ModelKind>

/** The same fields, all optional and without defaults (so a preset's values are not overwritten by them). */
function overrides<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  const shape = Object.fromEntries(
    Object.entries(schema.shape).map(([key, field]) => [key, (field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : (field as z.ZodType)).optional()]),
  )
  return z.object(shape).strict() as unknown as z.ZodType<Partial<z.output<typeof schema>>, Partial<z.input<typeof schema>>>
}

export const RunCreateParams = z
  .object({
    name: Name,
    model: ModelKind,
    corpus: Name,
    /** The source tokenizer, or the joint one. */
    tokenizer: Name,
    /** A separate target tokenizer (default: the same as `tokenizer`). */
    tgtTokenizer: Name.optional(),
    preset: z.string().optional(),
    seq2seq: overrides(Seq2SeqModelConfig).optional(),
    transformer: overrides(TransformerModelConfig).optional(),
    dialogue: overrides(DialogueModelConfig).optional(),
    training: overrides(TrainingConfig).optional(),
    /** Word-level knowledge distillation from a trained translation run with the same tokenizers. */
    distillation: z.object({ teacher: Name, weight: z.number().gt(0).max(1).default(0.5), checkpoint: z.number().int().optional() }).strict().optional(),
  })
  .strict()
export type RunCreateParams = z.infer<typeof RunCreateParams>

/** Magnitude pruning while the run fine-tunes (Zhu & Gupta 2017): the schedule, and the run it was pruned from. */
export const PruningConfig = z.object({
  /** Final share of prunable weights (matrices, embeddings) at zero. */
  sparsity: z.number().gt(0).lt(1),
  scope: z.enum(['global', 'layer']),
  /** Step the pruning starts from (the parent's checkpoint step) and the step the final sparsity is reached (equal: one-shot). */
  startStep: z.number().int().min(0),
  endStep: z.number().int().min(0),
  /** Steps between mask updates. */
  every: z.number().int().min(1),
  from: z.object({ run: z.string(), step: z.number().int() }),
})
export type PruningConfig = z.infer<typeof PruningConfig>

/**
 * Reinforcement learning on top of supervised training. Translation: self-critical sequence training (Rennie et al.
 * 2017) rewarded by sentence chrF or BLEU. Dialogue (HRED/VHRED): REINFORCE with the rewards of Li et al. 2016 (ease
 * of answering, information flow, semantic coherence). Both take the greedy output's reward as the baseline.
 */
export const ReinforcementConfig = z.object({
  algorithm: z.enum(['scst', 'reinforce']),
  /** A sampled translation's sentence chrF or BLEU against the reference, in [0, 1]; or the dialogue rewards. */
  reward: z.enum(['chrf', 'bleu', 'dialogue']),
  /** γ in L = γ·L_rl + (1 − γ)·L_ml (Paulus et al. 2018): the policy-gradient share; the rest is the supervised loss. */
  weight: z.number().min(0).max(1),
  /** Sampling temperature of the rollouts: exploration (1: the model's own distribution). */
  temperature: z.number().gt(0).max(10),
})
export type ReinforcementConfig = z.infer<typeof ReinforcementConfig>

/** Post-training int8 quantisation (Jacob et al. 2018): the run and checkpoint quantised, and which parts stayed float. */
export const QuantizationConfig = z.object({
  scheme: z.literal('int8'),
  from: z.object({ run: z.string(), step: z.number().int() }),
  /** Embedding tables (and a tied output layer) in int8. */
  embeddings: z.boolean(),
  /** An untied output layer in int8. */
  output: z.boolean(),
})
export type QuantizationConfig = z.infer<typeof QuantizationConfig>

/** A run's complete configuration, as stored: presets and defaults resolved. */
export const RunConfig = z.object({
  model: ModelKind,
  corpus: z.string(),
  tokenizer: z.string(),
  tgtTokenizer: z.string(),
  preset: z.string().nullable(),
  seq2seq: Seq2SeqModelConfig.nullable(),
  transformer: TransformerModelConfig.nullable(),
  /** hred and vhred runs; absent in runs stored before dialogue models existed. */
  dialogue: DialogueModelConfig.nullable().default(null),
  training: TrainingConfig,
  /** Runs made by `runs.prune`; null for every other run. */
  pruning: PruningConfig.nullable().default(null),
  /** Word-level knowledge distillation (Kim & Rush 2016): the teacher's distribution mixed into the targets with this weight. */
  distillation: z.object({ teacher: z.string(), checkpointStep: z.number().int(), weight: z.number() }).nullable().default(null),
  /** Runs made by `runs.finetune`: the run and checkpoint they continue from. */
  finetunedFrom: z.object({ run: z.string(), step: z.number().int() }).nullable().default(null),
  /** Policy-gradient fine-tuning (SCST); null: cross-entropy alone. */
  reinforcement: ReinforcementConfig.nullable().default(null),
  /** Runs made by `runs.quantize`: an int8 checkpoint for inference; they do not train. */
  quantization: QuantizationConfig.nullable().default(null),
})
export type RunConfig = z.infer<typeof RunConfig>

export const LayerSparsity = z.object({ name: z.string(), size: z.number().int(), zeros: z.number().int() })
export type LayerSparsity = z.infer<typeof LayerSparsity>

export const RunPruneParams = z
  .object({
    /** The trained run to prune; it is left as it is. */
    name: Name,
    /** The new run (default: <name>-pruned<percent>). */
    into: Name.optional(),
    sparsity: z.number().gt(0).lt(1),
    scope: z.enum(['global', 'layer']).default('global'),
    /** one-shot: all at once, then fine-tune; gradual: Zhu & Gupta's cubic ramp over the first two thirds of the steps. */
    schedule: z.enum(['one-shot', 'gradual']).default('gradual'),
    /** Fine-tuning steps after the parent's checkpoint (1: little more than pruning). */
    steps: z.number().int().min(1).max(1_000_000).default(200),
    checkpoint: z.union([z.enum(['best', 'latest']), z.number().int()]).default('best'),
  })
  .strict()
export type RunPruneParams = z.infer<typeof RunPruneParams>

export const RunFinetuneParams = z
  .object({
    /** The trained run to continue from; it is left as it is. */
    name: Name,
    /** The new run (default: <name>-scst or <name>-reinforce, or <name>-ft without reinforcement). */
    into: Name.optional(),
    /** More updates after the parent's checkpoint. */
    steps: z.number().int().min(1).max(1_000_000).default(200),
    checkpoint: z.union([z.enum(['best', 'latest']), z.number().int()]).default('best'),
    /** A new peak learning rate (default: the parent's schedule continues). */
    lr: z.number().gt(0).max(1).optional(),
    /**
     * Reinforcement learning; absent: more supervised steps (the control a reinforced run is compared with).
     * Defaults by the run's kind — translation: scst, chrf, γ 0.9; dialogue: reinforce, dialogue rewards, γ 0.5.
     */
    reinforcement: z
      .object({
        algorithm: z.enum(['scst', 'reinforce']).optional(),
        reward: z.enum(['chrf', 'bleu', 'dialogue']).optional(),
        weight: z.number().min(0).max(1).optional(),
        temperature: z.number().gt(0).max(10).default(1),
      })
      .strict()
      .optional(),
  })
  .strict()
export type RunFinetuneParams = z.infer<typeof RunFinetuneParams>

export const RunQuantizeParams = z
  .object({
    /** The trained run to quantise; it is left as it is. */
    name: Name,
    /** The new run holding the int8 checkpoint (default: <name>-int8). */
    into: Name.optional(),
    checkpoint: z.union([z.enum(['best', 'latest']), z.number().int()]).default('best'),
    /** Quantise the embedding tables too (a tied output layer follows them); false keeps them float. */
    embeddings: z.boolean().default(true),
    /** Quantise an untied output layer too; false keeps it float. */
    output: z.boolean().default(true),
  })
  .strict()
export type RunQuantizeParams = z.infer<typeof RunQuantizeParams>

/** One model in a run's compression table: the run itself, a pruned run made from it, or a student of its translations. */
export const CompressionRow = z.object({
  run: z.string(),
  kind: z.enum(['float', 'pruned', 'distilled', 'int8']),
  /** pruned: the share asked; distilled: the corpus the student learned from. */
  sparsity: z.number().nullable(),
  corpus: z.string(),
  checkpointStep: z.number().int(),
  parameters: z.number().int(),
  nonZero: z.number().int(),
  /** The checkpoint's stored weights (dense float32, or int8 matrices with their scales). */
  bytes: z.number().int(),
  /** From `kotoba eval` on the test split at this checkpoint; null until evaluated. */
  bleu: z.number().nullable(),
  chrf: z.number().nullable(),
  /** Median translate time of one 20-word test sentence, beam 5, warm; null unless measured. */
  latencyMs: z.number().nullable(),
})
export type CompressionRow = z.infer<typeof CompressionRow>

/** Sequence-level knowledge distillation (Kim & Rush 2016): the teacher's translations of its training split. */
export const RunDistilParams = z
  .object({
    /** The teacher: a trained translation run. */
    name: Name,
    /** The new corpus (default: <corpus>-by-<run>). Its train split holds (source, teacher's translation); dev and test are the original pairs. */
    into: Name.optional(),
    checkpoint: z.number().int().optional(),
    search: z.enum(['greedy', 'beam']).default('beam'),
    beamSize: z.number().int().min(1).max(50).default(5),
    /** Translate at most this many training sentences (default: all). */
    limit: z.number().int().min(1).optional(),
  })
  .strict()
export type RunDistilParams = z.infer<typeof RunDistilParams>

export const CheckpointSummary = z.object({
  id: z.number().int(),
  step: z.number().int(),
  isBest: z.boolean(),
  createdAt: z.string(),
  /** Validation metrics at this step, when it was validated. */
  metrics: z.record(z.string(), z.number()),
})
export type CheckpointSummary = z.infer<typeof CheckpointSummary>

export const RunDetail = RunSummary.extend({
  config: RunConfig,
  error: z.string().nullable(),
  parameters: z.number().int().nullable(),
  checkpoints: z.array(CheckpointSummary),
  jobId: z.string().nullable(),
  /** Pruned runs: zeros per prunable parameter in the latest checkpoint. */
  sparsity: z.array(LayerSparsity).nullable().default(null),
})
export type RunDetail = z.infer<typeof RunDetail>

export const MetricPoint = z.object({ step: z.number().int(), value: z.number(), wallTime: z.number() })
export type MetricPoint = z.infer<typeof MetricPoint>

export const SearchOptions = z
  .object({
    search: z.enum(['greedy', 'beam', 'sample']).default('beam'),
    beamSize: z.number().int().min(1).max(50).default(5),
    nBest: z.number().int().min(1).max(50).default(1),
    /** GNMT length penalty α. */
    alpha: z.number().min(0).max(5).default(0.6),
    temperature: z.number().gt(0).max(10).default(1),
    topK: z.number().int().min(0).default(0),
    topP: z.number().gt(0).max(1).default(1),
    noRepeatNgram: z.number().int().min(0).max(10).default(0),
    /** Output length limit in pieces (default: 2 × source + 10). */
    maxLength: z.number().int().min(1).max(1000).optional(),
    seed: z.number().int().default(1),
  })
  .strict()
export type SearchOptions = z.infer<typeof SearchOptions>

/** Encoder self-attention, decoder self-attention (over its own prefix), or cross-attention (decoder over the source). */
export const AttentionKind = z.enum(['encoder-self', 'decoder-self', 'cross'])
export type AttentionKind = z.infer<typeof AttentionKind>

/**
 * One head's attention for one sentence. Rows are queries, columns keys: for cross and decoder-self a row is the
 * target piece that step produced, and decoder-self columns are the decoder's inputs (<s> and the prefix).
 */
export const AttentionMap = z.object({
  step: z.number().int(),
  probe: z.number().int(),
  kind: AttentionKind,
  layer: z.number().int(),
  /** null: the mean over the layer's heads. */
  head: z.number().int().nullable(),
  rowTokens: z.array(z.string()),
  colTokens: z.array(z.string()),
  /** [rowTokens.length][colTokens.length] */
  weights: z.array(z.array(z.number())),
})
export type AttentionMap = z.infer<typeof AttentionMap>

/** The output a stored map was computed on: the model's greedy hypothesis at that step, or the dev reference
 *  teacher-forced (the same at every step, so two steps' maps always have the same shape). */
export const AttentionOutput = z.enum(['hypothesis', 'reference'])
export type AttentionOutput = z.infer<typeof AttentionOutput>

/** Which maps a run stores: per kind, its number of layers and heads. */
export const AttentionLayout = z.array(z.object({ kind: AttentionKind, layers: z.number().int(), heads: z.number().int() }))
export type AttentionLayout = z.infer<typeof AttentionLayout>

/** A head's behaviour over the probe sentences (Clark et al. 2019): entropy in nats, mean weight on the previous/same/boundary key. */
export const HeadStatistics = z.object({
  kind: AttentionKind,
  layer: z.number().int(),
  head: z.number().int(),
  entropy: z.number(),
  previous: z.number(),
  same: z.number(),
  boundary: z.number(),
})
export type HeadStatistics = z.infer<typeof HeadStatistics>

export const TranslationHypothesis = z.object({
  text: z.string(),
  pieces: z.array(z.string()),
  score: z.number(),
  logProb: z.number(),
  tokenLogProbs: z.array(z.number()),
  /** [target step][source piece]; the last row belongs to EOS when the hypothesis finished. */
  attention: z.array(z.array(z.number())).nullable(),
})
export type TranslationHypothesis = z.infer<typeof TranslationHypothesis>

export const TranslateResult = z.object({
  run: z.string(),
  checkpointStep: z.number().int(),
  results: z.array(
    z.object({
      source: z.string(),
      srcPieces: z.array(z.string()),
      hypotheses: z.array(TranslationHypothesis),
      /** With `inspect`: every head's map for the best hypothesis (probe = the line's index). */
      maps: z.array(AttentionMap).optional(),
    }),
  ),
})
export type TranslateResult = z.infer<typeof TranslateResult>

/** What a dialogue model did for one reply: its latent sample (VHRED) and its context state per turn. */
export const ReplyInsight = z.object({
  /** VHRED: the prior sample's seed, its first values, its norm, and KL(q(z | context, reply) ‖ p(z | context)) of the reply. */
  latent: z.object({ seed: z.number().int(), z: z.array(z.number()), norm: z.number(), kl: z.number() }).nullable(),
  /** The context RNN's state after each context turn: its norm, and its cosine similarity to the previous turn's state. */
  context: z.array(z.object({ norm: z.number(), similarity: z.number().nullable() })),
})
export type ReplyInsight = z.infer<typeof ReplyInsight>

export const ChatReplyResult = z.object({
  run: z.string(),
  checkpointStep: z.number().int(),
  /** Best first (n-best from beam search or sampling). */
  replies: z.array(z.object({ text: z.string(), score: z.number(), pieces: z.array(z.string()) })),
  insight: ReplyInsight,
})
export type ChatReplyResult = z.infer<typeof ChatReplyResult>

export const ChatTurn = z.object({
  index: z.number().int(),
  role: z.enum(['user', 'model']),
  text: z.string(),
  /** Model turns: the decoding settings and what the model did (ReplyInsight); user turns: {} or {seeded: true}. */
  meta: z.record(z.string(), z.unknown()),
})
export type ChatTurn = z.infer<typeof ChatTurn>

export const ChatSummary = z.object({ id: z.number().int(), run: z.string().nullable(), title: z.string(), turns: z.number().int(), createdAt: z.string() })
export type ChatSummary = z.infer<typeof ChatSummary>

export const ChatDetail = ChatSummary.extend({ history: z.array(ChatTurn) })
export type ChatDetail = z.infer<typeof ChatDetail>

export const DistinctScores = z.object({ inter: z.number(), intra: z.number() })

export const EvalResult = z.object({
  run: z.string(),
  split: z.enum(['dev', 'test']),
  checkpointStep: z.number().int(),
  sentences: z.number().int(),
  scores: z.array(z.object({ metric: z.string(), score: z.number(), signature: z.string() })),
  loss: z.number(),
  perplexity: z.number(),
  seconds: z.number(),
  /** With `against`: each metric of this run against the other's on the same sentences, by paired bootstrap. */
  comparison: z
    .object({
      against: z.string(),
      againstCheckpoint: z.number().int(),
      resamples: z.number().int(),
      metrics: z.array(
        z.object({
          metric: z.string(),
          /** The `against` run's score, this run's, and this run's minus the other's. */
          baseline: z.number(),
          system: z.number(),
          difference: z.number(),
          /** 95 % interval of the difference over the resampled test sets. */
          low: z.number(),
          high: z.number(),
          /** Two-sided: how often a difference this large arises from the resampling alone. */
          pValue: z.number(),
        }),
      ),
    })
    .optional(),
})
export type EvalResult = z.infer<typeof EvalResult>


const RunRef = z.object({ name: Name }).strict()

/** A preset's values on one kind of corpus, defaults resolved (what the form shows and sends back). */
export const PresetConfig = z.object({
  corpusKind: CorpusKind,
  seq2seq: Seq2SeqModelConfig.nullable(),
  transformer: TransformerModelConfig.nullable(),
  dialogue: DialogueModelConfig.nullable(),
  training: TrainingConfig,
})
export type PresetConfig = z.infer<typeof PresetConfig>

/** A model family the engine trains: which corpora it takes and its named presets. */
export const ModelFamily = z.object({
  model: ModelKind,
  title: z.string(),
  /** In English; `descriptionText` for the UI to translate (likewise each preset's). */
  description: z.string(),
  descriptionText: LocalText.optional(),
  corpusKinds: z.array(CorpusKind),
  presets: z.array(z.object({ name: z.string(), description: z.string(), descriptionText: LocalText.optional(), configs: z.array(PresetConfig) })),
})
export type ModelFamily = z.infer<typeof ModelFamily>

/** One evaluation of a checkpoint on a split, as stored with the run. */
export const StoredEvaluation = z.object({
  split: z.string(),
  step: z.number().int(),
  scores: z.array(z.object({ metric: z.string(), score: z.number(), signature: z.string().nullable() })),
  evaluatedAt: z.number(),
})
export type StoredEvaluation = z.infer<typeof StoredEvaluation>

// ---- the method table ----------------------------------------------------------------------

export const methods = {
  'app.info': { params: NoParams, result: AppInfo },
  'devices.get': { params: NoParams, result: ComputeReport },
  'corpus.list': { params: NoParams, result: z.array(CorpusSummary) },
  'corpus.show': { params: CorpusRef, result: CorpusSummary },
  'corpus.rows': {
    params: z
      .object({
        name: Name,
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
      })
      .strict(),
    result: z.object({ total: z.number().int(), rows: z.array(CorpusRow) }),
  },
  'corpus.import': { params: CorpusImportParams, result: z.object({ jobId: z.string() }) },
  'corpus.delete': { params: CorpusRef, result: z.object({ deleted: z.boolean() }) },
  'corpus.stats': { params: CorpusRef, result: CorpusStats },
  'corpus.search': {
    params: z
      .object({
        name: Name,
        query: z.string().min(1).max(500),
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
      })
      .strict(),
    result: z.object({ total: z.number().int(), rows: z.array(CorpusRow) }),
  },
  'corpus.clean': { params: CleanOptions.extend({ name: Name }).strict(), result: z.object({ jobId: z.string() }) },
  'corpus.split': {
    params: z
      .object({
        name: Name,
        /** ≥ 1: rows; between 0 and 1: a fraction. */
        dev: z.number().min(0),
        test: z.number().min(0),
        seed: z.number().int().default(1),
        by: z.enum(['random', 'group']).default('random'),
      })
      .strict(),
    result: SplitResult,
  },
  'corpus.export': {
    params: z
      .object({
        name: Name,
        out: z.string().min(1),
        /** Default: tsv for parallel, jsonl for dialogue, text for monolingual corpora. */
        format: ExportFormat.optional(),
        split: z.enum(['train', 'dev', 'test']).optional(),
        /** Replace an existing file (otherwise refused). */
        force: z.boolean().default(false),
      })
      .strict(),
    result: z.object({ path: z.string(), rows: z.number().int(), format: ExportFormat }),
  },
  'tokenizer.list': { params: NoParams, result: z.array(TokenizerSummary) },
  'tokenizer.train': { params: TokenizerTrainParams, result: z.object({ jobId: z.string() }) },
  'tokenizer.show': { params: TokenizerRef, result: TokenizerSummary },
  'tokenizer.import': { params: z.object({ name: Name, file: z.string().min(1) }).strict(), result: TokenizerSummary },
  'tokenizer.export': { params: z.object({ name: Name, out: z.string().min(1), force: z.boolean().default(false) }).strict(), result: z.object({ path: z.string(), bytes: z.number().int() }) },
  'tokenizer.delete': { params: TokenizerRef, result: z.object({ deleted: z.boolean() }) },
  'tokenizer.vocab': {
    params: z.object({ name: Name, offset: z.number().int().min(0).default(0), limit: z.number().int().min(1).max(1000).default(100) }).strict(),
    result: z.object({
      total: z.number().int(),
      pieces: z.array(z.object({ id: z.number().int(), piece: z.string(), score: z.number(), type: z.string() })),
    }),
  },
  'tokenizer.encode': {
    params: z.object({ name: Name, lines: z.array(z.string()).max(10_000) }).strict(),
    result: z.object({ pieces: z.array(z.array(z.string())), ids: z.array(z.array(z.number().int())) }),
  },
  'tokenizer.decode': {
    params: z.object({ name: Name, ids: z.array(z.array(z.number().int().min(0))).max(10_000) }).strict(),
    result: z.object({ lines: z.array(z.string()) }),
  },
  'tokenizer.stats': {
    params: z
      .object({
        name: Name,
        /** Default: the corpus the tokenizer was trained on. Its dev split is used when there is one. */
        corpus: Name.optional(),
        side: z.enum(['src', 'tgt', 'joint']).optional(),
        limit: z.number().int().min(1).max(100_000).default(2000),
      })
      .strict(),
    result: TokenizerStats,
  },
  'jobs.list': { params: NoParams, result: z.array(JobProgress) },
  'jobs.get': { params: z.object({ jobId: z.string() }).strict(), result: JobProgress },
  'jobs.cancel': { params: z.object({ jobId: z.string() }).strict(), result: JobProgress },
  'runs.list': { params: NoParams, result: z.array(RunSummary) },
  /** Every model family with its presets (the Training form is built from this). */
  'runs.presets': { params: NoParams, result: z.array(ModelFamily) },
  /** Test-set evaluations stored with a run (kotoba eval, the run page), newest checkpoint first. */
  'runs.evaluations': { params: RunRef, result: z.array(StoredEvaluation) },
  'runs.create': { params: RunCreateParams, result: RunDetail },
  'runs.show': { params: RunRef, result: RunDetail },
  /** Starts a created run or resumes a paused, stopped, failed or finished one from its last checkpoint. */
  'runs.start': { params: RunRef, result: z.object({ jobId: z.string() }) },
  /** A new run from a trained run's checkpoint, pruned by magnitude while it fine-tunes; starts training it. */
  'runs.prune': { params: RunPruneParams, result: z.object({ run: RunSummary, jobId: z.string().nullable() }) },
  /** A new run holding an int8 quantisation of a trained run's checkpoint, for inference (translate, eval, the report). */
  'runs.quantize': { params: RunQuantizeParams, result: z.object({ run: RunSummary, layers: z.array(z.object({ name: z.string(), size: z.number().int(), relativeError: z.number() })), bytes: z.number().int(), floatBytes: z.number().int() }) },
  'runs.finetune': { params: RunFinetuneParams, result: z.object({ run: RunSummary, jobId: z.string().nullable() }) },
  /** The run beside the models made from it (pruned runs, distilled students): size, sparsity, test scores, latency. */
  'compress.report': { params: z.object({ name: Name, latency: z.boolean().default(false) }).strict(), result: z.object({ run: z.string(), rows: z.array(CompressionRow) }) },
  /** Starts the teacher translating its training split into a new parallel corpus (a job; its result names the corpus). */
  'runs.distil': { params: RunDistilParams, result: z.object({ jobId: z.string(), corpus: z.string() }) },
  /** Saves a checkpoint and pauses (resume with runs.start). */
  'runs.pause': { params: RunRef, result: RunDetail },
  /** Saves a checkpoint and stops. */
  'runs.stop': { params: RunRef, result: RunDetail },
  /** Raises the step limit by `steps` and resumes training. */
  'runs.extend': {
    params: z.object({ name: Name, steps: z.number().int().min(1).max(limits.maxSteps), start: z.boolean().default(true) }).strict(),
    result: z.object({ jobId: z.string().nullable(), maxSteps: z.number().int() }),
  },
  'runs.delete': { params: RunRef, result: z.object({ deleted: z.boolean() }) },
  'runs.metrics': {
    params: z.object({ name: Name, metrics: z.array(z.string()).optional(), afterStep: z.number().int().default(-1) }).strict(),
    result: z.object({ series: z.record(z.string(), z.array(MetricPoint)), signatures: z.record(z.string(), z.string()) }),
  },
  /** A run's logged metrics for other tools: TensorBoard event files in a folder, or a CSV file. */
  /** A folder to train the same model with Marian or OpenNMT-py: data splits, SentencePiece models, config, train.sh, NOTES.md. */
  /** The run's checkpoint as ONNX graphs or TensorFlow.js graph models (encoder, one decoder step), its SentencePiece models and model.json: runnable by onnxruntime or tf.loadGraphModel without the workbench. */
  'runs.exportModel': {
    params: z
      .object({
        name: Name,
        /** A checkpoint step (default: the best). */
        checkpoint: z.number().int().optional(),
        format: z.enum(['onnx', 'tfjs']).default('onnx'),
        /** tfjs seq2seq: the longest source (pieces) the unrolled recurrent encoder reads (default: the run's training maxTokens). */
        maxSourceLength: z.number().int().min(1).max(limits.sourceTokens).optional(),
        /** A folder (new or empty). */
        out: z.string().min(1),
        /** Replace the export's files in a folder that is not empty. */
        force: z.boolean().default(false),
      })
      .strict(),
    result: z.object({ path: z.string(), files: z.array(z.string()), checkpointStep: z.number().int() }),
  },
  'runs.exportRecipe': {
    params: z.object({ name: Name, to: z.enum(['marian', 'opennmt-py']), out: z.string().min(1), force: z.boolean().default(false) }).strict(),
    result: z.object({ path: z.string(), files: z.array(z.string()), notes: z.array(z.string()) }),
  },
  'runs.exportMetrics': {
    params: z
      .object({
        name: Name,
        format: z.enum(['tensorboard', 'csv']),
        /** tensorboard: a folder (created if missing); csv: a file. */
        out: z.string().min(1),
        /** Replace an existing file (csv) or an earlier exported event file in the folder (tensorboard). */
        force: z.boolean().default(false),
      })
      .strict(),
    result: z.object({ path: z.string(), format: z.enum(['tensorboard', 'csv']), metrics: z.number().int(), points: z.number().int() }),
  },
  'runs.samples': {
    params: z.object({ name: Name, step: z.number().int().optional() }).strict(),
    result: z.object({
      steps: z.array(z.number().int()),
      step: z.number().int().nullable(),
      samples: z.array(z.object({ index: z.number().int(), source: z.string(), reference: z.string(), hypothesis: z.string() })),
    }),
  },
  'runs.attention': {
    params: z
      .object({
        name: Name,
        probe: z.number().int().min(0).default(0),
        step: z.number().int().optional(),
        kind: AttentionKind.default('cross'),
        /** Default: the top layer. */
        layer: z.number().int().min(0).optional(),
        /** Default: the mean over the layer's heads. */
        head: z.number().int().min(0).optional(),
        output: AttentionOutput.default('hypothesis'),
      })
      .strict(),
    result: z.object({ steps: z.array(z.number().int()), probes: z.number().int(), layout: AttentionLayout, map: AttentionMap.nullable() }),
  },
  /** Every layer × head of one kind for one probe at one validation step (the model view). */
  'runs.attentionGrid': {
    params: z.object({ name: Name, probe: z.number().int().min(0).default(0), step: z.number().int().optional(), kind: AttentionKind.default('cross') }).strict(),
    result: z.object({ steps: z.array(z.number().int()), probes: z.number().int(), layout: AttentionLayout, step: z.number().int().nullable(), maps: z.array(AttentionMap) }),
  },
  /** Per-head statistics over the probe sentences at one validation step (default: the latest). */
  'runs.headStats': {
    params: z.object({ name: Name, step: z.number().int().optional() }).strict(),
    result: z.object({ steps: z.array(z.number().int()), step: z.number().int().nullable(), probes: z.number().int(), stats: z.array(HeadStatistics) }),
  },
  'translate': {
    params: SearchOptions.extend({
      run: Name,
      /** A checkpoint's step (default: the best checkpoint, else the latest). */
      checkpoint: z.number().int().optional(),
      /** Average the weights of the last K checkpoints instead (Vaswani et al. 2017, §6.1). */
      average: z.number().int().min(2).max(50).optional(),
      lines: z.array(Text).min(1).max(5000),
      attention: z.boolean().default(true),
      /** Also return every layer's and head's attention (encoder self, decoder self, cross) for each best hypothesis. */
      inspect: z.boolean().default(false),
    }).strict(),
    result: TranslateResult,
  },
  'eval': {
    params: SearchOptions.extend({
      run: Name,
      split: z.enum(['dev', 'test']).default('test'),
      checkpoint: z.number().int().optional(),
      average: z.number().int().min(2).max(50).optional(),
      /** Evaluate at most this many sentences (default: all). */
      limit: z.number().int().min(1).optional(),
      /** Also evaluate this run on the same sentences with the same search and compare by paired bootstrap (Koehn 2004). */
      against: Name.optional(),
      /** The `against` run's checkpoint (default: its best). */
      againstCheckpoint: z.number().int().optional(),
      resamples: z.number().int().min(100).max(10000).default(1000),
    }).strict(),
    result: EvalResult,
  },
  /** One reply to a context (no storage): the turns so far, oldest first. */
  'chat.reply': {
    params: SearchOptions.extend({
      run: Name,
      checkpoint: z.number().int().optional(),
      turns: z.array(Text).min(1).max(100),
      /** VHRED: the seed of z's prior sample (another seed, another reply). */
      latentSeed: z.number().int().optional(),
    }).strict(),
    result: ChatReplyResult,
  },
  'chat.list': { params: z.object({ run: Name.optional() }).strict(), result: z.array(ChatSummary) },
  /** A new conversation, optionally seeded with turns (e.g. from the corpus) that alternate user, model, user, …. */
  'chat.create': {
    params: z.object({ run: Name, title: z.string().max(200).optional(), seed: z.array(Text).max(50).default([]) }).strict(),
    result: ChatDetail,
  },
  'chat.show': { params: z.object({ id: z.number().int() }).strict(), result: ChatDetail },
  /** Adds the user's turn and the model's reply. */
  'chat.say': {
    params: SearchOptions.extend({ id: z.number().int(), text: z.string().min(1).max(2000), latentSeed: z.number().int().optional() }).strict(),
    result: ChatDetail,
  },
  /** Replaces the last model reply with a new one to the same context (VHRED: a new z; sampling: a new seed). */
  'chat.resample': {
    params: SearchOptions.extend({ id: z.number().int(), latentSeed: z.number().int().optional() }).strict(),
    result: ChatDetail,
  },
  /**
   * Self-chat (as ParlAI's): two copies of a dialogue model — or the run and a partner run — take turns for `turns`
   * replies after the opening turns, each reply to everything said so far. Stored as a conversation, both sides as
   * model turns with their speaker (A: `run`, B: `partner`); each reply is stored as it is made.
   */
  'chat.selfChat': {
    params: SearchOptions.extend({
      run: Name,
      /** Speaker B (default: a second copy of `run`). */
      partner: Name.optional(),
      opening: z.array(Text).min(1).max(50),
      turns: z.number().int().min(1).max(100).default(10),
      title: z.string().max(200).optional(),
    }).strict(),
    result: ChatDetail,
  },
  'chat.delete': { params: z.object({ id: z.number().int() }).strict(), result: z.object({ deleted: z.boolean() }) },
  /** distinct-1/2 and mean length of the model's turns in a stored conversation. */
  'chat.distinct': {
    params: z.object({ id: z.number().int() }).strict(),
    result: z.object({ replies: z.number().int(), distinct1: DistinctScores, distinct2: DistinctScores, length: z.number() }),
  },
  /** The conversation as one JSONL line (its turns), the corpus format. */
  'chat.export': { params: z.object({ id: z.number().int() }).strict(), result: z.object({ jsonl: z.string() }) },
  ...word2vecMethods,
} as const

export type Methods = typeof methods
export type MethodName = keyof Methods
/** What a caller passes (defaults may be omitted). */
export type Params<M extends MethodName> = z.input<Methods[M]['params']>
/** What the handler receives after validation (defaults filled). */
export type ValidParams<M extends MethodName> = z.output<Methods[M]['params']>
export type Result<M extends MethodName> = z.output<Methods[M]['result']>

export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(methods, name)
}

// ---- events --------------------------------------------------------------------------------

export const events = {
  'job.progress': JobProgress,
  'corpus.changed': z.object({ name: z.string() }),
  'run.changed': z.object({ name: z.string(), status: RunStatus, step: z.number().int() }),
  /** New metric points of a running run (for live curves). */
  'run.metrics': z.object({ name: z.string(), points: z.array(z.object({ metric: z.string(), step: z.number().int(), value: z.number() })) }),
  /** A word2vec run started, finished an epoch, paused, stopped, finished or failed. */
  'w2v.changed': z.object({ name: z.string(), status: Word2VecStatus, epoch: z.number().int() }),
} as const
export type Events = typeof events
export type EventName = keyof Events
export type EventData<E extends EventName> = z.output<Events[E]>
export type EngineEvent = { [E in EventName]: { event: E; data: EventData<E> } }[EventName]

// ---- wire protocol (IPC, WebSocket and preload all carry these) ----------------------------

export interface ApiErrorBody {
  code: ErrorCode
  message: string
  /** For bad_request: where in the payload each problem is. */
  issues?: { path: string; message: string }[]
}

export interface RequestMessage {
  id: number
  method: string
  params: unknown
}

export type ResponseMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: ApiErrorBody }

export type ServerMessage = ResponseMessage | { event: EventName; data: unknown }

/** What every transport exposes to the UI and the CLI. */
export interface KotobaTransport {
  call(method: string, params: unknown): Promise<unknown>
  onEvent(listener: (event: EngineEvent) => void): () => void
}

export class ApiError extends Error {
  readonly code: ErrorCode
  readonly issues: ApiErrorBody['issues']
  constructor(body: ApiErrorBody) {
    super(body.message)
    this.name = 'ApiError'
    this.code = body.code
    this.issues = body.issues
  }
  toBody(): ApiErrorBody {
    return this.issues ? { code: this.code, message: this.message, issues: this.issues } : { code: this.code, message: this.message }
  }
}

/** A typed client over any transport. */
export class KotobaClient {
  constructor(private readonly transport: KotobaTransport) {}
  async call<M extends MethodName>(method: M, ...args: {} extends Params<M> ? [params?: Params<M>] : [params: Params<M>]): Promise<Result<M>> {
    return (await this.transport.call(method, args[0] ?? {})) as Result<M>
  }
  on<E extends EventName>(name: E, listener: (data: EventData<E>) => void): () => void {
    return this.transport.onEvent((event) => {
      if (event.event === name) listener(event.data as EventData<E>)
    })
  }
}


export * from './word2vec-contract.ts'
