// Beam search with the GNMT length penalty (Wu et al. 2016, eq. 14): lp(Y) = ((5 + |Y|) / 6)^α,
// hypotheses ranked by log P(Y|X) / lp(Y); returns the n best finished hypotheses of one sentence.
import type * as tf from '@tensorflow/tfjs'
import { bannedTokens } from './no-repeat.ts'
import type { Hypothesis } from './hypothesis.ts'
import { readStep, type SpecialTokens, type StepDecoder } from './step-decoder.ts'

export interface BeamOptions extends SpecialTokens {
  beamSize: number
  /** How many hypotheses to return (≤ beamSize). */
  nBest: number
  /** GNMT α; 0 ranks by the raw log-probability. */
  lengthPenalty: number
  maxLength: number
  noRepeatNgram?: number
}

export function lengthPenalty(length: number, alpha: number): number {
  return alpha === 0 ? 1 : ((5 + length) / 6) ** alpha
}

interface Live {
  tokens: number[]
  tokenLogProbs: number[]
  logProb: number
  attention: number[][]
}

/** Decodes one sentence: src [1, srcLen]. */
export async function beamSearch<S>(decoder: StepDecoder<S>, src: tf.Tensor2D, srcMask: tf.Tensor2D, options: BeamOptions): Promise<Hypothesis[]> {
  if (src.shape[0] !== 1) throw new Error(`beam search decodes one sentence at a time (got a batch of ${src.shape[0]})`)
  const beam = Math.max(1, options.beamSize)
  const nBest = Math.min(Math.max(1, options.nBest), beam)
  const encoded = decoder.start(src, srcMask)
  let state = decoder.select(encoded, [0])
  decoder.dispose(encoded)
  let live: Live[] = [{ tokens: [], tokenLogProbs: [], logProb: 0, attention: [] }]
  const finished: Hypothesis[] = []
  const finish = (hyp: Live, done: boolean): void => {
    const length = hyp.tokenLogProbs.length
    finished.push({ ...hyp, score: hyp.logProb / lengthPenalty(length, options.lengthPenalty), finished: done })
  }
  for (let t = 0; t < options.maxLength && live.length > 0 && finished.length < beam; t++) {
    const out = await readStep(decoder, live.map((h) => h.tokens.at(-1) ?? options.bos), state)
    const { vocab, logProbs, attention: weights } = out
    // Every (row, token) extension, best first; the top 2·beam always hold `beam` that do not end in EOS.
    const candidates: { row: number; token: number; logProb: number }[] = []
    live.forEach((hyp, row) => {
      const banned = options.noRepeatNgram ? bannedTokens(hyp.tokens, options.noRepeatNgram) : null
      for (let v = 0; v < vocab; v++) {
        if (banned?.has(v)) continue
        candidates.push({ row, token: v, logProb: hyp.logProb + logProbs[row * vocab + v]! })
      }
    })
    candidates.sort((a, b) => b.logProb - a.logProb)
    const next: Live[] = []
    const rows: number[] = []
    for (const [rank, candidate] of candidates.slice(0, 2 * beam).entries()) {
      // As in fairseq: an EOS ranked below the beam would not have survived, so it does not end a hypothesis.
      if (candidate.token === options.eos && rank >= beam) continue
      const parent = live[candidate.row]!
      const extended: Live = {
        tokens: candidate.token === options.eos ? parent.tokens : [...parent.tokens, candidate.token],
        tokenLogProbs: [...parent.tokenLogProbs, logProbs[candidate.row * vocab + candidate.token]!],
        logProb: candidate.logProb,
        attention: weights ? [...parent.attention, weights[candidate.row]!] : parent.attention,
      }
      if (candidate.token === options.eos) finish(extended, true)
      else if (next.length < beam) {
        next.push(extended)
        rows.push(candidate.row)
      }
      if (next.length >= beam && finished.length >= beam) break
    }
    const nextState = decoder.select(out.state, rows)
    decoder.dispose(out.state)
    state = nextState
    live = next
    if (t === options.maxLength - 1) for (const hyp of live) finish(hyp, false)
  }
  decoder.dispose(state)
  if (finished.length === 0) for (const hyp of live) finish(hyp, false)
  finished.sort((a, b) => b.score - a.score)
  return finished.slice(0, nBest)
}
