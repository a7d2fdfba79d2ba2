// Training kernels for the TensorFlow.js wasm backend, compiled to WebAssembly with SIMD. The module imports the
// backend's own memory, so it reads and writes tensors where they lie; it has no data of its own and never
// allocates. Addresses are byte offsets of float32/int32 tensors; the host checks shapes.

// ---- exp, four lanes at a time (Cephes-style: 2^n · e^r with |r| ≤ ln2/2, degree-6 Taylor, rel. error < 2e-7)

const LOG2E: f32 = 1.44269504
const LN2_HI: f32 = 0.693359375
const LN2_LO: f32 = -2.12194440e-4
const EXP_MIN: f32 = -87.33 // below this e^x underflows float32's normal range
const EXP_MAX: f32 = 88.72

// @ts-ignore: decorator
@inline function expLanes(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, f32x4.splat(EXP_MAX)), f32x4.splat(EXP_MIN))
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)))
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)))
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)))
  let p = f32x4.splat(1.0 / 720.0)
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 120.0))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 24.0))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0 / 6.0))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(0.5))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0))
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.0))
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23) // 2^n as float bits
  return f32x4.mul(p, scale)
}

// @ts-ignore: decorator
@inline function expScalar(x: f32): f32 {
  return f32x4.extract_lane(expLanes(f32x4.splat(x)), 0)
}

// ---- ln x without lookup tables: AssemblyScript's Math.log keeps 4 KiB of tables in the module's data segment,
// which instantiation would write into the backend's heap (this module imports that memory and must own none of it)

const LN2: f64 = 0.6931471805599453
const SQRT2: f64 = 1.4142135623730951

/** ln x for a positive normal x: x = m·2^e with m in [√½, √2), ln m = 2·atanh(s), s = (m − 1)/(m + 1), |s| < 0.172. */
// @ts-ignore: decorator
@inline function logPositive(x: f64): f64 {
  if (!isFinite<f64>(x)) return x // NaN (diverged logits) stays NaN
  const bits = reinterpret<u64>(x)
  let exponent = <i32>((bits >> 52) & 0x7ff) - 1023
  let m = reinterpret<f64>((bits & 0x000fffffffffffff) | 0x3ff0000000000000) // [1, 2)
  if (m > SQRT2) {
    m *= 0.5
    exponent++
  }
  const s = (m - 1) / (m + 1)
  const s2 = s * s
  // 2·(s + s³/3 + … + s¹⁹/19); the first term left out is below 1e-17
  let p: f64 = 1.0 / 19
  p = p * s2 + 1.0 / 17
  p = p * s2 + 1.0 / 15
  p = p * s2 + 1.0 / 13
  p = p * s2 + 1.0 / 11
  p = p * s2 + 1.0 / 9
  p = p * s2 + 1.0 / 7
  p = p * s2 + 1.0 / 5
  p = p * s2 + 1.0 / 3
  p = p * s2 + 1.0
  return <f64>exponent * LN2 + 2 * s * p
}

// ---- softmax cross-entropy with label smoothing (Szegedy et al. 2016, §7), one pass over the logits per row

/**
 * Per row i of logits [rows, vocab]: probs[i] = softmax(z), and
 * losses[i] = logsumexp(z) − (1 − ε)·z[yᵢ] − (ε/V)·Σᵥ z[v]  (= −(1 − ε) log p(yᵢ) − (ε/V) Σᵥ log p(v)).
 */
export function softmaxCrossEntropy(logits: usize, targets: usize, rows: i32, vocab: i32, smoothing: f32, probs: usize, losses: usize): void {
  const vectorEnd = vocab & ~3
  const rowBytes = <usize>vocab << 2
  for (let row = 0; row < rows; row++) {
    const z = logits + <usize>row * rowBytes
    const p = probs + <usize>row * rowBytes
    // max and Σz
    let maxLanes = f32x4.splat(-Infinity)
    let sumLanes = f32x4.splat(0)
    let v = 0
    for (; v < vectorEnd; v += 4) {
      const lanes = v128.load(z + (<usize>v << 2))
      maxLanes = f32x4.max(maxLanes, lanes)
      sumLanes = f32x4.add(sumLanes, lanes)
    }
    let rowMax = max(max(f32x4.extract_lane(maxLanes, 0), f32x4.extract_lane(maxLanes, 1)), max(f32x4.extract_lane(maxLanes, 2), f32x4.extract_lane(maxLanes, 3)))
    let sumLogits = <f64>f32x4.extract_lane(sumLanes, 0) + <f64>f32x4.extract_lane(sumLanes, 1) + <f64>f32x4.extract_lane(sumLanes, 2) + <f64>f32x4.extract_lane(sumLanes, 3)
    for (; v < vocab; v++) {
      const value = load<f32>(z + (<usize>v << 2))
      rowMax = max(rowMax, value)
      sumLogits += value
    }
    // e^(z − max) into probs, and their sum
    const maxSplat = f32x4.splat(rowMax)
    let expLanesSum = f32x4.splat(0)
    v = 0
    for (; v < vectorEnd; v += 4) {
      const e = expLanes(f32x4.sub(v128.load(z + (<usize>v << 2)), maxSplat))
      v128.store(p + (<usize>v << 2), e)
      expLanesSum = f32x4.add(expLanesSum, e)
    }
    let expSum = <f64>f32x4.extract_lane(expLanesSum, 0) + <f64>f32x4.extract_lane(expLanesSum, 1) + <f64>f32x4.extract_lane(expLanesSum, 2) + <f64>f32x4.extract_lane(expLanesSum, 3)
    for (; v < vocab; v++) {
      const e = expScalar(load<f32>(z + (<usize>v << 2)) - rowMax)
      store<f32>(p + (<usize>v << 2), e)
      expSum += e
    }
    const inverse = f32x4.splat(<f32>(1.0 / expSum))
    v = 0
    for (; v < vectorEnd; v += 4) v128.store(p + (<usize>v << 2), f32x4.mul(v128.load(p + (<usize>v << 2)), inverse))
    for (; v < vocab; v++) store<f32>(p + (<usize>v << 2), load<f32>(p + (<usize>v << 2)) * f32x4.extract_lane(inverse, 0))
    const target = load<i32>(targets + (<usize>row << 2))
    const logSumExp = <f64>rowMax + logPositive(expSum) // expSum ≥ 1: the max's own term is e⁰
    const loss = logSumExp - (1.0 - <f64>smoothing) * <f64>load<f32>(z + (<usize>target << 2)) - (<f64>smoothing / <f64>vocab) * sumLogits
    store<f32>(losses + (<usize>row << 2), <f32>loss)
  }
}

/** ∂L/∂z = scaleᵢ · (probs − (1 − ε)·onehot(yᵢ) − ε/V), scaleᵢ = weights[i]·dy. */
export function softmaxCrossEntropyGrad(probs: usize, targets: usize, weights: usize, dy: f32, rows: i32, vocab: i32, smoothing: f32, out: usize): void {
  const vectorEnd = vocab & ~3
  const rowBytes = <usize>vocab << 2
  const uniform = smoothing / <f32>vocab
  for (let row = 0; row < rows; row++) {
    const p = probs + <usize>row * rowBytes
    const g = out + <usize>row * rowBytes
    const scale = load<f32>(weights + (<usize>row << 2)) * dy
    const scaleSplat = f32x4.splat(scale)
    const uniformSplat = f32x4.splat(uniform)
    let v = 0
    for (; v < vectorEnd; v += 4) {
      v128.store(g + (<usize>v << 2), f32x4.mul(f32x4.sub(v128.load(p + (<usize>v << 2)), uniformSplat), scaleSplat))
    }
    for (; v < vocab; v++) store<f32>(g + (<usize>v << 2), (load<f32>(p + (<usize>v << 2)) - uniform) * scale)
    const target = load<i32>(targets + (<usize>row << 2))
    const at = g + (<usize>target << 2)
    store<f32>(at, load<f32>(at) - (1 - smoothing) * scale)
  }
}

// ---- batched matrix product C[b] = A[b] · B[b], row-major, untransposed

// @ts-ignore: decorator
@inline function rows4cols8(a: usize, b: usize, c: usize, k: i32, n: i32): void {
  const aRow = <usize>k << 2
  const bRow = <usize>n << 2
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0)
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0)
  for (let p = 0; p < k; p++) {
    const bp = b + <usize>p * bRow
    const b0 = v128.load(bp)
    const b1 = v128.load(bp, 16)
    const ap = a + (<usize>p << 2)
    const a0 = v128.load32_splat(ap)
    const a1 = v128.load32_splat(ap + aRow)
    const a2 = v128.load32_splat(ap + 2 * aRow)
    const a3 = v128.load32_splat(ap + 3 * aRow)
    c00 = f32x4.add(c00, f32x4.mul(a0, b0)); c01 = f32x4.add(c01, f32x4.mul(a0, b1))
    c10 = f32x4.add(c10, f32x4.mul(a1, b0)); c11 = f32x4.add(c11, f32x4.mul(a1, b1))
    c20 = f32x4.add(c20, f32x4.mul(a2, b0)); c21 = f32x4.add(c21, f32x4.mul(a2, b1))
    c30 = f32x4.add(c30, f32x4.mul(a3, b0)); c31 = f32x4.add(c31, f32x4.mul(a3, b1))
  }
  v128.store(c, c00); v128.store(c, c01, 16)
  v128.store(c + bRow, c10); v128.store(c + bRow, c11, 16)
  v128.store(c + 2 * bRow, c20); v128.store(c + 2 * bRow, c21, 16)
  v128.store(c + 3 * bRow, c30); v128.store(c + 3 * bRow, c31, 16)
}

// @ts-ignore: decorator
@inline function rows1cols8(a: usize, b: usize, c: usize, k: i32, n: i32): void {
  const bRow = <usize>n << 2
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0)
  for (let p = 0; p < k; p++) {
    const bp = b + <usize>p * bRow
    const a0 = v128.load32_splat(a + (<usize>p << 2))
    c0 = f32x4.add(c0, f32x4.mul(a0, v128.load(bp)))
    c1 = f32x4.add(c1, f32x4.mul(a0, v128.load(bp, 16)))
  }
  v128.store(c, c0); v128.store(c, c1, 16)
}

/** One row of C from column `from` to n: four columns per vector, then one at a time. */
// @ts-ignore: decorator
@inline function rowTail(a: usize, b: usize, c: usize, k: i32, n: i32, from: i32): void {
  const bRow = <usize>n << 2
  let j = from
  for (; j + 4 <= n; j += 4) {
    let acc = f32x4.splat(0)
    for (let p = 0; p < k; p++) acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(a + (<usize>p << 2)), v128.load(b + <usize>p * bRow + (<usize>j << 2))))
    v128.store(c + (<usize>j << 2), acc)
  }
  for (; j < n; j++) {
    let acc: f32 = 0
    for (let p = 0; p < k; p++) acc += load<f32>(a + (<usize>p << 2)) * load<f32>(b + <usize>p * bRow + (<usize>j << 2))
    store<f32>(c + (<usize>j << 2), acc)
  }
}

/** C[b] = A[b]·B[b] for A [batch, m, k], B [batch, k, n], C [batch, m, n]; a stride of 0 broadcasts one matrix. */
export function batchMatMul(a: usize, b: usize, c: usize, batch: i32, m: i32, k: i32, n: i32, aStride: i32, bStride: i32): void {
  const aRow = <usize>k << 2
  const cRow = <usize>n << 2
  const colsEnd = n & ~7
  for (let item = 0; item < batch; item++) {
    const aItem = a + <usize>item * (<usize>aStride << 2)
    const bItem = b + <usize>item * (<usize>bStride << 2)
    const cItem = c + <usize>item * <usize>m * cRow
    let i = 0
    for (; i + 4 <= m; i += 4) {
      const ai = aItem + <usize>i * aRow
      const ci = cItem + <usize>i * cRow
      for (let j = 0; j < colsEnd; j += 8) rows4cols8(ai, bItem + (<usize>j << 2), ci + (<usize>j << 2), k, n)
      if (colsEnd < n) for (let r = 0; r < 4; r++) rowTail(ai + <usize>r * aRow, bItem, ci + <usize>r * cRow, k, n, colsEnd)
    }
    for (; i < m; i++) {
      const ai = aItem + <usize>i * aRow
      const ci = cItem + <usize>i * cRow
      for (let j = 0; j < colsEnd; j += 8) rows1cols8(ai, bItem + (<usize>j << 2), ci + (<usize>j << 2), k, n)
      if (colsEnd < n) rowTail(ai, bItem, ci, k, n, colsEnd)
    }
  }
}

// ---- swapping two adjacent groups of axes: x [outer, rows, cols, inner] → out [outer, cols, rows, inner]

const TILE = 32

/** out [cols, rows] = xᵀ for x [rows, cols]: 32×32 tiles of 4×4 SIMD blocks, the ragged edges one at a time. */
function transposeMatrix(x: usize, out: usize, rows: i32, cols: i32): void {
  const rowBytes = <usize>cols << 2
  const outRowBytes = <usize>rows << 2
  const rows4 = rows & ~3
  const cols4 = cols & ~3
  for (let r0 = 0; r0 < rows4; r0 += TILE) {
    const rEnd = min(r0 + TILE, rows4)
    for (let c0 = 0; c0 < cols4; c0 += TILE) {
      const cEnd = min(c0 + TILE, cols4)
      for (let r = r0; r < rEnd; r += 4) {
        for (let c = c0; c < cEnd; c += 4) {
          const from = x + <usize>r * rowBytes + (<usize>c << 2)
          const x0 = v128.load(from)
          const x1 = v128.load(from + rowBytes)
          const x2 = v128.load(from + 2 * rowBytes)
          const x3 = v128.load(from + 3 * rowBytes)
          const t0 = v128.shuffle<i32>(x0, x1, 0, 4, 1, 5)
          const t1 = v128.shuffle<i32>(x0, x1, 2, 6, 3, 7)
          const t2 = v128.shuffle<i32>(x2, x3, 0, 4, 1, 5)
          const t3 = v128.shuffle<i32>(x2, x3, 2, 6, 3, 7)
          const to = out + <usize>c * outRowBytes + (<usize>r << 2)
          v128.store(to, v128.shuffle<i64>(t0, t2, 0, 2))
          v128.store(to + outRowBytes, v128.shuffle<i64>(t0, t2, 1, 3))
          v128.store(to + 2 * outRowBytes, v128.shuffle<i64>(t1, t3, 0, 2))
          v128.store(to + 3 * outRowBytes, v128.shuffle<i64>(t1, t3, 1, 3))
        }
      }
    }
  }
  // The last rows % 4 rows, and the last cols % 4 columns of the rest.
  for (let r = rows4; r < rows; r++) {
    for (let c = 0; c < cols; c++) store<u32>(out + <usize>c * outRowBytes + (<usize>r << 2), load<u32>(x + <usize>r * rowBytes + (<usize>c << 2)))
  }
  for (let r = 0; r < rows4; r++) {
    for (let c = cols4; c < cols; c++) store<u32>(out + <usize>c * outRowBytes + (<usize>r << 2), load<u32>(x + <usize>r * rowBytes + (<usize>c << 2)))
  }
}

/** Covers a matrix transpose (inner = 1) and moving attention heads (inner = head size); 32-bit elements. */
export function swapAxes(x: usize, out: usize, outer: i32, rows: i32, cols: i32, inner: i32): void {
  const innerBytes = <usize>inner << 2
  const block = rows * cols
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      transposeMatrix(x + (<usize>o * <usize>block << 2), out + (<usize>o * <usize>block << 2), rows, cols)
    }
    return
  }
  const vectorBytes = innerBytes & ~15
  for (let o = 0; o < outer; o++) {
    const xo = x + <usize>o * <usize>block * innerBytes
    const oo = out + <usize>o * <usize>block * innerBytes
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const to = oo + (<usize>c * <usize>rows + <usize>r) * innerBytes
        const from = xo + (<usize>r * <usize>cols + <usize>c) * innerBytes
        // Runs are short (a head's 64 floats): vector copies beat a memory.copy call each.
        let at: usize = 0
        for (; at < vectorBytes; at += 16) v128.store(to + at, v128.load(from + at))
        for (; at < innerBytes; at += 4) store<u32>(to + at, load<u32>(from + at))
      }
    }
  }
}

// ---- reductions over leading axes: out[j] = Σᵢ x[i, j] for x [outer, inner]

/** The bias gradient of a dense layer (Σ over its rows); the stock kernel transposes the whole input first. */
export function sumOuter(x: usize, out: usize, outer: i32, inner: i32): void {
  const vectorEnd = inner & ~3
  memory.fill(out, 0, <usize>inner << 2)
  for (let i = 0; i < outer; i++) {
    const row = x + ((<usize>i * <usize>inner) << 2)
    let j = 0
    for (; j < vectorEnd; j += 4) {
      const at = out + (<usize>j << 2)
      v128.store(at, f32x4.add(v128.load(at), v128.load(row + (<usize>j << 2))))
    }
    for (; j < inner; j++) {
      const at = out + (<usize>j << 2)
      store<f32>(at, load<f32>(at) + load<f32>(row + (<usize>j << 2)))
    }
  }
}

// ---- dropout (Srivastava et al. 2014): y = x · mask, mask = keep ? 1/(1 − rate) : 0

/** A counter-based hash (lowbias32, Wellons 2018) of seed + index: each element's draw needs no state. */
// @ts-ignore: decorator
@inline function hashLanes(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16))
  x = i32x4.mul(x, i32x4.splat(0x7feb352d))
  x = v128.xor(x, i32x4.shr_u(x, 15))
  x = i32x4.mul(x, i32x4.splat(0x846ca68b))
  return v128.xor(x, i32x4.shr_u(x, 16))
}

/** Keeps element i where hash(seed + i) ≥ threshold (threshold = rate·2³², unsigned). */
export function dropout(x: usize, out: usize, mask: usize, count: i32, seed: i32, threshold: u32, scale: f32): void {
  const vectorEnd = count & ~3
  const thresholdSplat = i32x4.splat(threshold)
  const scaleSplat = f32x4.splat(scale)
  let index = i32x4(seed, seed + 1, seed + 2, seed + 3)
  const step = i32x4.splat(4)
  let i = 0
  for (; i < vectorEnd; i += 4) {
    const keep = i32x4.ge_u(hashLanes(index), thresholdSplat) // all ones where kept
    const m = v128.and(keep, scaleSplat)
    v128.store(mask + (<usize>i << 2), m)
    v128.store(out + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), m))
    index = i32x4.add(index, step)
  }
  for (; i < count; i++) {
    const keep = i32x4.extract_lane(i32x4.ge_u(hashLanes(i32x4.splat(seed + i)), thresholdSplat), 0)
    const m = keep != 0 ? scale : <f32>0
    store<f32>(mask + (<usize>i << 2), m)
    store<f32>(out + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * m)
  }
}

// ---- the LSTM cell's gates (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000)
// z [B, 4H] = [i f g o] pre-activations; c' = σ(f)⊙c + σ(i)⊙tanh(g); h' = σ(o)⊙tanh(c').

// @ts-ignore: decorator
@inline function sigmoidLanes(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expLanes(f32x4.neg(x))))
}

// @ts-ignore: decorator
@inline function tanhLanes(x: v128): v128 {
  // tanh(x) = 2σ(2x) − 1
  return f32x4.sub(f32x4.mul(f32x4.splat(2), sigmoidLanes(f32x4.add(x, x))), f32x4.splat(1))
}

/** Forward: h' and c' [B, H], and the activated gates [B, 4H] (σ(i), σ(f), tanh(g), σ(o)) for the backward pass. */
export function lstmCell(z: usize, c: usize, h: usize, cNext: usize, gates: usize, batch: i32, hidden: i32): void {
  const gateBytes = <usize>hidden << 2
  for (let b = 0; b < batch; b++) {
    const zRow = z + <usize>b * 4 * gateBytes
    const gRow = gates + <usize>b * 4 * gateBytes
    const row = <usize>b * gateBytes
    for (let j = 0; j < hidden; j += 4) {
      const at = <usize>j << 2
      const lanes = min(4, hidden - j) // a ragged last group reads and writes only its own lanes
      const i = sigmoidLanes(loadPart(zRow + at, lanes))
      const f = sigmoidLanes(loadPart(zRow + gateBytes + at, lanes))
      const g = tanhLanes(loadPart(zRow + 2 * gateBytes + at, lanes))
      const o = sigmoidLanes(loadPart(zRow + 3 * gateBytes + at, lanes))
      const cPrev = loadPart(c + row + at, lanes)
      const cn = f32x4.add(f32x4.mul(f, cPrev), f32x4.mul(i, g))
      const hn = f32x4.mul(o, tanhLanes(cn))
      storePart(gRow + at, i, lanes)
      storePart(gRow + gateBytes + at, f, lanes)
      storePart(gRow + 2 * gateBytes + at, g, lanes)
      storePart(gRow + 3 * gateBytes + at, o, lanes)
      storePart(cNext + row + at, cn, lanes)
      storePart(h + row + at, hn, lanes)
    }
  }
}

/** Backward: from dh', dc' [B, H] to dz [B, 4H] and dc [B, H]. */
export function lstmCellGrad(dh: usize, dc: usize, gates: usize, c: usize, cNext: usize, dz: usize, dcPrev: usize, batch: i32, hidden: i32): void {
  const gateBytes = <usize>hidden << 2
  const one = f32x4.splat(1)
  for (let b = 0; b < batch; b++) {
    const gRow = gates + <usize>b * 4 * gateBytes
    const dzRow = dz + <usize>b * 4 * gateBytes
    const row = <usize>b * gateBytes
    for (let j = 0; j < hidden; j += 4) {
      const at = <usize>j << 2
      const lanes = min(4, hidden - j) // a ragged last group reads and writes only its own lanes
      const i = loadPart(gRow + at, lanes)
      const f = loadPart(gRow + gateBytes + at, lanes)
      const g = loadPart(gRow + 2 * gateBytes + at, lanes)
      const o = loadPart(gRow + 3 * gateBytes + at, lanes)
      const dhLanes = loadPart(dh + row + at, lanes)
      const tc = tanhLanes(loadPart(cNext + row + at, lanes))
      // dL/dc' in total: from the next step, and through h' = o·tanh(c')
      const dcTotal = f32x4.add(loadPart(dc + row + at, lanes), f32x4.mul(f32x4.mul(dhLanes, o), f32x4.sub(one, f32x4.mul(tc, tc))))
      const dzi = f32x4.mul(f32x4.mul(dcTotal, g), f32x4.mul(i, f32x4.sub(one, i)))
      const dzf = f32x4.mul(f32x4.mul(dcTotal, loadPart(c + row + at, lanes)), f32x4.mul(f, f32x4.sub(one, f)))
      const dzg = f32x4.mul(f32x4.mul(dcTotal, i), f32x4.sub(one, f32x4.mul(g, g)))
      const dzo = f32x4.mul(f32x4.mul(dhLanes, tc), f32x4.mul(o, f32x4.sub(one, o)))
      const dcp = f32x4.mul(dcTotal, f)
      storePart(dzRow + at, dzi, lanes)
      storePart(dzRow + gateBytes + at, dzf, lanes)
      storePart(dzRow + 2 * gateBytes + at, dzg, lanes)
      storePart(dzRow + 3 * gateBytes + at, dzo, lanes)
      storePart(dcPrev + row + at, dcp, lanes)
    }
  }
}

/**
 * GRU forward (reset gate after the recurrent product): from x, a [B, 3H] (projected input; h·U + b_U) and h [B, H],
 * h' [B, H] and the gates [B, 4H] = r, z, n, an for the backward pass.
 */
export function gruCell(x: usize, a: usize, h: usize, hNext: usize, gates: usize, batch: i32, hidden: i32): void {
  const gateBytes = <usize>hidden << 2
  const one = f32x4.splat(1)
  for (let b = 0; b < batch; b++) {
    const xRow = x + <usize>b * 3 * gateBytes
    const aRow = a + <usize>b * 3 * gateBytes
    const gRow = gates + <usize>b * 4 * gateBytes
    const row = <usize>b * gateBytes
    for (let j = 0; j < hidden; j += 4) {
      const at = <usize>j << 2
      const lanes = min(4, hidden - j) // a ragged last group reads and writes only its own lanes
      const an = loadPart(aRow + 2 * gateBytes + at, lanes)
      const r = sigmoidLanes(f32x4.add(loadPart(xRow + at, lanes), loadPart(aRow + at, lanes)))
      const z = sigmoidLanes(f32x4.add(loadPart(xRow + gateBytes + at, lanes), loadPart(aRow + gateBytes + at, lanes)))
      const n = tanhLanes(f32x4.add(loadPart(xRow + 2 * gateBytes + at, lanes), f32x4.mul(r, an)))
      const hn = f32x4.add(f32x4.mul(f32x4.sub(one, z), n), f32x4.mul(z, loadPart(h + row + at, lanes)))
      storePart(gRow + at, r, lanes)
      storePart(gRow + gateBytes + at, z, lanes)
      storePart(gRow + 2 * gateBytes + at, n, lanes)
      storePart(gRow + 3 * gateBytes + at, an, lanes)
      storePart(hNext + row + at, hn, lanes)
    }
  }
}

/** GRU backward: from dh' [B, H] to dx, da [B, 3H] (projected input; recurrent pre-activations) and z⊙dh' [B, H]. */
export function gruCellGrad(dh: usize, gates: usize, h: usize, dx: usize, da: usize, dhDirect: usize, batch: i32, hidden: i32): void {
  const gateBytes = <usize>hidden << 2
  const one = f32x4.splat(1)
  for (let b = 0; b < batch; b++) {
    const gRow = gates + <usize>b * 4 * gateBytes
    const dxRow = dx + <usize>b * 3 * gateBytes
    const daRow = da + <usize>b * 3 * gateBytes
    const row = <usize>b * gateBytes
    for (let j = 0; j < hidden; j += 4) {
      const at = <usize>j << 2
      const lanes = min(4, hidden - j)
      const r = loadPart(gRow + at, lanes)
      const z = loadPart(gRow + gateBytes + at, lanes)
      const n = loadPart(gRow + 2 * gateBytes + at, lanes)
      const an = loadPart(gRow + 3 * gateBytes + at, lanes)
      const d = loadPart(dh + row + at, lanes)
      const dnPre = f32x4.mul(f32x4.mul(d, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)))
      const dzPre = f32x4.mul(f32x4.mul(d, f32x4.sub(loadPart(h + row + at, lanes), n)), f32x4.mul(z, f32x4.sub(one, z)))
      const drPre = f32x4.mul(f32x4.mul(dnPre, an), f32x4.mul(r, f32x4.sub(one, r)))
      storePart(dxRow + at, drPre, lanes)
      storePart(dxRow + gateBytes + at, dzPre, lanes)
      storePart(dxRow + 2 * gateBytes + at, dnPre, lanes)
      storePart(daRow + at, drPre, lanes)
      storePart(daRow + gateBytes + at, dzPre, lanes)
      storePart(daRow + 2 * gateBytes + at, f32x4.mul(dnPre, r), lanes)
      storePart(dhDirect + row + at, f32x4.mul(d, z), lanes)
    }
  }
}

/** Loads `lanes` (1–4) floats into the first lanes, the rest 0. */
// @ts-ignore: decorator
@inline function loadPart(at: usize, lanes: i32): v128 {
  if (lanes == 4) return v128.load(at)
  let v = f32x4.splat(0)
  v = f32x4.replace_lane(v, 0, load<f32>(at))
  if (lanes > 1) v = f32x4.replace_lane(v, 1, load<f32>(at, 4))
  if (lanes > 2) v = f32x4.replace_lane(v, 2, load<f32>(at, 8))
  return v
}

/** Stores the first `lanes` (1–4) lanes of v. */
// @ts-ignore: decorator
@inline function storePart(at: usize, v: v128, lanes: i32): void {
  if (lanes == 4) v128.store(at, v)
  else storeLanes(at, v, lanes)
}

/** Stores the first `lanes` (1–3) lanes of v. */
function storeLanes(at: usize, v: v128, lanes: i32): void {
  store<f32>(at, f32x4.extract_lane(v, 0))
  if (lanes > 1) store<f32>(at, f32x4.extract_lane(v, 1), 4)
  if (lanes > 2) store<f32>(at, f32x4.extract_lane(v, 2), 8)
}

// ---- Adam (Kingma & Ba 2015, Algorithm 1) with AdamW's decoupled decay (Loshchilov & Hutter 2019), one pass

/**
 * m' = β₁m + (1 − β₁)g;  v' = β₂v + (1 − β₂)g²;  θ' = θ − lr·(m'/c₁)/(√(v'/c₂) + ε) − lr·λ·θ
 * (c₁, c₂ the bias corrections 1 − βᵗ), for `count` floats.
 */
export function adamUpdate(
  param: usize, m: usize, v: usize, grad: usize, paramOut: usize, mOut: usize, vOut: usize, count: i32,
  lr: f32, beta1: f32, beta2: f32, epsilon: f32, correction1: f32, correction2: f32, weightDecay: f32,
): void {
  const b1 = f32x4.splat(beta1), b1c = f32x4.splat(1 - beta1)
  const b2 = f32x4.splat(beta2), b2c = f32x4.splat(1 - beta2)
  const c1 = f32x4.splat(correction1), c2 = f32x4.splat(correction2)
  const eps = f32x4.splat(epsilon), rate = f32x4.splat(lr), decay = f32x4.splat(lr * weightDecay)
  let i = 0
  for (; i < count; i += 4) {
    const at = <usize>i << 2
    const lanes = min(4, count - i)
    const g = loadPart(grad + at, lanes)
    const theta = loadPart(param + at, lanes)
    const mNext = f32x4.add(f32x4.mul(loadPart(m + at, lanes), b1), f32x4.mul(g, b1c))
    const vNext = f32x4.add(f32x4.mul(loadPart(v + at, lanes), b2), f32x4.mul(f32x4.mul(g, g), b2c))
    const update = f32x4.div(f32x4.div(mNext, c1), f32x4.add(f32x4.sqrt(f32x4.div(vNext, c2)), eps))
    let next = f32x4.sub(theta, f32x4.mul(update, rate))
    if (weightDecay != 0) next = f32x4.sub(next, f32x4.mul(theta, decay))
    storePart(mOut + at, mNext, lanes)
    storePart(vOut + at, vNext, lanes)
    storePart(paramOut + at, next, lanes)
  }
}

// ---- layer normalisation (Ba, Kiros & Hinton 2016, eq. 4) over rows of x [N, D]

/** y = γ⊙(x − μ)/√(σ² + ε) + β per row; mean and 1/√(σ² + ε) [N] kept for the backward pass. */
export function layerNorm(x: usize, gamma: usize, beta: usize, y: usize, means: usize, invStds: usize, rows: i32, dim: i32, epsilon: f32): void {
  const rowBytes = <usize>dim << 2
  for (let row = 0; row < rows; row++) {
    const xr = x + <usize>row * rowBytes
    const yr = y + <usize>row * rowBytes
    let sumLanes = f32x4.splat(0)
    for (let j = 0; j < dim; j += 4) sumLanes = f32x4.add(sumLanes, loadPart(xr + (<usize>j << 2), min(4, dim - j)))
    const mean = horizontalSum(sumLanes) / <f32>dim
    const meanSplat = f32x4.splat(mean)
    let squares = f32x4.splat(0)
    for (let j = 0; j < dim; j += 4) {
      const centred = f32x4.sub(loadPart(xr + (<usize>j << 2), min(4, dim - j)), meanSplat)
      // Lanes past the row's end were loaded as 0 and are now −μ: mask them out of the variance.
      const lanes = min(4, dim - j)
      const kept = lanes == 4 ? centred : v128.and(centred, laneMask(lanes))
      squares = f32x4.add(squares, f32x4.mul(kept, kept))
    }
    const invStd = <f32>1 / Mathf.sqrt(horizontalSum(squares) / <f32>dim + epsilon)
    store<f32>(means + (<usize>row << 2), mean)
    store<f32>(invStds + (<usize>row << 2), invStd)
    const invSplat = f32x4.splat(invStd)
    for (let j = 0; j < dim; j += 4) {
      const at = <usize>j << 2
      const lanes = min(4, dim - j)
      const normalised = f32x4.mul(f32x4.sub(loadPart(xr + at, lanes), meanSplat), invSplat)
      const out = f32x4.add(f32x4.mul(normalised, loadPart(gamma + at, lanes)), loadPart(beta + at, lanes))
      storePart(yr + at, out, lanes)
    }
  }
}

/**
 * From dy [N, D]: dx = (1/σ)/D · (D·ĝ − Σĝ − x̂·Σ(ĝ⊙x̂)) with ĝ = dy⊙γ, x̂ the normalised row;
 * dγ = Σₙ dy⊙x̂ and dβ = Σₙ dy [D] (summed over rows here).
 */
export function layerNormGrad(dy: usize, x: usize, gamma: usize, means: usize, invStds: usize, dx: usize, dGamma: usize, dBeta: usize, rows: i32, dim: i32): void {
  const rowBytes = <usize>dim << 2
  memory.fill(dGamma, 0, rowBytes)
  memory.fill(dBeta, 0, rowBytes)
  const inverseDim = f32x4.splat(<f32>1 / <f32>dim)
  for (let row = 0; row < rows; row++) {
    const xr = x + <usize>row * rowBytes
    const dyr = dy + <usize>row * rowBytes
    const dxr = dx + <usize>row * rowBytes
    const meanSplat = f32x4.splat(load<f32>(means + (<usize>row << 2)))
    const invSplat = f32x4.splat(load<f32>(invStds + (<usize>row << 2)))
    let sumG = f32x4.splat(0)
    let sumGX = f32x4.splat(0)
    for (let j = 0; j < dim; j += 4) {
      const at = <usize>j << 2
      const lanes = min(4, dim - j)
      const g = loadPart(dyr + at, lanes)
      const normalised = f32x4.mul(f32x4.sub(loadPart(xr + at, lanes), meanSplat), invSplat)
      const scaled = f32x4.mul(g, loadPart(gamma + at, lanes)) // 0 in lanes past the end (g is 0 there)
      sumG = f32x4.add(sumG, scaled)
      sumGX = f32x4.add(sumGX, f32x4.mul(scaled, normalised))
      const dg = f32x4.add(loadPart(dGamma + at, lanes), f32x4.mul(g, normalised))
      const db = f32x4.add(loadPart(dBeta + at, lanes), g)
      storePart(dGamma + at, dg, lanes)
      storePart(dBeta + at, db, lanes)
    }
    const meanG = f32x4.mul(f32x4.splat(horizontalSum(sumG)), inverseDim)
    const meanGX = f32x4.mul(f32x4.splat(horizontalSum(sumGX)), inverseDim)
    for (let j = 0; j < dim; j += 4) {
      const at = <usize>j << 2
      const lanes = min(4, dim - j)
      const normalised = f32x4.mul(f32x4.sub(loadPart(xr + at, lanes), meanSplat), invSplat)
      const scaled = f32x4.mul(loadPart(dyr + at, lanes), loadPart(gamma + at, lanes))
      const out = f32x4.mul(invSplat, f32x4.sub(f32x4.sub(scaled, meanG), f32x4.mul(normalised, meanGX)))
      storePart(dxr + at, out, lanes)
    }
  }
}

// @ts-ignore: decorator
@inline function horizontalSum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3)
}

/** All ones in the first `lanes` (1–3) lanes. */
// @ts-ignore: decorator
@inline function laneMask(lanes: i32): v128 {
  return i32x4.lt_s(i32x4(0, 1, 2, 3), i32x4.splat(lanes))
}

// ---- the step function (ReLU's derivative): 1 where x > 0, alpha elsewhere, NaN stays NaN

export function step(x: usize, out: usize, count: i32, alpha: f32): void {
  const one = f32x4.splat(1)
  const alphaSplat = f32x4.splat(alpha)
  for (let i = 0; i < count; i += 4) {
    const at = <usize>i << 2
    const lanes = min(4, count - i)
    const v = loadPart(x + at, lanes)
    const stepped = v128.bitselect(one, alphaSplat, f32x4.gt(v, f32x4.splat(0)))
    const result = v128.bitselect(stepped, v, f32x4.eq(v, v)) // NaN lanes keep x
    storePart(out + at, result, lanes)
  }
}
