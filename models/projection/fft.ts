// 2-D fast Fourier transform of a square complex grid (rows, then columns) over fft.js's radix-4 1-D transform, for
// the t-SNE repulsion's grid convolution. Grids are [size, size] row-major with re, im interleaved.
import FFT from 'fft.js'

/** dst = srcᵀ for [n, n] complex grids, in cache-sized tiles. */
function transpose(src: Float64Array, dst: Float64Array, n: number): void {
  const tile = 16
  for (let r0 = 0; r0 < n; r0 += tile)
    for (let c0 = 0; c0 < n; c0 += tile)
      for (let r = r0; r < Math.min(r0 + tile, n); r++)
        for (let c = c0; c < Math.min(c0 + tile, n); c++) {
          dst[2 * (c * n + r)] = src[2 * (r * n + c)]!
          dst[2 * (c * n + r) + 1] = src[2 * (r * n + c) + 1]!
        }
}

export class Fft2d {
  private readonly fft: FFT
  private readonly scratch: Float64Array

  constructor(readonly size: number) {
    if (size < 2 || (size & (size - 1)) !== 0) throw new Error(`FFT size must be a power of two ≥ 2, not ${size}`)
    this.fft = new FFT(size)
    this.scratch = new Float64Array(2 * size * size)
  }

  /** A zeroed grid of this size. */
  grid(): Float64Array {
    return new Float64Array(2 * this.size * this.size)
  }

  /**
   * The 2-D transform of `grid` in place, left transposed (the spectrum's [column, row]): a convolution with a
   * kernel that is symmetric in x and y multiplies either layout alike, and the inverse takes it back. Only the first
   * `inputRows` rows may be non-zero.
   */
  forwardTransposed(grid: Float64Array, inputRows = this.size): void {
    this.rows(grid, this.scratch, inputRows, false)
    this.scratch.fill(0, 2 * inputRows * this.size) // the transform of a zero row
    transpose(this.scratch, grid, this.size)
    this.rows(grid, this.scratch, this.size, false)
    grid.set(this.scratch)
  }

  /** The inverse of forwardTransposed (scaled by 1/size²), wanted only in the first `outputRows` × `outputRows`. */
  inverseTransposed(grid: Float64Array, outputRows = this.size): void {
    this.rows(grid, this.scratch, this.size, true)
    transpose(this.scratch, grid, this.size)
    this.rows(grid, this.scratch, outputRows, true)
    grid.set(this.scratch.subarray(0, 2 * outputRows * this.size))
  }

  /** 1-D transforms of the first `count` rows of `from` into `to`. */
  private rows(from: Float64Array, to: Float64Array, count: number, inverse: boolean): void {
    const n = this.size
    for (let r = 0; r < count; r++) {
      const data = from.subarray(2 * r * n, 2 * (r + 1) * n)
      const out = to.subarray(2 * r * n, 2 * (r + 1) * n)
      if (inverse) this.fft.inverseTransform(out, data)
      else this.fft.transform(out, data)
    }
  }
}
