// Greedy decoding: at each step take the most probable token, until EOS or the length limit (a whole batch at once).
import type * as tf from '@tensorflow/tfjs'
import { bannedTokens } from './no-repeat.ts'
import type { Hypothesis } from './hypothesis.ts'
import { readStep, type SpecialTokens, type StepDecoder } from './step-decoder.ts'

export interface GreedyOptions extends SpecialTokens {
  maxLength: number
  noRepeatNgram?: number
}

export async function greedyDecode<S>(decoder: StepDecoder<S>, src: tf.Tensor2D, srcMask: tf.Tensor2D, options: GreedyOptions): Promise<Hypothesis[]> {
  const batch = src.shape[0]
  let state = decoder.start(src, srcMask)
  const results: Hypothesis[] = Array.from({ length: batch }, () => ({ tokens: [], tokenLogProbs: [], logProb: 0, score: 0, attention: [], finished: false }))
  let previous = new Array<number>(batch).fill(options.bos)
  try {
    for (let t = 0; t < options.maxLength && !results.every((r) => r.finished); t++) {
      const out = await readStep(decoder, previous, state)
      const { vocab, logProbs, attention: weights } = out
      state = out.state
      previous = results.map((result, b) => {
        if (result.finished) return options.eos
        const banned = options.noRepeatNgram ? bannedTokens(result.tokens, options.noRepeatNgram) : null
        let best = -1
        for (let v = 0; v < vocab; v++) {
          if (banned?.has(v)) continue
          if (best < 0 || logProbs[b * vocab + v]! > logProbs[b * vocab + best]!) best = v
        }
        const logProb = logProbs[b * vocab + best]!
        result.tokenLogProbs.push(logProb)
        result.logProb += logProb
        if (weights) result.attention.push(weights[b]!)
        if (best === options.eos) result.finished = true
        else result.tokens.push(best)
        return best
      })
    }
  } finally {
    decoder.dispose(state)
  }
  for (const result of results) result.score = result.logProb
  return results
}
