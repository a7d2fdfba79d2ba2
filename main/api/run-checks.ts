// Combinations of run settings that cannot train, found before a run is created (shared by the engine and the form).
import type { Seq2SeqModelConfig, TransformerModelConfig } from './contract.ts'

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
