// Orthogonal Procrustes (Schönemann 1966): the rotation (or reflection) and scale that best map one projection
// onto another, min ‖s·(A − ā)R + b̄ − B‖ with RᵀR = I — so projections of several checkpoints can be compared.

/** Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations: values and column vectors. */
export function symmetricEigen(matrix: readonly number[][]): { values: number[]; vectors: number[][] } {
  const n = matrix.length
  const a = matrix.map((row) => [...row])
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)))
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2
    if (off < 1e-22) break
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!)
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1))
        const c = 1 / Math.sqrt(t * t + 1)
        const s = t * c
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!
          const akq = a[k]![q]!
          a[k]![p] = c * akp - s * akq
          a[k]![q] = s * akp + c * akq
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!
          const aqk = a[q]![k]!
          a[p]![k] = c * apk - s * aqk
          a[q]![k] = s * apk + c * aqk
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!
          const vkq = v[k]![q]!
          v[k]![p] = c * vkp - s * vkq
          v[k]![q] = s * vkp + c * vkq
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v }
}

/** Row-major [n, dims] coordinates of `moving` rotated, scaled and shifted onto `reference` (same rows, same order). */
export function alignTo(moving: Float32Array, reference: Float32Array, dims: number): Float32Array {
  const n = moving.length / dims
  if (reference.length !== moving.length || n === 0) throw new Error('Procrustes needs the same points in both projections')
  const mean = (x: Float32Array) => Array.from({ length: dims }, (_, d) => {
    let sum = 0
    for (let i = 0; i < n; i++) sum += x[i * dims + d]!
    return sum / n
  })
  const ma = mean(moving)
  const mb = mean(reference)
  // M = (A − ā)ᵀ(B − b̄), [dims, dims]
  const m = Array.from({ length: dims }, () => new Array<number>(dims).fill(0))
  let normA = 0
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < dims; p++) {
      const a = moving[i * dims + p]! - ma[p]!
      normA += a * a
      for (let q = 0; q < dims; q++) m[p]![q]! += a * (reference[i * dims + q]! - mb[q]!)
    }
  }
  // R = M (MᵀM)^(−1/2) = U Vᵀ, from the eigen-decomposition of MᵀM = V Σ² Vᵀ.
  const mtm = Array.from({ length: dims }, (_, p) => Array.from({ length: dims }, (_, q) => m.reduce((sum, row) => sum + row[p]! * row[q]!, 0)))
  const { values, vectors } = symmetricEigen(mtm)
  const inverseRoot = Array.from({ length: dims }, (_, p) =>
    Array.from({ length: dims }, (_, q) => values.reduce((sum, value, k) => sum + (value > 1e-12 ? (vectors[p]![k]! * vectors[q]![k]!) / Math.sqrt(value) : 0), 0)),
  )
  const rotation = m.map((row) => Array.from({ length: dims }, (_, q) => row.reduce((sum, x, k) => sum + x * inverseRoot[k]![q]!, 0)))
  const trace = values.reduce((sum, value) => sum + Math.sqrt(Math.max(0, value)), 0) // Σ singular values
  const scale = normA > 0 ? trace / normA : 1
  const out = new Float32Array(moving.length)
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < dims; q++) {
      let sum = 0
      for (let p = 0; p < dims; p++) sum += (moving[i * dims + p]! - ma[p]!) * rotation[p]![q]!
      out[i * dims + q] = scale * sum + mb[q]!
    }
  }
  return out
}
