// A run's configuration as Marian and OpenNMT-py training configs: the same architecture, sizes and schedule, for
// users who move to a GPU cluster. What a toolkit cannot express is listed in `notes`, never silently changed.
import type { RunConfig, ScheduleConfig } from '../../api/contract.ts'

/** Where the exported files sit, relative to the config. */
export interface RecipeFiles {
  train: [string, string]
  dev: [string, string]
  test: [string, string]
  /** SentencePiece models (Marian reads files ending in .spm as SentencePiece). */
  srcModel: string
  tgtModel: string
  /** OpenNMT-py vocabularies ("piece<TAB>count" lines), one per side. */
  srcVocab: string
  tgtVocab: string
  joint: boolean
  srcVocabSize: number
  tgtVocabSize: number
}

export interface RecipeConfig {
  config: Record<string, unknown>
  /** What differs from the workbench's run, in words. */
  notes: string[]
}

/** The learning rate peak and warm-up of our schedules, as the inverse-square-root family both toolkits know. */
function inverseSqrt(schedule: ScheduleConfig, lr: number): { peak: number; warmup: number } | null {
  if (schedule.kind === 'inverse-sqrt') return { peak: lr, warmup: schedule.warmup }
  if (schedule.kind === 'noam') return { peak: schedule.factor * schedule.dModel ** -0.5 * schedule.warmup ** -0.5, warmup: schedule.warmup }
  return null
}

const modelWidth = (config: RunConfig): number => config.transformer?.dModel ?? config.seq2seq?.hiddenSize ?? 256

export function marianConfig(run: RunConfig, files: RecipeFiles): RecipeConfig {
  const notes: string[] = []
  const training = run.training
  const config: Record<string, unknown> = {
    model: 'model/model.npz',
    'train-sets': files.train,
    'valid-sets': files.dev,
    vocabs: [files.srcModel, files.tgtModel],
    'dim-vocabs': [files.srcVocabSize, files.tgtVocabSize],
    'max-length': training.maxTokens,
  }
  if (run.transformer) {
    const t = run.transformer
    Object.assign(config, {
      type: 'transformer',
      'dim-emb': t.dModel,
      'enc-depth': t.encoderLayers,
      'dec-depth': t.decoderLayers,
      'transformer-heads': t.heads,
      'transformer-dim-ffn': t.dFF,
      'transformer-dropout': t.dropout,
      'transformer-dropout-attention': t.attentionDropout,
      // Pre-LN normalises each sublayer's input; post-LN adds, then normalises.
      'transformer-preprocess': t.norm === 'pre' ? 'n' : '',
      'transformer-postprocess': t.norm === 'pre' ? 'da' : 'dan',
      'transformer-postprocess-emb': 'd',
      'transformer-train-position-embeddings': t.positions === 'learned',
      'tied-embeddings': t.shareEmbeddings === 'target-output',
      'tied-embeddings-all': t.shareEmbeddings === 'all',
    })
    if (t.norm === 'pre') config['transformer-postprocess-top'] = 'n' // the final layer norm of a pre-LN stack
  } else if (run.seq2seq) {
    const s = run.seq2seq
    Object.assign(config, {
      type: 's2s',
      'dim-emb': s.embeddingSize,
      'dim-rnn': s.hiddenSize,
      'enc-type': s.bidirectional ? 'bidirectional' : 'alternating',
      'enc-cell': s.cell === 'rnn' ? 'tanh' : s.cell,
      'dec-cell': s.cell === 'rnn' ? 'tanh' : s.cell,
      'enc-depth': s.encoderLayers,
      'dec-depth': s.decoderLayers,
      'dropout-rnn': s.dropout,
    })
    if (s.attention !== 'bahdanau') notes.push(`Marian's s2s model always uses Bahdanau (MLP) attention; this run uses ${s.attention === 'none' ? 'no attention' : `${s.attention} attention`}.`)
    if (s.inputFeeding) notes.push("Marian's s2s decoder feeds the attention context into its second GRU/LSTM (conditional GRU), not Luong's input feeding.")
  }
  Object.assign(config, {
    optimizer: 'adam',
    'optimizer-params': [training.beta1, training.beta2, 1e-8],
    'learn-rate': training.lr,
    'label-smoothing': training.labelSmoothing,
    'clip-norm': training.clipNorm,
    'mini-batch-words': training.tokenBudget,
    'optimizer-delay': training.accumulate,
    after: `${training.maxSteps}u`,
    'disp-freq': `${training.logEvery}u`,
    'valid-freq': `${training.validEvery}u`,
    'save-freq': `${training.checkpointEvery}u`,
    'valid-metrics': training.bestMetric === 'dev/chrf' ? ['chrf', 'bleu', 'ce-mean-words'] : training.bestMetric === 'dev/loss' ? ['ce-mean-words', 'bleu', 'chrf'] : ['bleu', 'chrf', 'ce-mean-words'],
    'early-stopping': training.patience > 0 ? training.patience : training.maxSteps,
    'keep-best': true,
    'beam-size': 5,
    normalize: 0.6,
    seed: training.seed,
  })
  const schedule = inverseSqrt(training.schedule, training.lr)
  if (schedule) Object.assign(config, { 'learn-rate': schedule.peak, 'lr-warmup': schedule.warmup, 'lr-decay-inv-sqrt': schedule.warmup })
  if (training.schedule.kind === 'plateau') {
    Object.assign(config, { 'lr-decay-strategy': 'stalled', 'lr-decay': training.schedule.decay, 'lr-decay-start': training.schedule.patience })
    notes.push(`Plateau decay maps to Marian's "stalled" strategy (×${training.schedule.decay} after ${training.schedule.patience} validations without improvement); Marian has no minimum learning rate.`)
  }
  if (training.bestMetric === 'dev/ter') notes.push('Marian has no TER validation metric; BLEU chooses the best model.')
  if (training.optimizer === 'adamw') notes.push(`Marian's Adam has no decoupled weight decay; this run used AdamW with ${training.weightDecay}.`)
  notes.push('mini-batch-words counts target words; the workbench budgets padded tokens of the longer side, so batches differ a little in size.')
  return { config, notes }
}

export function openNmtConfig(run: RunConfig, files: RecipeFiles): RecipeConfig {
  const notes: string[] = []
  const training = run.training
  const config: Record<string, unknown> = {
    save_data: 'run',
    src_vocab: files.srcVocab,
    tgt_vocab: files.tgtVocab,
    src_vocab_size: files.srcVocabSize,
    tgt_vocab_size: files.tgtVocabSize,
    share_vocab: files.joint,
    src_subword_model: files.srcModel,
    tgt_subword_model: files.tgtModel,
    src_seq_length: training.maxTokens,
    tgt_seq_length: training.maxTokens,
    data: {
      corpus_1: { path_src: files.train[0], path_tgt: files.train[1], transforms: ['sentencepiece', 'filtertoolong'] },
      valid: { path_src: files.dev[0], path_tgt: files.dev[1], transforms: ['sentencepiece'] },
    },
    save_model: 'model/model',
  }
  if (run.transformer) {
    const t = run.transformer
    Object.assign(config, {
      encoder_type: 'transformer',
      decoder_type: 'transformer',
      enc_layers: t.encoderLayers,
      dec_layers: t.decoderLayers,
      heads: t.heads,
      hidden_size: t.dModel,
      word_vec_size: t.dModel,
      transformer_ff: t.dFF,
      dropout: [t.dropout],
      attention_dropout: [t.attentionDropout],
      position_encoding: t.positions === 'sinusoidal',
      share_decoder_embeddings: t.shareEmbeddings !== 'none',
      share_embeddings: t.shareEmbeddings === 'all',
    })
    if (t.norm === 'post') notes.push("OpenNMT-py's Transformer normalises before each sublayer (pre-LN); this run is post-LN.")
    if (t.positions === 'learned') notes.push('OpenNMT-py has no learned absolute position table; position_encoding is off, so set max_relative_positions (e.g. 20) or accept no positions.')
  } else if (run.seq2seq) {
    const s = run.seq2seq
    Object.assign(config, {
      encoder_type: s.bidirectional ? 'brnn' : 'rnn',
      decoder_type: 'rnn',
      rnn_type: s.cell === 'gru' ? 'GRU' : 'LSTM',
      enc_layers: s.encoderLayers,
      dec_layers: s.decoderLayers,
      hidden_size: s.hiddenSize,
      word_vec_size: s.embeddingSize,
      global_attention: { luong: 'general', 'luong-dot': 'dot', bahdanau: 'mlp', none: 'none' }[s.attention],
      input_feed: s.inputFeeding ? 1 : 0,
      dropout: [s.dropout],
    })
    if (s.cell === 'rnn') notes.push('OpenNMT-py has no plain tanh RNN cell; the recipe uses LSTM.')
  }
  Object.assign(config, {
    optim: 'adam',
    adam_beta1: training.beta1,
    adam_beta2: training.beta2,
    learning_rate: training.lr,
    weight_decay: training.optimizer === 'adamw' ? training.weightDecay : 0,
    label_smoothing: training.labelSmoothing,
    max_grad_norm: training.clipNorm,
    batch_type: 'tokens',
    batch_size: training.tokenBudget,
    valid_batch_size: training.tokenBudget,
    accum_count: [training.accumulate],
    normalization: 'tokens',
    train_steps: training.maxSteps,
    valid_steps: training.validEvery,
    save_checkpoint_steps: training.checkpointEvery,
    keep_checkpoint: training.keepCheckpoints,
    report_every: training.logEvery,
    seed: training.seed,
    param_init: 0,
    param_init_glorot: true,
  })
  const schedule = inverseSqrt(training.schedule, training.lr)
  if (schedule) {
    // noam: lr·d^-0.5·min(step^-0.5, step·warmup^-1.5); the same curve as a peak at `warmup` when lr = peak·√(d·warmup).
    Object.assign(config, { decay_method: 'noam', warmup_steps: schedule.warmup, learning_rate: schedule.peak * Math.sqrt(modelWidth(run) * schedule.warmup) })
  } else {
    Object.assign(config, { decay_method: 'none', learning_rate_decay: 1 })
    if (training.schedule.kind === 'plateau') notes.push('OpenNMT-py has no decay on plateau; the recipe keeps the learning rate constant.')
  }
  if (training.optimizer === 'adamw') notes.push("OpenNMT-py's Adam applies weight_decay as L2, not AdamW's decoupled decay.")
  if (training.patience > 0) {
    Object.assign(config, { early_stopping: training.patience, early_stopping_criteria: training.bestMetric === 'dev/loss' ? 'ppl' : 'accuracy' })
    notes.push('OpenNMT-py stops early on validation accuracy or perplexity, not BLEU/chrF.')
  }
  notes.push('The vocabularies list the SentencePiece model\'s pieces; onmt_build_vocab can rebuild them from the training data instead.')
  return { config, notes }
}
