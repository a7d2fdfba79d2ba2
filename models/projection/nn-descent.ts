// Approximate k-nearest-neighbour graph by NN-Descent (Dong, Moses & Li 2011, "Efficient k-nearest neighbor graph
// construction for generic similarity measures": a neighbour of a neighbour is likely a neighbour), started from
// the leaves of random-projection trees as PyNNDescent does. Rows are Float32Array slices; distance is Euclidean.
// Each point's own row is its first neighbour (distance 0), the convention UMAP's fuzzy graph expects.

export interface NeighbourGraph {
  k: number
  /** [n, k] neighbour ids, nearest first (the point itself first). */
  indices: Int32Array
  /** [n, k] Euclidean distances, ascending. */
  distances: Float32Array
}

export interface NeighbourOptions {
  random: () => number
  /** Called after the trees and after each NN-Descent round. */
  onProgress?: (done: number, total: number) => void
  /** NN-Descent rounds at most (default max(5, round(log2 n)), as PyNNDescent). */
  maxRounds?: number
  /** Stop once a round improves fewer than delta · n · k entries (default 0.001). */
  delta?: number
  /** Random-projection trees for the start (default 5 + √n / 20, at most 12). */
  trees?: number
}

function squaredDistance(rows: Float32Array, d: number, a: number, b: number): number {
  let sum = 0
  const x = a * d
  const y = b * d
  for (let c = 0; c < d; c++) {
    const diff = rows[x + c]! - rows[y + c]!
    sum += diff * diff
  }
  return sum
}

/** Per point a bounded max-heap of its k best candidates (root: the farthest kept) and whether each is new. */
export class NeighbourHeaps {
  readonly ids: Int32Array
  readonly dist: Float32Array
  readonly fresh: Uint8Array

  constructor(
    readonly n: number,
    readonly k: number,
  ) {
    this.ids = new Int32Array(n * k).fill(-1)
    this.dist = new Float32Array(n * k).fill(Infinity)
    this.fresh = new Uint8Array(n * k)
  }

  /** Offers j to i's heap at squared distance s; returns 1 when it was kept. `unique`: the caller never offers j twice. */
  push(i: number, j: number, s: number, unique = false): number {
    const base = i * this.k
    if (s >= this.dist[base]!) return 0
    if (!unique) for (let t = 0; t < this.k; t++) if (this.ids[base + t] === j) return 0
    // Replace the root and sift it down.
    let at = 0
    for (;;) {
      const left = 2 * at + 1
      if (left >= this.k) break
      const right = left + 1
      const bigger = right < this.k && this.dist[base + right]! > this.dist[base + left]! ? right : left
      if (this.dist[base + bigger]! <= s) break
      this.ids[base + at] = this.ids[base + bigger]!
      this.dist[base + at] = this.dist[base + bigger]!
      this.fresh[base + at] = this.fresh[base + bigger]!
      at = bigger
    }
    this.ids[base + at] = j
    this.dist[base + at] = s
    this.fresh[base + at] = 1
    return 1
  }

  /** Each heap sorted, nearest first, as a graph with Euclidean distances. */
  sorted(): NeighbourGraph {
    const { n, k } = this
    const indices = new Int32Array(n * k)
    const distances = new Float32Array(n * k)
    const order = Array.from({ length: k }, (_, t) => t)
    for (let i = 0; i < n; i++) {
      const base = i * k
      order.sort((a, b) => this.dist[base + a]! - this.dist[base + b]!)
      order.forEach((t, rank) => {
        indices[base + rank] = this.ids[base + t]!
        distances[base + rank] = Math.sqrt(this.dist[base + t]!)
      })
    }
    return { k, indices, distances }
  }
}

/** Leaves (of at most leafSize points) of one random-projection tree: split by the hyperplane halfway between two
 *  random points, until small. */
function projectionLeaves(rows: Float32Array, n: number, d: number, leafSize: number, random: () => number): Int32Array[] {
  const leaves: Int32Array[] = []
  const stack: Int32Array[] = [Int32Array.from({ length: n }, (_, i) => i)]
  const normal = new Float32Array(d)
  while (stack.length > 0) {
    const points = stack.pop()!
    if (points.length <= leafSize) {
      leaves.push(points)
      continue
    }
    const a = points[Math.floor(random() * points.length)]!
    let b = points[Math.floor(random() * points.length)]!
    if (b === a) b = points[(points.indexOf(a) + 1) % points.length]!
    let offset = 0
    for (let c = 0; c < d; c++) {
      normal[c] = rows[a * d + c]! - rows[b * d + c]!
      offset -= (normal[c]! * (rows[a * d + c]! + rows[b * d + c]!)) / 2
    }
    const side = new Uint8Array(points.length)
    let left = 0
    points.forEach((p, i) => {
      let margin = offset
      for (let c = 0; c < d; c++) margin += normal[c]! * rows[p * d + c]!
      side[i] = margin === 0 ? (random() < 0.5 ? 1 : 0) : margin > 0 ? 1 : 0
      left += side[i]!
    })
    if (left === 0 || left === points.length) {
      // Duplicates (or one side empty): split at random so the tree always ends.
      for (let i = 0; i < points.length; i++) side[i] = i % 2
      left = points.length >> 1
    }
    const first = new Int32Array(left)
    const second = new Int32Array(points.length - left)
    let f = 0
    let s = 0
    points.forEach((p, i) => (side[i] ? (first[f++] = p) : (second[s++] = p)))
    stack.push(first, second)
  }
  return leaves
}

export function nearestNeighbours(rows: Float32Array, n: number, d: number, k: number, options: NeighbourOptions): NeighbourGraph {
  if (k < 1 || k > n) throw new Error(`k must be in [1, ${n}], got ${k}`)
  const { random } = options
  const rounds = options.maxRounds ?? Math.max(5, Math.round(Math.log2(n)))
  const delta = options.delta ?? 0.001
  const trees = options.trees ?? Math.min(12, 5 + Math.round(Math.sqrt(n) / 20))
  const total = rounds + 1
  const heaps = new NeighbourHeaps(n, k)
  for (let i = 0; i < n; i++) heaps.push(i, i, 0)

  // Start: every pair within a leaf of each tree, then random points where a heap is still short.
  const leafSize = Math.max(10, k)
  for (let t = 0; t < trees; t++) {
    for (const leaf of projectionLeaves(rows, n, d, leafSize, random)) {
      for (let x = 0; x < leaf.length; x++) {
        for (let y = x + 1; y < leaf.length; y++) {
          const s = squaredDistance(rows, d, leaf[x]!, leaf[y]!)
          heaps.push(leaf[x]!, leaf[y]!, s)
          heaps.push(leaf[y]!, leaf[x]!, s)
        }
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k && heaps.ids[i * k]! < 0; t++) {
      const j = Math.floor(random() * n)
      heaps.push(i, j, squaredDistance(rows, d, i, j))
    }
  }
  options.onProgress?.(1, total)

  // Rounds: each point's new and old neighbours (and the points that list it) are joined pairwise.
  const maxCandidates = Math.min(60, k)
  const newIds = new Int32Array(n * maxCandidates)
  const newPriority = new Float32Array(n * maxCandidates)
  const newCount = new Int32Array(n)
  const oldIds = new Int32Array(n * maxCandidates)
  const oldPriority = new Float32Array(n * maxCandidates)
  const oldCount = new Int32Array(n)
  // Keeps at most maxCandidates per point, those with the lowest random priority (an unbiased sample).
  const offer = (ids: Int32Array, priority: Float32Array, count: Int32Array, i: number, j: number, p: number) => {
    const base = i * maxCandidates
    const have = count[i]!
    for (let t = 0; t < have; t++) if (ids[base + t] === j) return
    if (have < maxCandidates) {
      ids[base + have] = j
      priority[base + have] = p
      count[i] = have + 1
      return
    }
    let worst = 0
    for (let t = 1; t < maxCandidates; t++) if (priority[base + t]! > priority[base + worst]!) worst = t
    if (p < priority[base + worst]!) {
      ids[base + worst] = j
      priority[base + worst] = p
    }
  }
  for (let round = 0; round < rounds; round++) {
    newCount.fill(0)
    oldCount.fill(0)
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < k; t++) {
        const j = heaps.ids[i * k + t]!
        if (j < 0 || j === i) continue
        const p = random()
        if (heaps.fresh[i * k + t]) {
          offer(newIds, newPriority, newCount, i, j, p)
          offer(newIds, newPriority, newCount, j, i, p)
        } else {
          offer(oldIds, oldPriority, oldCount, i, j, p)
          offer(oldIds, oldPriority, oldCount, j, i, p)
        }
      }
    }
    // A neighbour sampled as new is old from now on.
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < k; t++) {
        const j = heaps.ids[i * k + t]!
        if (j < 0 || !heaps.fresh[i * k + t]) continue
        const base = i * maxCandidates
        for (let c = 0; c < newCount[i]!; c++) {
          if (newIds[base + c] === j) {
            heaps.fresh[i * k + t] = 0
            break
          }
        }
      }
    }
    let updates = 0
    for (let i = 0; i < n; i++) {
      const newBase = i * maxCandidates
      const oldBase = i * maxCandidates
      for (let x = 0; x < newCount[i]!; x++) {
        const p = newIds[newBase + x]!
        for (let y = x + 1; y < newCount[i]!; y++) {
          const q = newIds[newBase + y]!
          const s = squaredDistance(rows, d, p, q)
          updates += heaps.push(p, q, s) + heaps.push(q, p, s)
        }
        for (let y = 0; y < oldCount[i]!; y++) {
          const q = oldIds[oldBase + y]!
          if (q === p) continue
          const s = squaredDistance(rows, d, p, q)
          updates += heaps.push(p, q, s) + heaps.push(q, p, s)
        }
      }
    }
    options.onProgress?.(round + 2, total)
    if (updates <= delta * n * k) break
  }
  options.onProgress?.(total, total)

  return heaps.sorted()
}
