// Single-precision matrix product C = op(A)·op(B) for the TensorFlow.js wasm backend, in the Goto/BLIS scheme
// (Goto & van de Geijn 2008, "Anatomy of high-performance matrix multiplication"): op(B) is packed into column
// panels and op(A) into row panels that stay in cache, and a 4×8 register tile of eight f32x4 accumulators runs
// over them. 4×8 leaves V8's sixteen xmm registers room for the operands, so nothing spills; wider tiles did.
// Built twice: with relaxed-SIMD fused multiply-add where the engine has it, and with mul + add where it does not.
// Transposed operands cost nothing extra: packing reads them in either order. The module imports the backend's
// memory, works on tensors in place and keeps its packed panels in scratch space the host allocates.

const KC: i32 = 256 // depth of one packed block: a 4×256 A panel and a 256×8 B panel fit L1 together
const MC: i32 = 64 // rows of op(A) packed at once (64 KiB)
const NC: i32 = 512 // columns of op(B) packed at once (512 KiB, in L2)
const MR: i32 = 4
const NR: i32 = 8

const PACKED_BYTES: i32 = (KC * (MC + NC)) << 2
const EDGE_BYTES: i32 = (MR * NR) << 2

/** Bytes of scratch one gemm call needs: the packed A and B blocks and one ragged tile. */
export function scratchBytes(): i32 {
  return PACKED_BYTES + EDGE_BYTES
}

// @ts-ignore: decorator
@inline function multiplyAdd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c)
  return f32x4.add(f32x4.mul(a, b), c)
}

/** Stores the 4×4 transpose of rows v0..v3 (four floats each): output q, at out + q·stride, holds lane q of each row. */
// @ts-ignore: decorator
@inline function storeTransposed(v0: v128, v1: v128, v2: v128, v3: v128, out: usize, stride: usize): void {
  const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5) // [v0₀ v1₀ v0₁ v1₁]
  const t1 = i32x4.shuffle(v0, v1, 2, 6, 3, 7) // [v0₂ v1₂ v0₃ v1₃]
  const t2 = i32x4.shuffle(v2, v3, 0, 4, 1, 5)
  const t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7)
  v128.store(out, i64x2.shuffle(t0, t2, 0, 2))
  v128.store(out + stride, i64x2.shuffle(t0, t2, 1, 3))
  v128.store(out + 2 * stride, i64x2.shuffle(t1, t3, 0, 2))
  v128.store(out + 3 * stride, i64x2.shuffle(t1, t3, 1, 3))
}

/**
 * What the vector paths leave of a panel, one float at a time: `steps` depth steps from p0 of `width` lines (rows of
 * op(A) or columns of op(B)) from `first`, of which `real` exist (the rest are zeros). Line l at step p lies at
 * x[(first + l)·ld + p] when `lineMajor`, else at x[p·ld + first + l]. Returns the next output address.
 */
function packRemaining(x: usize, ld: i32, lineMajor: bool, first: i32, real: i32, width: i32, p0: i32, steps: i32, out: usize): usize {
  for (let p = p0; p < p0 + steps; p++) {
    for (let l = 0; l < width; l++) {
      let value: f32 = 0
      if (l < real) value = lineMajor ? load<f32>(x + ((<usize>(first + l) * ld + p) << 2)) : load<f32>(x + ((<usize>p * ld + first + l) << 2))
      store<f32>(out, value)
      out += 4
    }
  }
  return out
}

/**
 * `count` lines from `first` — rows of op(A) (width MR) or columns of op(B) (width NR) — over depth p0..p0+depth, as
 * [count/width][depth][width] (lines past the end are zeros). Line l at step p lies at x[(first + l)·ld + p] when
 * `lineMajor` (A untransposed, B transposed), else at x[p·ld + first + l]. Full panels move four floats at a time:
 * `width` contiguous floats a step, or four steps of each four lines transposed in registers.
 */
// @ts-ignore: decorator
@inline function packPanels(x: usize, ld: i32, lineMajor: bool, first: i32, count: i32, width: i32, p0: i32, depth: i32, out: usize): void {
  const lineBytes = <usize>ld << 2
  for (let panel = 0; panel < count; panel += width) {
    const real = min(width, count - panel)
    if (real == width && !lineMajor) {
      const start = x + ((<usize>p0 * ld + first + panel) << 2)
      for (let p = 0; p < depth; p++) {
        const source = start + <usize>p * lineBytes
        for (let lane = 0; lane < width; lane += 4) v128.store(out + (<usize>lane << 2), v128.load(source + (<usize>lane << 2)))
        out += <usize>width << 2
      }
      continue
    }
    let p = 0
    if (real == width) {
      const line = x + ((<usize>(first + panel) * ld + p0) << 2)
      const stepBytes = <usize>width << 2
      for (; p + 4 <= depth; p += 4) {
        for (let group = 0; group < width; group += 4) {
          const at = line + <usize>group * lineBytes + (<usize>p << 2)
          storeTransposed(v128.load(at), v128.load(at + lineBytes), v128.load(at + 2 * lineBytes), v128.load(at + 3 * lineBytes), out + (<usize>group << 2), stepBytes)
        }
        out += 4 * stepBytes
      }
    }
    out = packRemaining(x, ld, lineMajor, first + panel, real, width, p0 + p, depth - p, out)
  }
}

/** One MR×NR tile of C (its top-left at c, row stride ldc floats) = or += packed A panel · packed B panel. */
function tile(pa: usize, pb: usize, depth: i32, c: usize, ldc: i32, rows: i32, cols: i32, accumulate: bool, edge: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0)
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0)
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0)
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0)
  for (let p = 0; p < depth; p++) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16) // B[p, 0..8]
    let x = v128.load32_splat(pa) // A[0, p] in every lane
    c00 = multiplyAdd(x, b0, c00); c01 = multiplyAdd(x, b1, c01)
    x = v128.load32_splat(pa, 4)
    c10 = multiplyAdd(x, b0, c10); c11 = multiplyAdd(x, b1, c11)
    x = v128.load32_splat(pa, 8)
    c20 = multiplyAdd(x, b0, c20); c21 = multiplyAdd(x, b1, c21)
    x = v128.load32_splat(pa, 12)
    c30 = multiplyAdd(x, b0, c30); c31 = multiplyAdd(x, b1, c31)
    pa += 16
    pb += 32
  }
  const row = <usize>ldc << 2
  if (rows == MR && cols == NR) {
    if (accumulate) {
      c00 = f32x4.add(c00, v128.load(c)); c01 = f32x4.add(c01, v128.load(c, 16))
      c10 = f32x4.add(c10, v128.load(c + row)); c11 = f32x4.add(c11, v128.load(c + row, 16))
      c20 = f32x4.add(c20, v128.load(c + 2 * row)); c21 = f32x4.add(c21, v128.load(c + 2 * row, 16))
      c30 = f32x4.add(c30, v128.load(c + 3 * row)); c31 = f32x4.add(c31, v128.load(c + 3 * row, 16))
    }
    v128.store(c, c00); v128.store(c, c01, 16)
    v128.store(c + row, c10); v128.store(c + row, c11, 16)
    v128.store(c + 2 * row, c20); v128.store(c + 2 * row, c21, 16)
    v128.store(c + 3 * row, c30); v128.store(c + 3 * row, c31, 16)
    return
  }
  // A ragged tile at the bottom or right edge: park it in scratch, then write only its real part.
  v128.store(edge, c00); v128.store(edge, c01, 16); v128.store(edge, c10, 32); v128.store(edge, c11, 48)
  v128.store(edge, c20, 64); v128.store(edge, c21, 80); v128.store(edge, c30, 96); v128.store(edge, c31, 112)
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const target = c + <usize>r * row + (<usize>q << 2)
      const value = load<f32>(edge + (<usize>(r * NR + q) << 2))
      store<f32>(target, accumulate ? load<f32>(target) + value : value)
    }
  }
}

/**
 * The block rows i0..i1 × columns j0..j1 of C[m, n] = op(A)·op(B), op(A) [m, k], op(B) [k, n], k ≥ 1; A is stored
 * [k, m] when transA, B [n, k] when transB. Threads share one product by taking disjoint blocks, each with its own
 * scratch (scratchBytes()).
 */
export function gemm(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, transA: bool, transB: bool, i0: i32, i1: i32, j0: i32, j1: i32, scratch: usize): void {
  const lda = transA ? m : k
  const ldb = transB ? k : n
  const packedA = scratch
  const packedB = scratch + (<usize>(MC * KC) << 2)
  const edge = scratch + <usize>PACKED_BYTES
  for (let jc = j0; jc < j1; jc += NC) {
    const cols = min(NC, j1 - jc)
    for (let pc = 0; pc < k; pc += KC) {
      const depth = min(KC, k - pc)
      packPanels(b, ldb, transB, jc, cols, NR, pc, depth, packedB)
      for (let ic = i0; ic < i1; ic += MC) {
        const rows = min(MC, i1 - ic)
        packPanels(a, lda, !transA, ic, rows, MR, pc, depth, packedA)
        for (let jr = 0; jr < cols; jr += NR) {
          const panelB = packedB + (<usize>(jr * depth) << 2)
          for (let ir = 0; ir < rows; ir += MR) {
            const target = c + ((<usize>(ic + ir) * n + jc + jr) << 2)
            tile(packedA + (<usize>(ir * depth) << 2), panelB, depth, target, n, min(MR, rows - ir), min(NR, cols - jr), pc > 0, edge)
          }
        }
      }
    }
  }
}

/**
 * The block rows i0..i1 × columns j0..j1 of C[m, n] = A·Bᵀ, A [m, k], B [n, k], as dot products of contiguous
 * rows, without packing: for products with a few rows (decoding a beam through a tied output layer), where packing
 * B would cost as much as the product. Four rows of B at a time stay in L1 while every row of A passes over them.
 */
export function gemmRowsDotRows(a: usize, b: usize, c: usize, m: i32, k: i32, n: i32, i0: i32, i1: i32, j0: i32, j1: i32): void {
  const vectorEnd = k & ~3
  const row = <usize>k << 2
  let j = j0
  for (; j + 4 <= j1; j += 4) {
    const b0 = b + <usize>j * row
    for (let i = i0; i < i1; i++) {
      const ai = a + <usize>i * row
      let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0)
      for (let p = 0; p < vectorEnd; p += 4) {
        const offset = <usize>p << 2
        const x = v128.load(ai + offset)
        s0 = multiplyAdd(x, v128.load(b0 + offset), s0)
        s1 = multiplyAdd(x, v128.load(b0 + row + offset), s1)
        s2 = multiplyAdd(x, v128.load(b0 + 2 * row + offset), s2)
        s3 = multiplyAdd(x, v128.load(b0 + 3 * row + offset), s3)
      }
      // Transpose-and-add the four sums so lane q holds row j + q's dot product.
      const t01lo = i32x4.shuffle(s0, s1, 0, 4, 1, 5), t01hi = i32x4.shuffle(s0, s1, 2, 6, 3, 7)
      const t23lo = i32x4.shuffle(s2, s3, 0, 4, 1, 5), t23hi = i32x4.shuffle(s2, s3, 2, 6, 3, 7)
      const u01 = f32x4.add(t01lo, t01hi) // [s0a+s0c, s1a+s1c, s0b+s0d, s1b+s1d]
      const u23 = f32x4.add(t23lo, t23hi)
      let sums = f32x4.add(i64x2.shuffle(u01, u23, 0, 2), i64x2.shuffle(u01, u23, 1, 3))
      for (let p = vectorEnd; p < k; p++) {
        const offset = <usize>p << 2
        const x = load<f32>(ai + offset)
        sums = f32x4.add(sums, f32x4(x * load<f32>(b0 + offset), x * load<f32>(b0 + row + offset), x * load<f32>(b0 + 2 * row + offset), x * load<f32>(b0 + 3 * row + offset)))
      }
      v128.store(c + ((<usize>i * n + j) << 2), sums)
    }
  }
  for (; j < j1; j++) {
    const bj = b + <usize>j * row
    for (let i = i0; i < i1; i++) {
      const ai = a + <usize>i * row
      let sum: f32 = 0
      for (let p = 0; p < k; p++) sum += load<f32>(ai + (<usize>p << 2)) * load<f32>(bj + (<usize>p << 2))
      store<f32>(c + ((<usize>i * n + j) << 2), sum)
    }
  }
}

// ---- int8 ----------------------------------------------------------------------------------------------------------
// Post-training int8 inference (Jacob et al. 2018, symmetric scales): C[i, j] = sᵢ·tⱼ·Σₚ qa[i, p]·qb[j, p], where
// A's rows are quantised here per row (sᵢ = max|A[i, :]|/127) and B's rows (the weights' output channels) were
// quantised once when the checkpoint was made. Rows are `stride` bytes (k rounded up to 8, padded with zeros), so
// eight int8 pairs sign-extend into one i16x8 and i32x4.dot_i16x8_s multiplies and pairs them: 8 multiply-adds an
// instruction, on a quarter of the float product's memory traffic.

/** qa [m, stride] int8 and scales [m] f32 from A [m, k] f32: symmetric per-row scales, round to nearest, zeros past k. */
export function quantizeRows(a: usize, m: i32, k: i32, stride: i32, qa: usize, scales: usize): void {
  for (let i = 0; i < m; i++) {
    const row = a + ((<usize>i * k) << 2)
    let largest: f32 = 0
    for (let p = 0; p < k; p++) largest = max(largest, abs<f32>(load<f32>(row + (<usize>p << 2))))
    const scale: f32 = largest > 0 ? largest / 127 : 1
    const inverse: f32 = 1 / scale
    const out = qa + <usize>i * stride
    for (let p = 0; p < k; p++) {
      const q = nearest<f32>(load<f32>(row + (<usize>p << 2)) * inverse)
      store<i8>(out + p, <i8>(<i32>min<f32>(127, max<f32>(-127, q))))
    }
    for (let p = k; p < stride; p++) store<i8>(out + p, 0)
    store<f32>(scales + (<usize>i << 2), scale)
  }
}

/** The four lanes of each accumulator summed, lane q from x_q, as one i32x4. */
// @ts-ignore: decorator
@inline function laneSums(x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const lo01 = i32x4.shuffle(x0, x1, 0, 4, 1, 5), hi01 = i32x4.shuffle(x0, x1, 2, 6, 3, 7)
  const lo23 = i32x4.shuffle(x2, x3, 0, 4, 1, 5), hi23 = i32x4.shuffle(x2, x3, 2, 6, 3, 7)
  const u01 = i32x4.add(lo01, hi01)
  const u23 = i32x4.add(lo23, hi23)
  return i32x4.add(i64x2.shuffle(u01, u23, 0, 2), i64x2.shuffle(u01, u23, 1, 3))
}

/** C[i, j..j+4] = sᵢ·t[j..j+4]·sums. */
// @ts-ignore: decorator
@inline function storeScaled(sums: v128, rowScale: f32, colScales: usize, j: i32, target: usize): void {
  v128.store(target, f32x4.mul(f32x4.mul(f32x4.convert_i32x4_s(sums), f32x4.splat(rowScale)), v128.load(colScales + (<usize>j << 2))))
}

/**
 * Columns j0..j1 of C [m, n] f32 = (qa [m, stride] · qbᵀ [n, stride]) scaled by aScales [m] and bScales [n]. Two rows of
 * A against four rows of B at a time: eight i32x4 accumulators, six operands, within V8's sixteen registers.
 */
export function gemmInt8(qa: usize, aScales: usize, qb: usize, bScales: usize, c: usize, m: i32, stride: i32, n: i32, j0: i32, j1: i32): void {
  const rowBytes = <usize>stride
  let j = j0
  for (; j + 4 <= j1; j += 4) {
    const b0 = qb + <usize>j * rowBytes, b1 = b0 + rowBytes, b2 = b1 + rowBytes, b3 = b2 + rowBytes
    let i = 0
    for (; i + 2 <= m; i += 2) {
      const a0 = qa + <usize>i * rowBytes, a1 = a0 + rowBytes
      let s00 = i32x4.splat(0), s01 = i32x4.splat(0), s02 = i32x4.splat(0), s03 = i32x4.splat(0)
      let s10 = i32x4.splat(0), s11 = i32x4.splat(0), s12 = i32x4.splat(0), s13 = i32x4.splat(0)
      for (let p: usize = 0; p < rowBytes; p += 8) {
        const x0 = v128.load8x8_s(a0 + p), x1 = v128.load8x8_s(a1 + p)
        let w = v128.load8x8_s(b0 + p)
        s00 = i32x4.add(s00, i32x4.dot_i16x8_s(x0, w)); s10 = i32x4.add(s10, i32x4.dot_i16x8_s(x1, w))
        w = v128.load8x8_s(b1 + p)
        s01 = i32x4.add(s01, i32x4.dot_i16x8_s(x0, w)); s11 = i32x4.add(s11, i32x4.dot_i16x8_s(x1, w))
        w = v128.load8x8_s(b2 + p)
        s02 = i32x4.add(s02, i32x4.dot_i16x8_s(x0, w)); s12 = i32x4.add(s12, i32x4.dot_i16x8_s(x1, w))
        w = v128.load8x8_s(b3 + p)
        s03 = i32x4.add(s03, i32x4.dot_i16x8_s(x0, w)); s13 = i32x4.add(s13, i32x4.dot_i16x8_s(x1, w))
      }
      storeScaled(laneSums(s00, s01, s02, s03), load<f32>(aScales + (<usize>i << 2)), bScales, j, c + ((<usize>i * n + j) << 2))
      storeScaled(laneSums(s10, s11, s12, s13), load<f32>(aScales + (<usize>(i + 1) << 2)), bScales, j, c + ((<usize>(i + 1) * n + j) << 2))
    }
    if (i < m) {
      const a0 = qa + <usize>i * rowBytes
      let s0 = i32x4.splat(0), s1 = i32x4.splat(0), s2 = i32x4.splat(0), s3 = i32x4.splat(0)
      for (let p: usize = 0; p < rowBytes; p += 8) {
        const x = v128.load8x8_s(a0 + p)
        s0 = i32x4.add(s0, i32x4.dot_i16x8_s(x, v128.load8x8_s(b0 + p)))
        s1 = i32x4.add(s1, i32x4.dot_i16x8_s(x, v128.load8x8_s(b1 + p)))
        s2 = i32x4.add(s2, i32x4.dot_i16x8_s(x, v128.load8x8_s(b2 + p)))
        s3 = i32x4.add(s3, i32x4.dot_i16x8_s(x, v128.load8x8_s(b3 + p)))
      }
      storeScaled(laneSums(s0, s1, s2, s3), load<f32>(aScales + (<usize>i << 2)), bScales, j, c + ((<usize>i * n + j) << 2))
    }
  }
  for (; j < j1; j++) {
    const bj = qb + <usize>j * rowBytes
    const columnScale = load<f32>(bScales + (<usize>j << 2))
    for (let i = 0; i < m; i++) {
      const ai = qa + <usize>i * rowBytes
      let s = i32x4.splat(0)
      for (let p: usize = 0; p < rowBytes; p += 8) s = i32x4.add(s, i32x4.dot_i16x8_s(v128.load8x8_s(ai + p), v128.load8x8_s(bj + p)))
      const sum = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3)
      store<f32>(c + ((<usize>i * n + j) << 2), <f32>sum * load<f32>(aScales + (<usize>i << 2)) * columnScale)
    }
  }
}
