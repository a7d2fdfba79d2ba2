// t-SNE (van der Maaten & Hinton 2008) for thousands of points: input affinities P on a k-nearest-neighbour graph
// (k = 3·perplexity, van der Maaten 2014 eq. 1 with σᵢ found by bisection), symmetrised p_ij = (p_j|i + p_i|j)/2n;
// the gradient 4·Σ_j (p_ij − q_ij)·q_ij·Z·(y_i − y_j) (eq. 5) split into an attractive sum over the graph's edges and a
// repulsive sum over all pairs, estimated in 2-D by grid interpolation and FFT (Linderman et al. 2019, FIt-SNE) and in
// 3-D by Barnes-Hut on an octree whose cells far enough away (width / distance < θ) count as one point at their centre
// of mass (van der Maaten 2014). Optimisation as the reference code: early exaggeration, momentum and per-coordinate
// gains (Jacobs 1988).
import { exactNeighbours, type GramRows } from './exact-neighbours.ts'
import { InterpolatedRepulsion } from './interpolated-repulsion.ts'
import { nearestNeighbours } from './nn-descent.ts'

/** Up to this many points the neighbour graph is exact (brute force); above, NN-Descent. */
const EXACT_NEIGHBOURS_UP_TO = 20_000

export interface TsneOptions {
  dims: 2 | 3
  perplexity: number
  iterations: number
  /** Barnes-Hut accuracy: a cell counts as one point when its width / distance < theta (0: exact, slow). */
  theta?: number
  /** Iterations with P multiplied by `exaggeration` (clusters form first). */
  exaggerationIterations?: number
  exaggeration?: number
  /** Default max(50, n / exaggeration / 4): Belkina et al. 2019's n / exaggeration for a gradient without eq. 5's factor 4 (as scikit-learn). */
  learningRate?: number
  random: () => number
  /** Called every `reportEvery` iterations with the layout so far ([n, dims] row-major). */
  onIteration?: (iteration: number, layout: Float32Array) => void
  reportEvery?: number
  /** Progress of the neighbour search. */
  onNeighbours?: (done: number, total: number) => void
  /** How repulsion is estimated (default: grid interpolation in 2-D, measured faster at 3k points already; Barnes-Hut in 3-D). */
  repulsion?: 'interpolation' | 'barnes-hut'
  /** The Gram-matrix product the exact neighbour search runs on (default: plain JavaScript). */
  gramRows?: GramRows
}

/** Sparse symmetric affinities in CSR form (rows may repeat a column; repeats add). */
interface Affinities {
  offsets: Int32Array
  columns: Int32Array
  values: Float64Array
}

/** p_j|i over i's k neighbours with the bandwidth that gives the wanted perplexity, then symmetrised. */
export function inputAffinities(
  rows: Float32Array,
  n: number,
  d: number,
  perplexity: number,
  random: () => number,
  onProgress?: (done: number, total: number) => void,
  gramRows?: GramRows,
): Affinities {
  const k = Math.min(n - 1, Math.max(1, Math.floor(3 * perplexity)))
  // The point itself comes first.
  const graph = n <= EXACT_NEIGHBOURS_UP_TO ? exactNeighbours(rows, n, d, k + 1, { gramRows, onProgress }) : nearestNeighbours(rows, n, d, k + 1, { random, onProgress })
  const targetEntropy = Math.log(Math.min(perplexity, k))
  const conditional = new Float64Array(n * k)
  const neighbour = new Int32Array(n * k)
  const squared = new Float64Array(k)
  for (let i = 0; i < n; i++) {
    let m = 0
    for (let slot = 0; slot < k + 1 && m < k; slot++) {
      const j = graph.indices[i * (k + 1) + slot]!
      if (j === i || j < 0) continue
      neighbour[i * k + m] = j
      squared[m] = graph.distances[i * (k + 1) + slot]! ** 2
      m++
    }
    // Bisection on β = 1/2σ² until the entropy of p_·|i is log(perplexity) (distances shifted by the smallest for stability).
    const nearest = Math.min(...squared.subarray(0, m))
    let beta = 1
    let low = 0
    let high = Infinity
    for (let tries = 0; tries < 100; tries++) {
      let sum = 0
      let weighted = 0
      for (let a = 0; a < m; a++) {
        const p = Math.exp(-beta * (squared[a]! - nearest))
        conditional[i * k + a] = p
        sum += p
        weighted += p * (squared[a]! - nearest)
      }
      const entropy = Math.log(sum) + (beta * weighted) / sum
      for (let a = 0; a < m; a++) conditional[i * k + a]! /= sum
      if (Math.abs(entropy - targetEntropy) < 1e-5) break
      if (entropy > targetEntropy) {
        low = beta
        beta = high === Infinity ? beta * 2 : (beta + high) / 2
      } else {
        high = beta
        beta = (beta + low) / 2
      }
    }
    for (let a = m; a < k; a++) {
      neighbour[i * k + a] = i
      conditional[i * k + a] = 0
    }
  }
  // Symmetrise: each directed edge i→j adds p_j|i / 2n to both (i, j) and (j, i).
  const counts = new Int32Array(n + 1)
  for (let e = 0; e < n * k; e++) {
    counts[Math.floor(e / k) + 1]!++
    counts[neighbour[e]! + 1]!++
  }
  for (let i = 0; i < n; i++) counts[i + 1]! += counts[i]!
  const offsets = Int32Array.from(counts)
  const fill = Int32Array.from(counts.subarray(0, n))
  const columns = new Int32Array(2 * n * k)
  const values = new Float64Array(2 * n * k)
  for (let e = 0; e < n * k; e++) {
    const i = Math.floor(e / k)
    const j = neighbour[e]!
    const p = conditional[e]! / (2 * n)
    columns[fill[i]!] = j
    values[fill[i]!++] = p
    columns[fill[j]!] = i
    values[fill[j]!++] = p
  }
  return { offsets, columns, values }
}

/** A 2^dims-ary space-partitioning tree over the layout, rebuilt each iteration, in flat arrays. */
class SpaceTree {
  private readonly fanout: number
  private capacity: number
  count = 0
  /** Per node: centre (dims), half width, mass centre sums (dims), points, first child (−1: leaf), its point (−1: none). */
  centre: Float64Array
  half: Float64Array
  massSum: Float64Array
  points: Int32Array
  firstChild: Int32Array
  leafPoint: Int32Array
  /** Per node: its centre of mass (massSum / points), set by finish(). */
  massCentre: Float64Array

  constructor(
    private readonly dims: number,
    n: number,
  ) {
    this.fanout = 1 << dims
    this.capacity = Math.max(16, 4 * n)
    this.centre = new Float64Array(this.capacity * dims)
    this.half = new Float64Array(this.capacity)
    this.massSum = new Float64Array(this.capacity * dims)
    this.points = new Int32Array(this.capacity)
    this.firstChild = new Int32Array(this.capacity)
    this.leafPoint = new Int32Array(this.capacity)
    this.massCentre = new Float64Array(this.capacity * dims)
  }

  private grow(): void {
    this.capacity *= 2
    const resize = <T extends Float64Array | Int32Array>(array: T, per: number): T => {
      const next = new (array.constructor as new (length: number) => T)(this.capacity * per)
      next.set(array)
      return next
    }
    this.centre = resize(this.centre, this.dims)
    this.half = resize(this.half, 1)
    this.massSum = resize(this.massSum, this.dims)
    this.points = resize(this.points, 1)
    this.firstChild = resize(this.firstChild, 1)
    this.leafPoint = resize(this.leafPoint, 1)
    this.massCentre = resize(this.massCentre, this.dims)
  }

  private newNode(centre: ArrayLike<number>, half: number): number {
    if (this.count === this.capacity) this.grow()
    const node = this.count++
    for (let c = 0; c < this.dims; c++) {
      this.centre[node * this.dims + c] = centre[c]!
      this.massSum[node * this.dims + c] = 0
    }
    this.half[node] = half
    this.points[node] = 0
    this.firstChild[node] = -1
    this.leafPoint[node] = -1
    return node
  }

  build(y: Float32Array, n: number): void {
    const { dims } = this
    this.count = 0
    const min = new Float64Array(dims).fill(Infinity)
    const max = new Float64Array(dims).fill(-Infinity)
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < dims; c++) {
        const v = y[i * dims + c]!
        if (v < min[c]!) min[c] = v
        if (v > max[c]!) max[c] = v
      }
    }
    let half = 0
    const centre = new Float64Array(dims)
    for (let c = 0; c < dims; c++) {
      centre[c] = (min[c]! + max[c]!) / 2
      half = Math.max(half, (max[c]! - min[c]!) / 2)
    }
    this.newNode(centre, half * (1 + 1e-5) + 1e-5)
    for (let i = 0; i < n; i++) this.insert(i, y)
    for (let node = 0; node < this.count; node++) {
      const count = Math.max(1, this.points[node]!)
      for (let c = 0; c < dims; c++) this.massCentre[node * dims + c] = this.massSum[node * dims + c]! / count
    }
  }

  private childFor(node: number, y: Float32Array, i: number): number {
    let index = 0
    for (let c = 0; c < this.dims; c++) if (y[i * this.dims + c]! > this.centre[node * this.dims + c]!) index |= 1 << c
    return this.firstChild[node]! + index
  }

  private split(node: number): void {
    const half = this.half[node]! / 2
    const first = this.count
    const centre = new Float64Array(this.dims)
    for (let child = 0; child < this.fanout; child++) {
      for (let c = 0; c < this.dims; c++) centre[c] = this.centre[node * this.dims + c]! + (child & (1 << c) ? half : -half)
      this.newNode(centre, half)
    }
    this.firstChild[node] = first
  }

  private insert(i: number, y: Float32Array): void {
    const { dims } = this
    let node = 0
    for (let depth = 0; ; depth++) {
      this.points[node]!++
      for (let c = 0; c < dims; c++) this.massSum[node * dims + c]! += y[i * dims + c]!
      if (this.firstChild[node] === -1) {
        if (this.points[node] === 1) {
          this.leafPoint[node] = i
          return
        }
        // Points at (nearly) the same place stay together in one leaf.
        if (depth > 40) return
        const resident = this.leafPoint[node]!
        this.leafPoint[node] = -1
        this.split(node)
        if (resident >= 0) {
          const child = this.childFor(node, y, resident)
          this.points[child] = 1
          for (let c = 0; c < dims; c++) this.massSum[child * dims + c] = y[resident * dims + c]!
          this.leafPoint[child] = resident
        }
      }
      node = this.childFor(node, y, i)
    }
  }

  /** Adds the repulsive force on point i (unnormalised, Σ q²Z²(y_i − y_cell)) to `force`; returns its share of Z. */
  repulsion(y: Float32Array, i: number, theta: number, force: Float64Array, stack: Int32Array): number {
    const { dims } = this
    let sumQ = 0
    let top = 0
    stack[top++] = 0
    const thetaSquared = theta * theta
    while (top > 0) {
      const node = stack[--top]!
      const count = this.points[node]!
      if (count === 0 || this.leafPoint[node] === i) continue
      let distanceSquared = 0
      for (let c = 0; c < dims; c++) {
        const diff = y[i * dims + c]! - this.massCentre[node * dims + c]!
        distanceSquared += diff * diff
      }
      const width = 2 * this.half[node]!
      if (this.firstChild[node] === -1 || width * width < thetaSquared * distanceSquared) {
        // One point at the cell's centre of mass (a leaf of coincident points that holds i counts only the others).
        const others = this.firstChild[node] === -1 && distanceSquared === 0 ? count - 1 : count
        if (others <= 0) continue
        const q = 1 / (1 + distanceSquared)
        sumQ += others * q
        const scale = others * q * q
        for (let c = 0; c < dims; c++) force[c]! += scale * (y[i * dims + c]! - this.massCentre[node * dims + c]!)
      } else {
        if (top + this.fanout > stack.length) throw new Error('t-SNE tree stack overflow')
        for (let child = 0; child < this.fanout; child++) stack[top++] = this.firstChild[node]! + child
      }
    }
    return sumQ
  }
}

/** gradient = Σ_j exaggeration · p_ij q_ij Z (y_i − y_j) over the graph's edges (q_ij Z = 1 / (1 + ‖y_i − y_j‖²)). */
function attraction(p: Affinities, y: Float32Array, n: number, dims: number, exaggeration: number, gradient: Float64Array): void {
  gradient.fill(0)
  const { offsets, columns, values } = p
  for (let i = 0; i < n; i++) {
    const xi = y[i * dims]!
    const yi = y[i * dims + 1]!
    const zi = dims === 3 ? y[i * dims + 2]! : 0
    let gx = 0
    let gy = 0
    let gz = 0
    for (let e = offsets[i]!; e < offsets[i + 1]!; e++) {
      const j = columns[e]!
      const dx = xi - y[j * dims]!
      const dy = yi - y[j * dims + 1]!
      const dz = dims === 3 ? zi - y[j * dims + 2]! : 0
      const scale = values[e]! / (1 + dx * dx + dy * dy + dz * dz)
      gx += scale * dx
      gy += scale * dy
      gz += scale * dz
    }
    gradient[i * dims] = exaggeration * gx
    gradient[i * dims + 1] = exaggeration * gy
    if (dims === 3) gradient[i * dims + 2] = exaggeration * gz
  }
}

/** Lays out n rows ([n, d] row-major) in `dims` dimensions; returns [n, dims] row-major. */
export function tsne(rows: Float32Array, n: number, d: number, options: TsneOptions): Float32Array {
  const { dims, iterations, random } = options
  const theta = options.theta ?? 0.5
  const exaggeration = options.exaggeration ?? 12
  const exaggerationIterations = Math.min(iterations, options.exaggerationIterations ?? 250)
  const learningRate = options.learningRate ?? Math.max(50, n / exaggeration / 4)
  const y = new Float32Array(n * dims)
  if (n === 1) return y
  const p = inputAffinities(rows, n, d, options.perplexity, random, options.onNeighbours, options.gramRows)
  // A small Gaussian start (Box-Muller on the seeded stream).
  for (let e = 0; e < n * dims; e++) y[e] = 1e-4 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random())
  const velocity = new Float64Array(n * dims)
  const gains = new Float64Array(n * dims).fill(1)
  const gradient = new Float64Array(n * dims)
  const repulsive = new Float64Array(n * dims)
  const repulsion = options.repulsion ?? (dims === 2 ? 'interpolation' : 'barnes-hut')
  if (repulsion === 'interpolation' && dims !== 2) throw new Error('t-SNE: grid interpolation works in 2-D only')
  // Only the chosen estimator's state is allocated (the tree alone holds ~4n nodes).
  const interpolated = repulsion === 'interpolation' ? new InterpolatedRepulsion() : null
  const barnesHut = interpolated ? null : { tree: new SpaceTree(dims, n), stack: new Int32Array(64 * (1 << dims) + 64), force: new Float64Array(dims) }
  for (let iteration = 0; iteration < iterations; iteration++) {
    const exaggerate = iteration < exaggerationIterations ? exaggeration : 1
    const momentum = iteration < exaggerationIterations ? 0.5 : 0.8
    // Repulsion: Σ_j q_ij² Z² (y_i − y_j), normalised by Z = Σ q_ij Z once every point's share is known.
    let z = 0
    if (interpolated) z = interpolated.compute(y, n, repulsive)
    else {
      const { tree, stack, force } = barnesHut!
      tree.build(y, n)
      for (let i = 0; i < n; i++) {
        force.fill(0)
        z += tree.repulsion(y, i, theta, force, stack)
        for (let c = 0; c < dims; c++) repulsive[i * dims + c] = force[c]!
      }
    }
    attraction(p, y, n, dims, exaggerate, gradient)
    for (let e = 0; e < n * dims; e++) {
      const g = 4 * (gradient[e]! - repulsive[e]! / z)
      // Gains grow where the step keeps its direction and shrink where it flips.
      gains[e] = Math.sign(g) !== Math.sign(velocity[e]!) ? gains[e]! + 0.2 : Math.max(0.01, gains[e]! * 0.8)
      velocity[e] = momentum * velocity[e]! - learningRate * gains[e]! * g
      y[e]! += velocity[e]!
    }
    // Keep the layout centred.
    for (let c = 0; c < dims; c++) {
      let mean = 0
      for (let i = 0; i < n; i++) mean += y[i * dims + c]!
      mean /= n
      for (let i = 0; i < n; i++) y[i * dims + c]! -= mean
    }
    if (options.onIteration && ((iteration + 1) % (options.reportEvery ?? 10) === 0 || iteration === iterations - 1)) options.onIteration(iteration + 1, y)
  }
  return y
}
