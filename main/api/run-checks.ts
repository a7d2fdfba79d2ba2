// What keeps a run from training, found before it is created (shared by the engine and the form): combinations of
// settings that cannot work, and a corpus without its splits.
import type { CorpusSummary, Seq2SeqModelConfig, TransformerModelConfig } from './contract.ts'

export interface RunSettings {
  seq2seq?: Partial<Seq2SeqModelConfig> | null
  transformer?: Partial<TransformerModelConfig> | null
}

/** Why these settings cannot train (empty: they can). Each reason names the settings and a fix. */
export function settingProblems({ seq2seq, transformer }: RunSettings): string[] {
  const problems: string[] = []
  if (seq2seq?.attention === 'luong-dot' && seq2seq.bidirectional) {
    // Luong dot scores hᵀh̄ need equal sizes; a bidirectional encoder's states are twice the decoder's.
    problems.push('Luong dot attention needs encoder states the size of the decoder’s, but a bidirectional encoder doubles them: choose Luong general, Bahdanau, or a unidirectional encoder')
  }
  if (transformer?.dModel !== undefined && transformer.heads !== undefined && transformer.dModel % transformer.heads !== 0) {
    problems.push(`d_model ${transformer.dModel} does not split into ${transformer.heads} heads: choose a head count that divides it`)
  }
  return problems
}

/** A run trains on the train split and validates on dev: both must have rows. */
export const hasTrainingSplits = (corpus: Pick<CorpusSummary, 'splits'>): boolean => corpus.splits.train > 0 && corpus.splits.dev > 0

/** Dev (and test) rows to suggest for a corpus: about 5 % each, at most 200, at least one. */
export const suggestedHeldOut = (rows: number): number => Math.max(1, Math.min(200, Math.round(rows * 0.05)))
