// Sinusoidal positions, Vaswani et al. 2017 §3.5: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(·).
import * as tf from '@tensorflow/tfjs'

/** The table's values, [length, dim] row-major (also what model exports embed). */
export function sinusoidalValues(length: number, dim: number): Float32Array {
  const values = new Float32Array(length * dim)
  for (let pos = 0; pos < length; pos++) {
    for (let i = 0; i < dim; i += 2) {
      const angle = pos / Math.pow(10000, i / dim)
      values[pos * dim + i] = Math.sin(angle)
      if (i + 1 < dim) values[pos * dim + i + 1] = Math.cos(angle)
    }
  }
  return values
}

export function sinusoidalPositions(length: number, dim: number): tf.Tensor2D {
  return tf.tensor2d(sinusoidalValues(length, dim), [length, dim]) // [length, dim]
}
