// `kotoba w2v eval`: analogy accuracy per section and Spearman's ρ of one stored epoch, on the given files or the
// bundled WordNet sets.
import { resolve } from 'node:path'
import type { Result, ValidParams } from '../../api/contract.ts'
import { evaluateAnalogies } from '../../../models/word2vec/analogy-evaluation.ts'
import { evaluateSimilarity } from '../../../models/word2vec/evaluation.ts'
import type { Database } from '../store/database.ts'
import { findWord2Vec, loadVectors } from './repository.ts'
import { bundledEvalSets, readAnalogies, readSimilarityPairs } from './eval-sets.ts'

export async function evaluateWord2Vec(db: Database, params: ValidParams<'w2v.eval'>, progress: (done: number, total: number) => void): Promise<Result<'w2v.eval'>> {
  const started = performance.now()
  const run = findWord2Vec(db, params.name)
  if (!run) throw new Error(`no word2vec embeddings named '${params.name}'`)
  const stored = loadVectors(db, run.id, params.epoch)
  if (!stored) throw new Error(params.epoch === undefined ? `'${params.name}' has no vectors yet` : `'${params.name}' has no vectors for epoch ${params.epoch}`)
  const bothDefault = params.analogies === undefined && params.similarity === undefined
  const analogies = params.analogies ? resolve(params.analogies) : bothDefault ? bundledEvalSets.analogies() : null
  const similarityFile = params.similarity ? resolve(params.similarity) : bothDefault ? bundledEvalSets.similarity() : null
  const analogy = analogies
    ? await evaluateAnalogies(stored.vectors, readAnalogies(analogies), { method: params.method, restrictVocab: params.restrictVocab ?? null })
    : null
  progress(1, 2)
  const similarity = similarityFile ? evaluateSimilarity(stored.vectors, readSimilarityPairs(similarityFile)) : null
  progress(2, 2)
  const finite = (value: number) => (Number.isFinite(value) ? value : null)
  return {
    name: params.name,
    epoch: stored.epoch,
    analogies,
    similarityFile,
    analogy,
    similarity: similarity ? { ...similarity, spearman: finite(similarity.spearman), pearson: finite(similarity.pearson) } : null,
    seconds: (performance.now() - started) / 1000,
  }
}
