// The evaluation files of word2vec runs: the bundled WordNet sets, and reading a questions or word-pair file with
// errors that name the file (and, from the parsers, the line).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Word2VecConfig } from '../../api/contract.ts'
import { parseAnalogies, parseSimilarityPairs, type AnalogySection, type RatedPair } from '../../../models/word2vec/evaluation.ts'
import { sampleDir } from '../sample/load.ts'

/** The bundled WordNet evaluation sets (see main/engine/sample/README.md). */
export const bundledEvalSets = {
  analogies: () => join(sampleDir(), 'evalsets', 'analogy.wordnet.txt'),
  similarity: () => join(sampleDir(), 'evalsets', 'wordsim.wordnet.tsv'),
}

function readEvalFile<T>(path: string, parse: (text: string) => T): T {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  try {
    return parse(text)
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`)
  }
}

export const readAnalogies = (path: string): AnalogySection[] => readEvalFile(path, parseAnalogies)
export const readSimilarityPairs = (path: string): RatedPair[] => readEvalFile(path, parseSimilarityPairs)

/** The evaluation files a run tracks per epoch: its own, else the bundled sets; null turns one off. */
export function evalSets(config: Word2VecConfig): { analogies: AnalogySection[] | null; similarity: RatedPair[] | null } {
  const analogies = config.analogies === undefined ? bundledEvalSets.analogies() : config.analogies
  const similarity = config.similarity === undefined ? bundledEvalSets.similarity() : config.similarity
  return { analogies: analogies ? readAnalogies(analogies) : null, similarity: similarity ? readSimilarityPairs(similarity) : null }
}
