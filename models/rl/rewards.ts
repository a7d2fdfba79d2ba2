// Sequence-level rewards for policy-gradient training of translation: a sentence's BLEU or chrF against its reference,
// scaled to [0, 1] (the policy's return; one reward per sampled sentence, given at its end).
import { sentenceBleu } from '../metrics/bleu.ts'
import { sentenceChrf } from '../metrics/chrf.ts'

export type SentenceRewardKind = 'bleu' | 'chrf'

export function sentenceReward(kind: SentenceRewardKind, hypothesis: string, reference: string): number {
  return (kind === 'bleu' ? sentenceBleu(hypothesis, reference) : sentenceChrf(hypothesis, reference)) / 100
}
