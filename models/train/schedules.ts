// Learning-rate schedules: constant, inverse square root with warmup (Vaswani et al. 2017 §5.3, as fairseq's
// inverse_sqrt), Noam (the same with d_model^-0.5 scaling), and reduce-on-plateau driven by validation.

export type Schedule =
  | { kind: 'constant' }
  /** Linear warmup to lr, then lr·√(warmup / step). */
  | { kind: 'inverse-sqrt'; warmup: number }
  /** factor · d_model^-0.5 · min(step^-0.5, step · warmup^-1.5); lr is ignored. */
  | { kind: 'noam'; warmup: number; dModel: number; factor: number }
  /** lr · decay^(number of reductions); a reduction after `patience` validations without improvement. */
  | { kind: 'plateau'; patience: number; decay: number; minLr: number }

/** What reduce-on-plateau remembers between validations (saved with checkpoints). */
export interface PlateauState {
  best: number | null
  badValidations: number
  reductions: number
}

export const initialPlateau: PlateauState = { best: null, badValidations: 0, reductions: 0 }

/** The learning rate of (1-based) update `step`. */
export function learningRate(schedule: Schedule, baseLr: number, step: number, plateau: PlateauState = initialPlateau): number {
  const t = Math.max(1, step)
  switch (schedule.kind) {
    case 'constant':
      return baseLr
    case 'inverse-sqrt':
      return t < schedule.warmup ? (baseLr * t) / schedule.warmup : baseLr * Math.sqrt(schedule.warmup / t)
    case 'noam':
      return schedule.factor * schedule.dModel ** -0.5 * Math.min(t ** -0.5, t * schedule.warmup ** -1.5)
    case 'plateau':
      return Math.max(schedule.minLr, baseLr * schedule.decay ** plateau.reductions)
  }
}

/** Updates the plateau state with a validation value (lower is better when `lowerIsBetter`). */
export function observePlateau(schedule: Schedule, state: PlateauState, value: number, lowerIsBetter: boolean): PlateauState {
  if (schedule.kind !== 'plateau') return state
  const improved = state.best === null || (lowerIsBetter ? value < state.best : value > state.best)
  if (improved) return { ...state, best: value, badValidations: 0 }
  const bad = state.badValidations + 1
  return bad >= schedule.patience ? { best: state.best, badValidations: 0, reductions: state.reductions + 1 } : { ...state, badValidations: bad }
}
