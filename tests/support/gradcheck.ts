// Compares analytic gradients (tf.variableGrads) with central finite differences, in float32.
import * as tf from '@tensorflow/tfjs'
import { Random } from '../../models/core/random.ts'

export interface GradCheckOptions {
  /** Finite-difference step. */
  epsilon?: number
  /** Coordinates checked per variable (all when the variable is smaller). */
  samples?: number
  absoluteTolerance?: number
  relativeTolerance?: number
  seed?: number
}

export interface GradCheckFailure {
  variable: string
  index: number
  analytic: number
  numeric: number
}

/**
 * `loss` must be deterministic (no dropout) and depend on `variables`. Returns the coordinates whose
 * gradients disagree beyond |a − n| ≤ atol + rtol·max(|a|, |n|); an empty list means the check passed.
 */
export function checkGradients(loss: () => tf.Scalar, variables: tf.Variable[], options: GradCheckOptions = {}): GradCheckFailure[] {
  const epsilon = options.epsilon ?? 1e-2
  const atol = options.absoluteTolerance ?? 2e-3
  const rtol = options.relativeTolerance ?? 3e-2
  const random = new Random(options.seed ?? 7)
  const { grads, value } = tf.variableGrads(loss, variables)
  value.dispose()
  const failures: GradCheckFailure[] = []
  const evaluate = (): number => {
    const result = loss()
    const number = result.dataSync()[0]!
    result.dispose()
    return number
  }
  for (const variable of variables) {
    const analytic = grads[variable.name]!.dataSync()
    const original = variable.dataSync().slice() as Float32Array
    const count = Math.min(options.samples ?? 12, original.length)
    const indices = new Set<number>()
    while (indices.size < count) indices.add(random.integer(original.length))
    for (const index of indices) {
      const probe = (delta: number): number => {
        const values = original.slice()
        values[index]! += delta
        tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)))
        return evaluate()
      }
      const numeric = (probe(epsilon) - probe(-epsilon)) / (2 * epsilon)
      const a = analytic[index]!
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)))) {
        failures.push({ variable: variable.name, index, analytic: a, numeric })
      }
    }
    tf.tidy(() => variable.assign(tf.tensor(original, variable.shape)))
  }
  for (const gradient of Object.values(grads)) gradient.dispose()
  return failures
}
