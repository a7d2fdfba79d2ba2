// The word2vec part of the API contract: run configuration, summaries, queries, evaluation, files.
import { z } from 'zod'
import { Name } from './limits.ts'

export const Word2VecConfig = z
  .object({
    /** The corpus trained on (null for vectors imported from a file). */
    corpus: Name.nullable().default(null),
    /** Which text of a parallel corpus (dialogues and monolingual corpora: all of it). */
    side: z.enum(['src', 'tgt', 'joint']).default('joint'),
    lowercase: z.boolean().default(true),
    architecture: z.enum(['skipgram', 'cbow']).default('skipgram'),
    /** Hierarchical softmax over a Huffman tree. */
    hs: z.boolean().default(false),
    /** Negative samples per prediction (0: none; needs hs). */
    negative: z.number().int().min(0).max(100).default(5),
    dim: z.number().int().min(2).max(1000).default(100),
    window: z.number().int().min(1).max(100).default(5),
    minCount: z.number().int().min(1).default(5),
    /** Keep only the N most frequent words (null: no limit). */
    maxVocab: z.number().int().min(1).nullable().default(null),
    /** Subsampling threshold for frequent words (0: off). */
    sample: z.number().min(0).max(1).default(1e-3),
    /** Start learning rate (default: 0.025 skip-gram, 0.05 CBOW, as word2vec.c). */
    alpha: z.number().positive().max(1).optional(),
    minAlpha: z.number().min(0).max(1).default(1e-4),
    epochs: z.number().int().min(1).max(1000).default(5),
    seed: z.number().int().default(1),
    /** Worker threads (default: all cores). One thread is exactly reproducible for a seed. */
    threads: z.number().int().min(1).max(64).optional(),
    /** Evaluate after every epoch on these files (default: the bundled WordNet sets; null: not at all). */
    analogies: z.string().min(1).nullable().optional(),
    similarity: z.string().min(1).nullable().optional(),
    /** Where vectors that were not trained here came from (a file, or a translation run's embedding table). */
    origin: z.string().optional(),
  })
  .strict()
export type Word2VecConfig = z.infer<typeof Word2VecConfig>

export const Word2VecTrainParams = Word2VecConfig.extend({ name: Name, corpus: Name }).strict()
export type Word2VecTrainParams = z.infer<typeof Word2VecTrainParams>

export const Word2VecRef = z.object({ name: Name }).strict()

export const Word2VecStatus = z.enum(['created', 'running', 'paused', 'stopped', 'done', 'failed'])
export type Word2VecStatus = z.infer<typeof Word2VecStatus>

export const Word2VecEpoch = z.object({
  epoch: z.number().int(),
  /** Mean −log-likelihood per prediction over the epoch (exact log σ, summed per thread: no lost updates). */
  loss: z.number().nullable(),
  wordsPerSecond: z.number().nullable(),
  /** Analogy accuracy (%, over the questions evaluated) and Spearman's ρ, when evaluated. */
  analogy: z.number().nullable(),
  spearman: z.number().nullable(),
})
export type Word2VecEpoch = z.infer<typeof Word2VecEpoch>

export const Word2VecSummary = z.object({
  name: z.string(),
  source: z.enum(['trained', 'imported']),
  status: Word2VecStatus,
  corpus: z.string().nullable(),
  /** Epochs with stored vectors. */
  epoch: z.number().int(),
  epochs: z.number().int(),
  vocab: z.number().int(),
  dim: z.number().int(),
  /** e.g. "skip-gram, negative 5". */
  method: z.string(),
  error: z.string().nullable(),
  updatedAt: z.string(),
})
export type Word2VecSummary = z.infer<typeof Word2VecSummary>

export const Word2VecDetail = Word2VecSummary.extend({
  config: Word2VecConfig,
  epochLog: z.array(Word2VecEpoch),
  /** Epochs whose vectors are stored (for the projector's time axis). */
  storedEpochs: z.array(z.number().int()),
})
export type Word2VecDetail = z.infer<typeof Word2VecDetail>

export const ScoredWord = z.object({ word: z.string(), similarity: z.number() })

/** Which stored vectors a query reads: an epoch (default: the last). */
const AtEpoch = { name: Name, epoch: z.number().int().min(0).optional() }

export const AnalogyMethod = z.enum(['add', 'mul'])

export const SectionScore = z.object({ section: z.string(), correct: z.number().int(), evaluated: z.number().int(), skipped: z.number().int(), accuracy: z.number() })
export const AnalogyEvaluation = z.object({ method: AnalogyMethod, restrictVocab: z.number().int().nullable(), sections: z.array(SectionScore), total: SectionScore })
export const SimilarityEvaluation = z.object({ spearman: z.number().nullable(), pearson: z.number().nullable(), evaluated: z.number().int(), skipped: z.number().int() })

export const Word2VecFormat = z.enum(['word2vec', 'word2vec-bin', 'projector'])

export const word2vecMethods = {
  'w2v.list': { params: z.object({}).strict(), result: z.array(Word2VecSummary) },
  'w2v.show': { params: Word2VecRef, result: Word2VecDetail },
  /** Creates the run and starts training it (a job), unless `start` is false (then w2v.resume starts it). */
  'w2v.train': { params: Word2VecTrainParams.extend({ start: z.boolean().default(true) }).strict(), result: z.object({ jobId: z.string().nullable(), run: Word2VecSummary }) },
  /** Continues a paused, stopped or failed run from its last finished epoch. */
  'w2v.resume': { params: Word2VecRef, result: z.object({ jobId: z.string() }) },
  /** Stops after the current chunk; the last finished epoch stays (resume continues from it). */
  'w2v.pause': { params: Word2VecRef, result: Word2VecSummary },
  'w2v.delete': { params: Word2VecRef, result: z.object({ deleted: z.boolean() }) },
  'w2v.neighbors': {
    params: z.object({ ...AtEpoch, word: z.string().min(1), k: z.number().int().min(1).max(1000).default(10) }).strict(),
    result: z.object({ word: z.string(), epoch: z.number().int(), neighbours: z.array(ScoredWord) }),
  },
  'w2v.analogy': {
    params: z.object({ ...AtEpoch, a: z.string().min(1), b: z.string().min(1), c: z.string().min(1), k: z.number().int().min(1).max(100).default(10), method: AnalogyMethod.default('add') }).strict(),
    result: z.object({ epoch: z.number().int(), method: AnalogyMethod, answers: z.array(ScoredWord) }),
  },
  'w2v.similarity': {
    params: z.object({ ...AtEpoch, first: z.string().min(1), second: z.string().min(1) }).strict(),
    result: z.object({ epoch: z.number().int(), similarity: z.number() }),
  },
  'w2v.oddOneOut': {
    params: z.object({ ...AtEpoch, words: z.array(z.string().min(1)).min(3).max(100) }).strict(),
    result: z.object({ epoch: z.number().int(), word: z.string(), similarities: z.array(ScoredWord) }),
  },
  /** Analogy accuracy per section and Spearman's ρ (default files: the bundled WordNet sets). A job. */
  'w2v.eval': {
    params: z
      .object({
        ...AtEpoch,
        analogies: z.string().min(1).optional(),
        similarity: z.string().min(1).optional(),
        method: AnalogyMethod.default('add'),
        /** Only the N most frequent words as question words and answers (default: all). */
        restrictVocab: z.number().int().min(1).optional(),
      })
      .strict(),
    result: z.object({ name: z.string(), epoch: z.number().int(), analogies: z.string().nullable(), similarityFile: z.string().nullable(), analogy: AnalogyEvaluation.nullable(), similarity: SimilarityEvaluation.nullable(), seconds: z.number() }),
  },
  /** word2vec text or binary (one file), or the projector's vectors.tsv + metadata.tsv (a folder). */
  'w2v.export': {
    params: z.object({ ...AtEpoch, format: Word2VecFormat, out: z.string().min(1), force: z.boolean().default(false) }).strict(),
    result: z.object({ files: z.array(z.string()), words: z.number().int(), dim: z.number().int() }),
  },
  /** A word2vec text/binary or GloVe file (format detected; streamed, any size) as a new embedding set. */
  'w2v.import': {
    /** file: a word2vec text/binary or GloVe file, or the projector's vectors.tsv (its metadata.tsv beside it) or their
     *  folder. maxVocab: keep only the first N words (vector files are sorted by frequency; e.g. 3M-word GoogleNews). */
    params: z
      .object({ name: Name, file: z.string().min(1), format: z.enum(['word2vec', 'word2vec-bin', 'glove', 'projector']).optional(), maxVocab: z.number().int().min(1).optional() })
      .strict(),
    result: Word2VecSummary,
  },
  /** A translation or dialogue run's embedding table (source or target side, at its best or a given checkpoint) as
   *  an embedding set, so the projector and queries work on it: one vector per tokenizer piece. */
  'w2v.fromRun': {
    params: z.object({ name: Name, run: Name, side: z.enum(['source', 'target']).default('source'), checkpoint: z.number().int().optional() }).strict(),
    result: Word2VecSummary,
  },
  /** The vectors of one epoch for the projector: the most frequent `limit` words, float32 rows as base64. */
  'w2v.vectors': {
    params: z.object({ ...AtEpoch, limit: z.number().int().min(1).max(200_000).default(10_000) }).strict(),
    /** labels: categorical metadata columns (e.g. part of speech) of an imported projector set, per returned word. */
    result: z.object({ epoch: z.number().int(), words: z.array(z.string()), counts: z.array(z.number()).nullable(), labels: z.record(z.string(), z.array(z.string())), dim: z.number().int(), vectors: z.string() }),
  },
} as const
