// Ancestral sampling with temperature, top-k (Fan et al. 2018) and nucleus / top-p (Holtzman et al. 2020) truncation.
import type * as tf from '@tensorflow/tfjs'
import type { Random } from '../core/random.ts'
import { bannedTokens } from './no-repeat.ts'
import type { Hypothesis } from './hypothesis.ts'
import { readStep, type SpecialTokens, type StepDecoder } from './step-decoder.ts'

export interface SamplingOptions extends SpecialTokens {
  temperature: number
  /** Keep the k most probable tokens (0: all). */
  topK: number
  /** Keep the smallest set of most probable tokens whose mass reaches p (1: all). */
  topP: number
  maxLength: number
  noRepeatNgram?: number
}

/** Draws one token from log-probabilities after temperature, top-k and top-p; returns it with its (untruncated) log p. */
export function sampleToken(logProbs: Float32Array, options: SamplingOptions, random: Random, banned: Set<number> | null): number {
  const temperature = Math.max(options.temperature, 1e-6)
  let order = Array.from(logProbs.keys()).filter((v) => !banned?.has(v))
  order.sort((a, b) => logProbs[b]! - logProbs[a]!)
  if (options.topK > 0) order = order.slice(0, options.topK)
  const weights = order.map((v) => Math.exp((logProbs[v]! - logProbs[order[0]!]!) / temperature))
  let total = weights.reduce((a, b) => a + b, 0)
  if (options.topP < 1) {
    let mass = 0
    let keep = 0
    while (keep < weights.length && mass < options.topP * total) mass += weights[keep++]!
    order = order.slice(0, Math.max(1, keep))
    weights.length = order.length
    total = weights.reduce((a, b) => a + b, 0)
  }
  let draw = random.next() * total
  for (let i = 0; i < order.length; i++) {
    draw -= weights[i]!
    if (draw <= 0) return order[i]!
  }
  return order.at(-1)!
}

/** Samples `count` independent outputs for one sentence: src [1, srcLen]. */
export async function sampleDecode<S>(decoder: StepDecoder<S>, src: tf.Tensor2D, srcMask: tf.Tensor2D, count: number, options: SamplingOptions, random: Random): Promise<Hypothesis[]> {
  const encoded = decoder.start(src, srcMask)
  const state = decoder.select(encoded, new Array<number>(count).fill(0))
  decoder.dispose(encoded)
  const results = await sampleRows(decoder, state, count, options, random)
  return results.sort((a, b) => b.score - a.score)
}

/** One sample for each row of a batch (src [B, srcLen]), in row order: the rollouts of policy-gradient training. */
export async function sampleBatch<S>(decoder: StepDecoder<S>, src: tf.Tensor2D, srcMask: tf.Tensor2D, options: SamplingOptions, random: Random): Promise<Hypothesis[]> {
  return await sampleRows(decoder, decoder.start(src, srcMask), src.shape[0], options, random)
}

/** Extends every row by sampled tokens until each has emitted EOS or reached the length limit; disposes `state`. */
async function sampleRows<S>(decoder: StepDecoder<S>, initial: S, rows: number, options: SamplingOptions, random: Random): Promise<Hypothesis[]> {
  let state = initial
  const results: Hypothesis[] = Array.from({ length: rows }, () => ({ tokens: [], tokenLogProbs: [], logProb: 0, score: 0, attention: [], finished: false }))
  for (let t = 0; t < options.maxLength && !results.every((r) => r.finished); t++) {
    const out = await readStep(decoder, results.map((r) => (r.finished ? options.eos : (r.tokens.at(-1) ?? options.bos))), state)
    const { vocab, logProbs, attention: weights } = out
    state = out.state
    results.forEach((result, row) => {
      if (result.finished) return
      const rowLogProbs = logProbs.subarray(row * vocab, (row + 1) * vocab)
      const banned = options.noRepeatNgram ? bannedTokens(result.tokens, options.noRepeatNgram) : null
      const token = sampleToken(rowLogProbs, options, random, banned)
      result.tokenLogProbs.push(rowLogProbs[token]!)
      result.logProb += rowLogProbs[token]!
      if (weights) result.attention.push(weights[row]!)
      if (token === options.eos) result.finished = true
      else result.tokens.push(token)
    })
  }
  decoder.dispose(state)
  for (const result of results) result.score = result.logProb
  return results
}
