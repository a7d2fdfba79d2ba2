// KL-term weight β(step) for VHRED (Bowman et al. 2016, §3.1): 0 at the start so the decoder first learns to use
// the latent code, rising to 1 linearly or along a sigmoid, against posterior collapse.
export type KlAnnealing = { kind: 'none' } | { kind: 'linear'; steps: number } | { kind: 'sigmoid'; steps: number }

export function klWeight(schedule: KlAnnealing, step: number): number {
  switch (schedule.kind) {
    case 'none':
      return 1
    case 'linear':
      return Math.min(1, step / schedule.steps)
    case 'sigmoid':
      // Centred at half the annealing steps, 0.0025 … 0.9975 over its span.
      return 1 / (1 + Math.exp(-12 * (step / schedule.steps - 0.5)))
  }
}
