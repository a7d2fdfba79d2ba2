// Exact k-nearest neighbours by brute force: every pair's squared Euclidean distance ‖a‖² + ‖b‖² − 2a·b from blocks
// of the Gram matrix (rows · rowsᵀ), each row's k best kept in a bounded heap. O(n²d), faster than NN-Descent for the
// large k t-SNE asks (3 × perplexity) up to some ten thousand points, especially with a SIMD matrix product. Same
// graph layout as nearestNeighbours: the point itself first.
import { NeighbourHeaps, type NeighbourGraph } from './nn-descent.ts'

/** Writes rows i0..i1 of the Gram matrix, out[(i − i0)·n + j] = rows_i · rows_j, for [n, d] row-major rows. */
export type GramRows = (rows: Float32Array, n: number, d: number, i0: number, i1: number, out: Float32Array) => void

/** The Gram rows in plain JavaScript: four rows against one at a time, so each loaded coordinate serves four products. */
export const gramRowsJs: GramRows = (rows, n, d, i0, i1, out) => {
  for (let i = i0; i < i1; i += 4) {
    const count = Math.min(4, i1 - i)
    const a0 = i * d
    const a1 = Math.min(i + 1, i1 - 1) * d
    const a2 = Math.min(i + 2, i1 - 1) * d
    const a3 = Math.min(i + 3, i1 - 1) * d
    for (let j = 0; j < n; j++) {
      const b = j * d
      let dot0 = 0
      let dot1 = 0
      let dot2 = 0
      let dot3 = 0
      for (let c = 0; c < d; c++) {
        const v = rows[b + c]!
        dot0 += rows[a0 + c]! * v
        dot1 += rows[a1 + c]! * v
        dot2 += rows[a2 + c]! * v
        dot3 += rows[a3 + c]! * v
      }
      const at = (i - i0) * n + j
      out[at] = dot0
      if (count > 1) out[at + n] = dot1
      if (count > 2) out[at + 2 * n] = dot2
      if (count > 3) out[at + 3 * n] = dot3
    }
  }
}

/** Rows of the Gram matrix computed at once (a block of 256 × 10k floats is 10 MB). */
const BLOCK_ROWS = 256

export function exactNeighbours(
  rows: Float32Array,
  n: number,
  d: number,
  k: number,
  options: { gramRows?: GramRows; onProgress?: (done: number, total: number) => void } = {},
): NeighbourGraph {
  if (k > n) throw new Error(`cannot find ${k} neighbours among ${n} points`)
  const gramRows = options.gramRows ?? gramRowsJs
  const heaps = new NeighbourHeaps(n, k)
  const norms = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let sum = 0
    for (let c = 0; c < d; c++) sum += rows[i * d + c]! ** 2
    norms[i] = sum
  }
  const block = new Float32Array(Math.min(BLOCK_ROWS, n) * n)
  for (let i0 = 0; i0 < n; i0 += BLOCK_ROWS) {
    const i1 = Math.min(n, i0 + BLOCK_ROWS)
    gramRows(rows, n, d, i0, i1, block)
    for (let i = i0; i < i1; i++) {
      const base = (i - i0) * n
      // The point itself at distance 0, so it comes first whatever rounding says.
      heaps.push(i, i, -1, true)
      const root = i * k // the farthest neighbour kept so far: most candidates are farther
      const own = norms[i]!
      for (let j = 0; j < n; j++) {
        const squared = own + norms[j]! - 2 * block[base + j]!
        if (squared < heaps.dist[root]! && j !== i) heaps.push(i, j, Math.max(0, squared), true)
      }
    }
    options.onProgress?.(i1, n)
  }
  const graph = heaps.sorted()
  for (let i = 0; i < n; i++) graph.distances[i * k] = 0
  return graph
}
