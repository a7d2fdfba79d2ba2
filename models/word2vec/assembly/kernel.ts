// The word2vec training loop (Mikolov et al. 2013, "Distributed Representations of Words and Phrases"): skip-gram
// and CBOW, negative sampling (eq. 4) and hierarchical softmax (eq. 3), compiled to WebAssembly with SIMD.
// Every worker thread instantiates this module over one shared memory (Hogwild, as word2vec.c and gensim).
// Parameters and tables live at addresses the host lays out; the kernel never allocates.

// Set once per instance by configure().
let dim: i32 = 0
let window: i32 = 0
let negative: i32 = 0
let useHs: bool = false
let useCbow: bool = false
let syn0: usize = 0 // [vocab, dim] input vectors (the embeddings)
let syn1neg: usize = 0 // [vocab, dim] output vectors for negative sampling
let syn1: usize = 0 // [vocab - 1, dim] inner-node vectors of the Huffman tree
let table: usize = 0 // [vocab] (u32 threshold, i32 alias) pairs: the noise distribution ∝ count^0.75 as an alias table
let vocabSize: u64 = 1
let keep: usize = 0 // [vocab] f32, subsampling keep probability
let codes: usize = 0 // [vocab, maxCode] u8, Huffman code bits
let points: usize = 0 // [vocab, maxCode] i32, inner nodes on the path from the root
let codeLens: usize = 0 // [vocab] i32
let maxCode: i32 = 0
let sentence: usize = 0 // [maxSentence] i32, this thread's kept words
let neu1: usize = 0 // [dim] f32, CBOW's mean context vector
let neu1e: usize = 0 // [dim] f32, the accumulated input gradient
// One prediction's output rows (a Huffman path, or the target and its negative samples), maxRows each:
let rows: usize = 0 // i32 byte addresses of the output vectors
let labels: usize = 0 // f32, 1 where the row should score high
let scores: usize = 0 // f32, their dot products with h, then their gradients
let maxSentence: i32 = 0

// This instance's random state (word2vec.c's linear congruential generator) and loss sums.
let random: u64 = 1
let lossSum: f64 = 0
let predictions: f64 = 0
let keptWords: f64 = 0

export function configure(
  dim_: i32, window_: i32, negative_: i32, hs_: i32, cbow_: i32,
  syn0_: usize, syn1neg_: usize, syn1_: usize, table_: usize, vocab_: i32, keep_: usize,
  codes_: usize, points_: usize, codeLens_: usize, maxCode_: i32,
  scratch_: usize, maxSentence_: i32,
): void {
  dim = dim_
  window = window_
  negative = negative_
  useHs = hs_ != 0
  useCbow = cbow_ != 0
  syn0 = syn0_
  syn1neg = syn1neg_
  syn1 = syn1_
  table = table_
  vocabSize = <u64>max(1, vocab_)
  keep = keep_
  codes = codes_
  points = points_
  codeLens = codeLens_
  maxCode = maxCode_
  maxSentence = maxSentence_
  sentence = scratch_
  neu1 = scratch_ + (<usize>maxSentence_ << 2)
  neu1e = neu1 + (<usize>dim_ << 2)
  const maxRows = <usize>max(negative_ + 1, maxCode_)
  rows = neu1e + (<usize>dim_ << 2)
  labels = rows + (maxRows << 2)
  scores = labels + (maxRows << 2)
  fillTables()
}

export function seed(value: i32): void {
  random = <u64>(<u32>value)
}

export function resetLoss(): void {
  lossSum = 0
  predictions = 0
  keptWords = 0
}

/** Sum of −log-likelihood terms since resetLoss, the number of predictions they came from, and the words kept. */
export function loss(): f64 {
  return lossSum
}
export function predictionCount(): f64 {
  return predictions
}
export function keptWordCount(): f64 {
  return keptWords
}

@inline function nextRandom(): u64 {
  random = random * 25214903917 + 11
  return random
}

@inline function uniform(): f32 {
  return <f32>((nextRandom() >> 16) & 0xffff) / 65536.0
}

/** A word from the noise distribution: a uniform slot keeps its own word below its threshold, else its alias. */
@inline function noiseWord(): i32 {
  const slot = below(vocabSize)
  const entry = table + (<usize>slot << 3)
  return ((nextRandom() >> 16) & 0xffffffff) < <u64>load<u32>(entry) ? <i32>slot : load<i32>(entry, 4)
}

/** Uniform in [0, n) from the generator's high bits, by multiply and shift (a 64-bit division costs far more). */
@inline function below(n: u64): u64 {
  return (((nextRandom() >> 16) & 0xffffffff) * n) >> 32
}

// σ(f) and log σ(f) from tables over [−8, 8] with linear interpolation (error < 1e-5), exact outside (rare):
// log σ(f) = min(f, 0) − log(1 + e^−|f|). Transcendentals per prediction would cost more than the dot products.
const sigmoidSteps: i32 = 2048
const sigmoidRange: f32 = 8
const sigmoidTables: usize = 8192 // in the reserved first page, after the kernel's static data
let lastLogSigmoid: f64 = 0

function fillTables(): void {
  for (let i = 0; i <= sigmoidSteps; i++) {
    const f = (<f64>i / <f64>sigmoidSteps) * 2 * <f64>sigmoidRange - <f64>sigmoidRange
    const e = Math.exp(-Math.abs(f))
    store<f32>(sigmoidTables + (<usize>i << 2), <f32>(f >= 0 ? 1 / (1 + e) : e / (1 + e)))
    store<f32>(sigmoidTables + (<usize>(sigmoidSteps + 1 + i) << 2), <f32>(Math.min(f, 0) - Math.log1p(e)))
  }
}

@inline function sigmoid(f: f32): f32 {
  if (f <= -sigmoidRange || f >= sigmoidRange) {
    const e = Math.exp(-Math.abs(<f64>f))
    lastLogSigmoid = Math.min(<f64>f, 0) - Math.log1p(e)
    return <f32>(f >= 0 ? 1 / (1 + e) : e / (1 + e))
  }
  const x = (f + sigmoidRange) * (<f32>sigmoidSteps / (2 * sigmoidRange))
  const i = <i32>x
  const w = x - <f32>i
  const at = sigmoidTables + (<usize>i << 2)
  const logAt = sigmoidTables + (<usize>(sigmoidSteps + 1 + i) << 2)
  lastLogSigmoid = <f64>(load<f32>(logAt) + w * (load<f32>(logAt, 4) - load<f32>(logAt)))
  return load<f32>(at) + w * (load<f32>(at, 4) - load<f32>(at))
}

@inline function row(base: usize, word: i32): usize {
  return base + ((<usize>word * <usize>dim) << 2)
}

/** a · b over dim floats. */
@inline function dot(a: usize, b: usize): f32 {
  let acc = f32x4.splat(0)
  const n4 = dim & ~3
  let i = 0
  for (; i < n4; i += 4) {
    const offset = <usize>i << 2
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + offset), v128.load(b + offset)))
  }
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3)
  for (; i < dim; i++) sum += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2))
  return sum
}

/** a · b0 … a · b3 into results[0..4): the four rows share each load of a, and their sums run in parallel. */
@inline function dot4(a: usize, b0: usize, b1: usize, b2: usize, b3: usize, results: usize): void {
  let acc0 = f32x4.splat(0)
  let acc1 = f32x4.splat(0)
  let acc2 = f32x4.splat(0)
  let acc3 = f32x4.splat(0)
  const n4 = dim & ~3
  let i = 0
  for (; i < n4; i += 4) {
    const offset = <usize>i << 2
    const x = v128.load(a + offset)
    acc0 = f32x4.add(acc0, f32x4.mul(x, v128.load(b0 + offset)))
    acc1 = f32x4.add(acc1, f32x4.mul(x, v128.load(b1 + offset)))
    acc2 = f32x4.add(acc2, f32x4.mul(x, v128.load(b2 + offset)))
    acc3 = f32x4.add(acc3, f32x4.mul(x, v128.load(b3 + offset)))
  }
  let s0 = f32x4.extract_lane(acc0, 0) + f32x4.extract_lane(acc0, 1) + f32x4.extract_lane(acc0, 2) + f32x4.extract_lane(acc0, 3)
  let s1 = f32x4.extract_lane(acc1, 0) + f32x4.extract_lane(acc1, 1) + f32x4.extract_lane(acc1, 2) + f32x4.extract_lane(acc1, 3)
  let s2 = f32x4.extract_lane(acc2, 0) + f32x4.extract_lane(acc2, 1) + f32x4.extract_lane(acc2, 2) + f32x4.extract_lane(acc2, 3)
  let s3 = f32x4.extract_lane(acc3, 0) + f32x4.extract_lane(acc3, 1) + f32x4.extract_lane(acc3, 2) + f32x4.extract_lane(acc3, 3)
  for (; i < dim; i++) {
    const offset = <usize>i << 2
    const x = load<f32>(a + offset)
    s0 += x * load<f32>(b0 + offset)
    s1 += x * load<f32>(b1 + offset)
    s2 += x * load<f32>(b2 + offset)
    s3 += x * load<f32>(b3 + offset)
  }
  store<f32>(results, s0)
  store<f32>(results, s1, 4)
  store<f32>(results, s2, 8)
  store<f32>(results, s3, 12)
}

/** The update below for four output vectors in one pass over error and input. */
@inline function update4(g0: f32, g1: f32, g2: f32, g3: f32, input: usize, o0: usize, o1: usize, o2: usize, o3: usize, error: usize): void {
  const gv0 = f32x4.splat(g0)
  const gv1 = f32x4.splat(g1)
  const gv2 = f32x4.splat(g2)
  const gv3 = f32x4.splat(g3)
  const n4 = dim & ~3
  let i = 0
  for (; i < n4; i += 4) {
    const offset = <usize>i << 2
    const x = v128.load(input + offset)
    const v0 = v128.load(o0 + offset)
    const v1 = v128.load(o1 + offset)
    const v2 = v128.load(o2 + offset)
    const v3 = v128.load(o3 + offset)
    let e = v128.load(error + offset)
    e = f32x4.add(e, f32x4.add(f32x4.add(f32x4.mul(gv0, v0), f32x4.mul(gv1, v1)), f32x4.add(f32x4.mul(gv2, v2), f32x4.mul(gv3, v3))))
    v128.store(error + offset, e)
    v128.store(o0 + offset, f32x4.add(v0, f32x4.mul(gv0, x)))
    v128.store(o1 + offset, f32x4.add(v1, f32x4.mul(gv1, x)))
    v128.store(o2 + offset, f32x4.add(v2, f32x4.mul(gv2, x)))
    v128.store(o3 + offset, f32x4.add(v3, f32x4.mul(gv3, x)))
  }
  for (; i < dim; i++) {
    const offset = <usize>i << 2
    const x = load<f32>(input + offset)
    const v0 = load<f32>(o0 + offset)
    const v1 = load<f32>(o1 + offset)
    const v2 = load<f32>(o2 + offset)
    const v3 = load<f32>(o3 + offset)
    store<f32>(error + offset, load<f32>(error + offset) + g0 * v0 + g1 * v1 + g2 * v2 + g3 * v3)
    store<f32>(o0 + offset, v0 + g0 * x)
    store<f32>(o1 + offset, v1 + g1 * x)
    store<f32>(o2 + offset, v2 + g2 * x)
    store<f32>(o3 + offset, v3 + g3 * x)
  }
}

/** error += g · out; out += g · input — one output vector's update (both from the old out). */
@inline function update(g: f32, input: usize, out: usize, error: usize): void {
  const gv = f32x4.splat(g)
  const n4 = dim & ~3
  let i = 0
  for (; i < n4; i += 4) {
    const offset = <usize>i << 2
    const o = v128.load(out + offset)
    v128.store(error + offset, f32x4.add(v128.load(error + offset), f32x4.mul(gv, o)))
    v128.store(out + offset, f32x4.add(o, f32x4.mul(gv, v128.load(input + offset))))
  }
  for (; i < dim; i++) {
    const offset = <usize>i << 2
    const o = load<f32>(out + offset)
    store<f32>(error + offset, load<f32>(error + offset) + g * o)
    store<f32>(out + offset, o + g * load<f32>(input + offset))
  }
}

/** y += x. */
@inline function add(x: usize, y: usize): void {
  const n4 = dim & ~3
  let i = 0
  for (; i < n4; i += 4) {
    const offset = <usize>i << 2
    v128.store(y + offset, f32x4.add(v128.load(y + offset), v128.load(x + offset)))
  }
  for (; i < dim; i++) store<f32>(y + (<usize>i << 2), load<f32>(y + (<usize>i << 2)) + load<f32>(x + (<usize>i << 2)))
}

/** y *= s. */
@inline function scale(y: usize, s: f32): void {
  const sv = f32x4.splat(s)
  const n4 = dim & ~3
  let i = 0
  for (; i < n4; i += 4) v128.store(y + (<usize>i << 2), f32x4.mul(v128.load(y + (<usize>i << 2)), sv))
  for (; i < dim; i++) store<f32>(y + (<usize>i << 2), load<f32>(y + (<usize>i << 2)) * s)
}

@inline function zero(y: usize): void {
  memory.fill(y, 0, <usize>dim << 2)
}

/** Scores h against the `count` rows laid out in rows/labels, adds their input gradient to neu1e and updates them;
 *  returns −Σ log p(label | h). Every score is taken before any row moves (word2vec.c interleaves the two; they differ
 *  only when a negative sample repeats), so four rows at a time share each load of h and run in parallel. */
function scoreAndUpdate(h: usize, count: i32, alpha: f32): f64 {
  let d = 0
  for (; d + 4 <= count; d += 4) {
    const at = rows + (<usize>d << 2)
    dot4(h, load<i32>(at), load<i32>(at, 4), load<i32>(at, 8), load<i32>(at, 12), scores + (<usize>d << 2))
  }
  for (; d < count; d++) store<f32>(scores + (<usize>d << 2), dot(h, load<i32>(rows + (<usize>d << 2))))
  // Scores become gradients in place: (label − σ(f)) · α.
  let nll: f64 = 0
  for (d = 0; d < count; d++) {
    const at = scores + (<usize>d << 2)
    const f = load<f32>(at)
    const label = load<f32>(labels + (<usize>d << 2))
    const p = sigmoid(f)
    nll -= label > 0 ? lastLogSigmoid : lastLogSigmoid - <f64>f // log σ(−f) = log σ(f) − f
    store<f32>(at, (label - p) * alpha)
  }
  for (d = 0; d + 4 <= count; d += 4) {
    const at = rows + (<usize>d << 2)
    const g = scores + (<usize>d << 2)
    update4(load<f32>(g), load<f32>(g, 4), load<f32>(g, 8), load<f32>(g, 12), h, load<i32>(at), load<i32>(at, 4), load<i32>(at, 8), load<i32>(at, 12), neu1e)
  }
  for (; d < count; d++) update(load<f32>(scores + (<usize>d << 2)), h, load<i32>(rows + (<usize>d << 2)), neu1e)
  return nll
}

/** Predicts `target` from the hidden vector h (a context word's input vector, or CBOW's mean), adding the input
 *  gradient to neu1e and updating the output vectors. Returns −log p(target | h). */
function predict(h: usize, target: i32, alpha: f32): f64 {
  let nll: f64 = 0
  if (useHs) {
    // Hierarchical softmax (eq. 3): one binary decision per inner node on the target's path; code 0 is the σ(f) branch.
    const length = load<i32>(codeLens + (<usize>target << 2))
    const base = <usize>target * <usize>maxCode
    for (let d = 0; d < length; d++) {
      store<i32>(rows + (<usize>d << 2), <i32>row(syn1, load<i32>(points + ((base + <usize>d) << 2))))
      store<f32>(labels + (<usize>d << 2), 1 - <f32>load<u8>(codes + base + <usize>d))
    }
    nll += scoreAndUpdate(h, length, alpha)
  }
  if (negative > 0) {
    // Negative sampling (eq. 4): the target against `negative` words drawn from the unigram^0.75 table.
    store<i32>(rows, <i32>row(syn1neg, target))
    store<f32>(labels, 1)
    let count = 1
    for (let d = 0; d < negative; d++) {
      const word = noiseWord()
      if (word == target) continue
      store<i32>(rows + (<usize>count << 2), <i32>row(syn1neg, word))
      store<f32>(labels + (<usize>count << 2), 0)
      count++
    }
    nll += scoreAndUpdate(h, count, alpha)
  }
  return nll
}

function trainSentence(length: i32, alpha: f32): void {
  for (let i = 0; i < length; i++) {
    const word = load<i32>(sentence + (<usize>i << 2))
    const shrink = <i32>below(<u64>window) // word2vec.c's reduced window: uniform in [1, window]
    const from = max(0, i - window + shrink)
    const to = min(length - 1, i + window - shrink)
    if (useCbow) {
      zero(neu1)
      zero(neu1e)
      let count = 0
      for (let j = from; j <= to; j++) {
        if (j == i) continue
        add(row(syn0, load<i32>(sentence + (<usize>j << 2))), neu1)
        count++
      }
      if (count == 0) continue
      scale(neu1, 1 / <f32>count)
      lossSum += predict(neu1, word, alpha)
      predictions += 1
      for (let j = from; j <= to; j++) {
        if (j == i) continue
        add(neu1e, row(syn0, load<i32>(sentence + (<usize>j << 2))))
      }
    } else {
      // Skip-gram, as word2vec.c: each context word's vector predicts the centre word.
      for (let j = from; j <= to; j++) {
        if (j == i) continue
        const input = row(syn0, load<i32>(sentence + (<usize>j << 2)))
        zero(neu1e)
        lossSum += predict(input, word, alpha)
        predictions += 1
        add(neu1e, input)
      }
    }
  }
}

/** Trains on corpus[start, end) (word ids, −1 ends a sentence) at learning rate alpha; returns the words read. */
export function trainRange(corpus: usize, start: i32, end: i32, alpha: f32): i32 {
  let length = 0
  for (let p = start; p < end; p++) {
    const word = load<i32>(corpus + (<usize>p << 2))
    if (word < 0) {
      trainSentence(length, alpha)
      length = 0
      continue
    }
    const k = load<f32>(keep + (<usize>word << 2))
    if (k < 1 && k < uniform()) continue
    store<i32>(sentence + (<usize>length << 2), word)
    length++
    keptWords += 1
    if (length == maxSentence) {
      trainSentence(length, alpha)
      length = 0
    }
  }
  trainSentence(length, alpha)
  return end - start
}
