// The projector's t-SNE pieces against their definitions: the 2-D FFT against a direct DFT, the interpolated
// repulsion against the exact O(n²) sums, exact neighbours against sorting every distance, the wasm Gram rows against
// plain JavaScript, and whole t-SNE layouts (2-D interpolation, 3-D Barnes-Hut) that keep separated clusters apart.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Random } from '../models/core/random.ts'
import { exactNeighbours, gramRowsJs } from '../models/projection/exact-neighbours.ts'
import { Fft2d } from '../models/projection/fft.ts'
import { InterpolatedRepulsion } from '../models/projection/interpolated-repulsion.ts'
import { tsne } from '../models/projection/tsne.ts'
import { wasmGramRows } from '../renderer/src/projector/wasm-gram.ts'

test('the 2-D FFT equals a direct DFT, and the inverse returns the grid (first rows only in, first columns out)', () => {
  const size = 8
  const random = new Random(1)
  const transform = new Fft2d(size)
  const grid = transform.grid()
  const inputRows = 5
  for (let e = 0; e < 2 * size * inputRows; e++) grid[e] = random.normal()
  const original = grid.slice()
  transform.forwardTransposed(grid, inputRows)
  for (let u = 0; u < size; u++)
    for (let v = 0; v < size; v++) {
      let re = 0
      let im = 0
      for (let r = 0; r < size; r++)
        for (let c = 0; c < size; c++) {
          const angle = (-2 * Math.PI * (u * r + v * c)) / size
          const [a, b] = [original[2 * (r * size + c)]!, original[2 * (r * size + c) + 1]!]
          re += a * Math.cos(angle) - b * Math.sin(angle)
          im += a * Math.sin(angle) + b * Math.cos(angle)
        }
      // The spectrum is left transposed: [v, u].
      assert.ok(Math.abs(grid[2 * (v * size + u)]! - re) < 1e-9 && Math.abs(grid[2 * (v * size + u) + 1]! - im) < 1e-9, `X[${u}, ${v}]`)
    }
  transform.inverseTransposed(grid, 6)
  for (let r = 0; r < 6; r++)
    for (let c = 0; c < 6; c++) for (let part = 0; part < 2; part++) assert.ok(Math.abs(grid[2 * (r * size + c) + part]! - original[2 * (r * size + c) + part]!) < 1e-12)
})

/** Σ_{j≠i} q_ij and Σ_j q_ij²(y_i − y_j) with q = (1 + ‖y_i − y_j‖²)⁻¹, directly. */
function exactRepulsion(y: Float32Array, n: number): { z: number; forces: Float64Array } {
  let z = 0
  const forces = new Float64Array(2 * n)
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      if (i === j) continue
      const dx = y[2 * i]! - y[2 * j]!
      const dy = y[2 * i + 1]! - y[2 * j + 1]!
      const q = 1 / (1 + dx * dx + dy * dy)
      z += q
      forces[2 * i]! += q * q * dx
      forces[2 * i + 1]! += q * q * dy
    }
  return { z, forces }
}

test('interpolated repulsion matches the exact sums: to 1e-3 on a small layout, to 10 % on one 50 units wide', () => {
  const random = new Random(2)
  for (const [span, tolerance] of [
    [5, 1e-3],
    [50, 0.1],
  ] as const) {
    const n = 1500
    // Two blobs and a uniform background, so near and far pairs both count.
    const y = Float32Array.from({ length: 2 * n }, (_, e) => (e % 3 === 0 ? span * (random.uniform(0, 1) - 0.5) : (span / 8) * random.normal() + (e % 2 ? span / 4 : -span / 4)))
    const forces = new Float64Array(2 * n)
    const z = new InterpolatedRepulsion().compute(y, n, forces)
    const exact = exactRepulsion(y, n)
    assert.ok(Math.abs(z - exact.z) / exact.z < tolerance, `span ${span}: Z ${z} against ${exact.z}`)
    let error = 0
    let norm = 0
    for (let e = 0; e < 2 * n; e++) {
      error += (forces[e]! - exact.forces[e]!) ** 2
      norm += exact.forces[e]! ** 2
    }
    assert.ok(Math.sqrt(error / norm) < tolerance, `span ${span}: relative force error ${Math.sqrt(error / norm)}`)
  }
})

test('exact neighbours are the k nearest by sorting, the point itself first; the wasm Gram rows equal the JavaScript ones', () => {
  const random = new Random(3)
  const [n, d, k] = [300, 13, 10]
  const rows = Float32Array.from({ length: n * d }, () => random.normal())
  const fromWasm = new Float32Array(40 * n)
  const fromJs = new Float32Array(40 * n)
  wasmGramRows()(rows, n, d, 100, 140, fromWasm)
  gramRowsJs(rows, n, d, 100, 140, fromJs)
  for (let e = 0; e < fromJs.length; e++) assert.ok(Math.abs(fromWasm[e]! - fromJs[e]!) < 1e-4, `Gram entry ${e}`)
  for (const gramRows of [gramRowsJs, wasmGramRows()]) {
    const graph = exactNeighbours(rows, n, d, k, { gramRows })
    for (const i of [0, 17, 299]) {
      const byDistance = Array.from({ length: n }, (_, j) => {
        let sum = 0
        for (let c = 0; c < d; c++) sum += (rows[i * d + c]! - rows[j * d + c]!) ** 2
        return { j, distance: Math.sqrt(sum) }
      }).sort((a, b) => a.distance - b.distance)
      assert.equal(graph.indices[i * k], i)
      for (let r = 1; r < k; r++) assert.ok(Math.abs(graph.distances[i * k + r]! - byDistance[r]!.distance) < 1e-3, `row ${i} rank ${r}`)
    }
  }
})

/** Points around `clusters` well-separated centres in d dimensions; cluster of point i is i % clusters. */
function clustered(n: number, d: number, clusters: number, random: Random): Float32Array {
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: d }, () => 4 * random.normal()))
  return Float32Array.from({ length: n * d }, (_, e) => centres[Math.floor(e / d) % clusters]![e % d]! + random.normal())
}

/** How often a point's nearest neighbour in the layout is from its own cluster. */
function agreement(layout: Float32Array, n: number, dims: number, clusters: number): number {
  let agree = 0
  for (let i = 0; i < n; i++) {
    let best = -1
    let bestDistance = Infinity
    for (let j = 0; j < n; j++) {
      if (j === i) continue
      let sum = 0
      for (let c = 0; c < dims; c++) sum += (layout[i * dims + c]! - layout[j * dims + c]!) ** 2
      if (sum < bestDistance) [best, bestDistance] = [j, sum]
    }
    if (best % clusters === i % clusters) agree++
  }
  return agree / n
}

test('t-SNE lays out separated clusters apart, in 2-D (interpolation) and 3-D (Barnes-Hut), and reports its progress', () => {
  const [n, d, clusters] = [600, 20, 6]
  for (const dims of [2, 3] as const) {
    const random = new Random(4)
    const rows = clustered(n, d, clusters, random)
    const reported: number[] = []
    const layout = tsne(rows, n, d, { dims, perplexity: 20, iterations: 300, random: () => random.uniform(0, 1), onIteration: (iteration) => reported.push(iteration), reportEvery: 50 })
    assert.equal(layout.length, n * dims)
    assert.ok(layout.every(Number.isFinite), 'finite coordinates')
    assert.deepEqual(reported, [50, 100, 150, 200, 250, 300])
    const score = agreement(layout, n, dims, clusters)
    assert.ok(score > 0.95, `${dims}-D: nearest neighbour in the same cluster for ${score} (random: ${1 / clusters})`)
  }
})
