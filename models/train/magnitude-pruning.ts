// Magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune", eq. 1): the weights of smallest |w| are set to
// zero and kept there, the sparsity rising s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³ at steps t₀, t₀ + Δt, …, t₀ + nΔt.
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'

export interface PruningSchedule {
  /** Final sparsity s_f: the share of prunable weights that end at zero. */
  sparsity: number
  /** global: one threshold over every prunable weight; layer: each matrix pruned to the same share. */
  scope: 'global' | 'layer'
  /** t₀: the step pruning starts from (s_i = 0 there, unless one-shot). */
  startStep: number
  /** t₀ + nΔt: the step the final sparsity is reached; equal to startStep for one-shot pruning. */
  endStep: number
  /** Δt: steps between mask updates. */
  every: number
}

/** Sparsity the masks hold after `step`'s update: the schedule's value at the last mask update at or before it. */
export function scheduledSparsity(schedule: PruningSchedule, step: number): number {
  const { sparsity, startStep, endStep, every } = schedule
  if (step < startStep) return 0
  if (endStep <= startStep || step >= endStep) return sparsity
  const updated = startStep + Math.floor((step - startStep) / every) * every
  const progress = Math.min(1, (updated - startStep) / (endStep - startStep))
  return sparsity * (1 - (1 - progress) ** 3)
}

/** Whether `step` is one at which the masks are recomputed. */
export function isMaskUpdate(schedule: PruningSchedule, step: number): boolean {
  if (step < schedule.startStep || step > schedule.endStep) return false
  return step === schedule.endStep || (step - schedule.startStep) % schedule.every === 0
}

/** Weight matrices, embeddings and kernels are pruned; biases, gains and other vectors are not. */
export function prunableNames(params: ParameterStore): string[] {
  return params.entries().filter(([, variable]) => variable.rank >= 2).map(([name]) => name)
}

export interface LayerSparsity {
  name: string
  size: number
  zeros: number
}

/**
 * Which of `magnitudes` to keep so that exactly `zeros` of them are pruned: the smallest first; among equal
 * magnitudes at the threshold, the earliest. Returns 1 (keep) or 0 (prune) per weight.
 */
export function magnitudeMask(magnitudes: Float32Array, zeros: number): Uint8Array {
  const keep = new Uint8Array(magnitudes.length).fill(1)
  if (zeros <= 0) return keep
  if (zeros >= magnitudes.length) return keep.fill(0)
  const threshold = Float32Array.from(magnitudes).sort()[zeros - 1]!
  let pruned = 0
  for (let i = 0; i < magnitudes.length; i++) {
    if (magnitudes[i]! < threshold) {
      keep[i] = 0
      pruned++
    }
  }
  for (let i = 0; i < magnitudes.length && pruned < zeros; i++) {
    if (magnitudes[i] === threshold) {
      keep[i] = 0
      pruned++
    }
  }
  return keep
}

/** Holds one 0/1 mask per prunable parameter and re-applies it after every update. */
export class MagnitudePruner {
  private readonly masks = new Map<string, tf.Tensor>()

  constructor(
    private readonly params: ParameterStore,
    private readonly scope: PruningSchedule['scope'],
    readonly names: readonly string[] = prunableNames(params),
  ) {}

  /** New masks pruning `sparsity` of the weights by magnitude (zeros already there count as the smallest). */
  async prune(sparsity: number): Promise<void> {
    const values = await Promise.all(this.names.map(async (name) => (await this.params.get(name).data()) as Float32Array))
    const masks: Uint8Array[] = []
    if (this.scope === 'layer') {
      for (const weights of values) masks.push(magnitudeMask(weights.map(Math.abs), Math.round(sparsity * weights.length)))
    } else {
      const total = values.reduce((sum, weights) => sum + weights.length, 0)
      const all = new Float32Array(total)
      let at = 0
      for (const weights of values) {
        for (let i = 0; i < weights.length; i++) all[at + i] = Math.abs(weights[i]!)
        at += weights.length
      }
      const keep = magnitudeMask(all, Math.round(sparsity * total))
      at = 0
      for (const weights of values) {
        masks.push(keep.subarray(at, at + weights.length))
        at += weights.length
      }
    }
    this.names.forEach((name, i) => {
      this.masks.get(name)?.dispose()
      const variable = this.params.get(name)
      this.masks.set(name, tf.tensor(Float32Array.from(masks[i]!), variable.shape, 'float32'))
    })
    this.apply()
  }

  /** Masks keeping exactly the weights that are not zero now (a resumed run, whose pruned weights were saved as 0). */
  async keepNonZero(): Promise<void> {
    for (const name of this.names) {
      const variable = this.params.get(name)
      const weights = (await variable.data()) as Float32Array
      this.masks.get(name)?.dispose()
      this.masks.set(name, tf.tensor(weights.map((w) => (w === 0 ? 0 : 1)), variable.shape, 'float32'))
    }
  }

  /** w ← w ⊙ mask: pruned weights go back to zero after the optimizer moved them. */
  apply(): void {
    for (const [name, mask] of this.masks) {
      const variable = this.params.get(name)
      tf.tidy(() => variable.assign(tf.mul(variable, mask)))
    }
  }

  /** Zeros per prunable parameter, counted in the weights themselves. */
  async sparsityByLayer(): Promise<LayerSparsity[]> {
    return Promise.all(
      this.names.map(async (name) => {
        const weights = (await this.params.get(name).data()) as Float32Array
        let zeros = 0
        for (const w of weights) if (w === 0) zeros++
        return { name, size: weights.length, zeros }
      }),
    )
  }

  dispose(): void {
    for (const mask of this.masks.values()) mask.dispose()
    this.masks.clear()
  }
}

/** Overall sparsity of a set of layers: zeros over weights. */
export function overallSparsity(layers: readonly LayerSparsity[]): number {
  const size = layers.reduce((sum, layer) => sum + layer.size, 0)
  return size === 0 ? 0 : layers.reduce((sum, layer) => sum + layer.zeros, 0) / size
}
