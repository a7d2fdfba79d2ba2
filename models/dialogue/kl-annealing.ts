// KL-term weight β(step) for VHRED, against posterior collapse: 0 at the start so the decoder first learns to use the
// latent code, rising to 1 linearly or along a sigmoid (Bowman et al. 2016, §3.1), or in cycles that each ramp from
// 0 to 1 over the first `ramp` share of the cycle and hold 1 for the rest (Fu et al. 2019, eq. 5).
export type KlAnnealing =
  | { kind: 'none' }
  | { kind: 'linear'; steps: number }
  | { kind: 'sigmoid'; steps: number }
  | { kind: 'cyclical'; cycleSteps: number; ramp: number }

export function klWeight(schedule: KlAnnealing, step: number): number {
  switch (schedule.kind) {
    case 'none':
      return 1
    case 'linear':
      return Math.min(1, step / schedule.steps)
    case 'sigmoid':
      // Centred at half the annealing steps, 0.0025 … 0.9975 over its span.
      return 1 / (1 + Math.exp(-12 * (step / schedule.steps - 0.5)))
    case 'cyclical': {
      const position = (step % schedule.cycleSteps) / schedule.cycleSteps // τ ∈ [0, 1)
      return Math.min(1, position / schedule.ramp)
    }
  }
}
