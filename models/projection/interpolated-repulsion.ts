// t-SNE's repulsive forces in 2-D by polynomial interpolation on an equispaced grid and FFT convolution (Linderman
// et al. 2019, "Fast interpolation-based t-SNE for improved visualization of single-cell RNA-seq data", FIt-SNE):
// the sums φ_i = Σ_j K(y_i, y_j)·c_j with K = (1 + ‖y_i − y_j‖²)⁻² and charges c ∈ {1, y_x, y_y, ‖y‖²} are found by
// spreading each point's charges onto the p×p Lagrange nodes of its grid box, convolving the grid with K (a Toeplitz
// product, done by FFT on a circulant embedding), and interpolating back. O(n + N² log N) per iteration.
import { Fft2d } from './fft.ts'

/** Lagrange nodes per box and axis (FIt-SNE's default). */
const NODES_PER_BOX = 3
/** Box widths come from a ladder of 2^(k/8), so the kernel's transform is reused across iterations. */
const LADDER_STEPS_PER_OCTAVE = 8

/** Grids and the kernel's transform for one FFT size and node spacing. */
interface Grids {
  transform: Fft2d
  spacing: number
  /** The kernel's transform (real; one value per cell). */
  kernel: Float64Array
  /** Interleaved complex grids: charges (1 + i·y_x) and (y_y + i·‖y‖²), then their potentials. */
  first: Float64Array
  second: Float64Array
}

export class InterpolatedRepulsion {
  private grids: Grids | null = null
  private boxOf = new Int32Array(0)
  private weightsX = new Float64Array(0)
  private weightsY = new Float64Array(0)

  /**
   * @param boxesPerUnit grid boxes per unit of layout length at least (FIt-SNE: 1), while maxBoxes allows
   * @param minBoxes boxes per side at least (finer grids while the layout is small)
   * @param maxBoxes boxes per side at most: caps the FFT size (42: 256², 85: 512²) as the layout grows
   */
  constructor(
    private readonly boxesPerUnit = 1,
    private readonly minBoxes = 40,
    private readonly maxBoxes = 42,
  ) {}

  private gridsFor(size: number, spacing: number): Grids {
    if (this.grids && this.grids.transform.size === size && this.grids.spacing === spacing) return this.grids
    // Same size, new spacing: the transform and the charge grids carry over; only the kernel changes.
    const reuse = this.grids?.transform.size === size ? this.grids : null
    const transform = reuse?.transform ?? new Fft2d(size)
    const cells = size * size
    // The kernel on node offsets in (−size/2, size/2] per axis, wrapped circularly: exact for any data within size/2
    // nodes. Real and even, so its transform is real.
    const wrapped = transform.grid()
    for (let row = 0; row < size; row++) {
      const dy = row <= size / 2 ? row : row - size
      for (let column = 0; column < size; column++) {
        const dx = column <= size / 2 ? column : column - size
        const q = 1 / (1 + (dx * dx + dy * dy) * spacing * spacing)
        wrapped[2 * (row * size + column)] = q * q
      }
    }
    transform.forwardTransposed(wrapped)
    const kernel = new Float64Array(cells)
    for (let cell = 0; cell < cells; cell++) kernel[cell] = wrapped[2 * cell]!
    this.grids = { transform, spacing, kernel, first: reuse?.first ?? transform.grid(), second: reuse?.second ?? transform.grid() }
    return this.grids
  }

  /** Writes Σ_j q_ij² (y_i − y_j) (unnormalised repulsion, q = (1 + ‖y_i − y_j‖²)⁻¹) into `repulsive` ([n, 2]); returns Z = Σ_{i≠j} q_ij. */
  compute(y: Float32Array, n: number, repulsive: Float64Array): number {
    const p = NODES_PER_BOX
    let minX = Infinity
    let minY = Infinity
    let maxX = -Infinity
    let maxY = -Infinity
    for (let i = 0; i < n; i++) {
      const x = y[i * 2]!
      const v = y[i * 2 + 1]!
      if (x < minX) minX = x
      if (x > maxX) maxX = x
      if (v < minY) minY = v
      if (v > maxY) maxY = v
    }
    const span = Math.max(maxX - minX, maxY - minY, 1e-6) * (1 + 1e-6)
    // The narrowest ladder width that covers the span in maxBoxes, and no wider than the span asks for.
    const wanted = Math.max(span / this.maxBoxes, Math.min(1 / this.boxesPerUnit, span / this.minBoxes))
    const boxWidth = 2 ** (Math.ceil(Math.log2(wanted) * LADDER_STEPS_PER_OCTAVE) / LADDER_STEPS_PER_OCTAVE)
    const boxes = Math.max(1, Math.ceil(span / boxWidth))
    const m = boxes * p // grid nodes per side; box b's node a sits at (b·p + a + ½)·spacing
    const size = 1 << Math.ceil(Math.log2(2 * m)) // a circulant embedding needs ≥ 2m − 1
    const grids = this.gridsFor(size, boxWidth / p)
    const { transform, kernel, first, second } = grids

    // Each point's box and Lagrange weights on its box's nodes, per axis.
    if (this.boxOf.length < 2 * n) {
      this.boxOf = new Int32Array(n * 2)
      this.weightsX = new Float64Array(n * p)
      this.weightsY = new Float64Array(n * p)
    }
    for (let i = 0; i < n; i++) {
      for (let axis = 0; axis < 2; axis++) {
        const position = (y[i * 2 + axis]! - (axis === 0 ? minX : minY)) / boxWidth
        const box = Math.min(boxes - 1, Math.floor(position))
        this.boxOf[i * 2 + axis] = box
        const u = position - box // in [0, 1)
        const weights = axis === 0 ? this.weightsX : this.weightsY
        for (let a = 0; a < p; a++) {
          let w = 1
          for (let b = 0; b < p; b++) if (b !== a) w *= (u - (b + 0.5) / p) / ((a - b) / p)
          weights[i * p + a] = w
        }
      }
    }

    // Charges spread onto the grid, two per complex grid: (1 + i·y_x) and (y_y + i·‖y‖²).  [size, size] each
    first.fill(0)
    second.fill(0)
    for (let i = 0; i < n; i++) {
      const yx = y[i * 2]!
      const yy = y[i * 2 + 1]!
      const squared = yx * yx + yy * yy
      const row0 = this.boxOf[i * 2 + 1]! * p
      const column0 = this.boxOf[i * 2]! * p
      for (let b = 0; b < p; b++) {
        const wy = this.weightsY[i * p + b]!
        for (let a = 0; a < p; a++) {
          const w = wy * this.weightsX[i * p + a]!
          const cell = 2 * ((row0 + b) * size + column0 + a)
          first[cell]! += w
          first[cell + 1]! += w * yx
          second[cell]! += w * yy
          second[cell + 1]! += w * squared
        }
      }
    }

    // Convolution with the kernel: its transform is real (and symmetric, so the transposed layout is no matter), so
    // each complex grid carries two real charges.
    transform.forwardTransposed(first, m)
    transform.forwardTransposed(second, m)
    for (let cell = 0; cell < size * size; cell++) {
      const k = kernel[cell]!
      first[2 * cell]! *= k
      first[2 * cell + 1]! *= k
      second[2 * cell]! *= k
      second[2 * cell + 1]! *= k
    }
    transform.inverseTransposed(first, m)
    transform.inverseTransposed(second, m)

    // Interpolate the four potentials back to the points and combine.
    let z = 0
    for (let i = 0; i < n; i++) {
      const row0 = this.boxOf[i * 2 + 1]! * p
      const column0 = this.boxOf[i * 2]! * p
      let phiOne = 0
      let phiX = 0
      let phiY = 0
      let phiSquared = 0
      for (let b = 0; b < p; b++) {
        const wy = this.weightsY[i * p + b]!
        for (let a = 0; a < p; a++) {
          const w = wy * this.weightsX[i * p + a]!
          const cell = 2 * ((row0 + b) * size + column0 + a)
          phiOne += w * first[cell]!
          phiX += w * first[cell + 1]!
          phiY += w * second[cell]!
          phiSquared += w * second[cell + 1]!
        }
      }
      const yx = y[i * 2]!
      const yy = y[i * 2 + 1]!
      // Σ_j (1 + ‖y_i − y_j‖²)·K_ij = Σ_j q_ij, which counts j = i once (q_ii = 1).
      z += (1 + yx * yx + yy * yy) * phiOne - 2 * (yx * phiX + yy * phiY) + phiSquared - 1
      repulsive[i * 2] = yx * phiOne - phiX
      repulsive[i * 2 + 1] = yy * phiOne - phiY
    }
    return z
  }
}
