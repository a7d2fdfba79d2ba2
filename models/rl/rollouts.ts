// The rollouts of self-critical policy-gradient training: for every input row, one output sampled from the policy
// (exploration at `temperature`) and the greedy output whose reward is the sample's baseline (Rennie et al. 2017).
import type * as tf from '@tensorflow/tfjs'
import { Random } from '../core/random.ts'
import { greedyDecode } from '../decode/greedy.ts'
import type { Hypothesis } from '../decode/hypothesis.ts'
import { sampleBatch } from '../decode/sampling.ts'
import type { StepDecoder } from '../decode/step-decoder.ts'

export interface Rollouts {
  samples: Hypothesis[]
  greedy: Hypothesis[]
}

/** src [B, S]: row i's sample and greedy output. The random stream is fixed by (seed, step, part), so a resumed or
 *  retried update draws the same samples. */
export async function rollOut<S>(
  decoder: StepDecoder<S>,
  src: tf.Tensor2D,
  srcMask: tf.Tensor2D,
  limits: { bos: number; eos: number; maxLength: number },
  temperature: number,
  stream: { seed: number; step: number; part: number },
): Promise<Rollouts> {
  const random = new Random(((stream.seed * 1_000_003) ^ (stream.step * 131 + stream.part)) >>> 0)
  const samples = await sampleBatch(decoder, src, srcMask, { ...limits, temperature, topK: 0, topP: 1 }, random)
  const greedy = await greedyDecode(decoder, src, srcMask, limits)
  return { samples, greedy }
}
