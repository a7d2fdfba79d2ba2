// Projects word vectors to 2-D or 3-D off the UI thread: PCA from DruidJS; t-SNE ours (models/projection/tsne.ts:
// exact neighbours on the wasm matrix product, FFT-interpolated repulsion; DruidJS's exact t-SNE took 206 s for
// 3,274 words) on the full vectors (DruidJS's PCA to 50 dimensions took minutes; the product is fast enough); UMAP from umap-js on our NN-Descent
// neighbour graph (umap-js's own took ~45 s for 50k points and reports no progress); k-means clusters for colouring
// from DruidJS. Rows are scaled to unit length first, so distances follow cosine similarity.
import { KMeans, PCA } from '@saehrimnir/druidjs'
import { UMAP } from 'umap-js'
import { nearestNeighbours } from '../../../models/projection/nn-descent.ts'
import { tsne } from '../../../models/projection/tsne.ts'
import type { ProjectionReply, ProjectionRequest } from './protocol.ts'
import { wasmGramRows } from './wasm-gram.ts'

const post = (reply: ProjectionReply) => (self as unknown as Worker).postMessage(reply)

/** mulberry32, so a seed gives the same layout. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function unitRows({ rows, n, d }: ProjectionRequest): number[][] {
  const out: number[][] = []
  for (let i = 0; i < n; i++) {
    const row = Array.from(rows.subarray(i * d, (i + 1) * d))
    const norm = Math.hypot(...row) || 1
    out.push(row.map((v) => v / norm))
  }
  return out
}

function flatten(points: ArrayLike<ArrayLike<number>>, n: number, dims: number): Float32Array {
  const coords = new Float32Array(n * dims)
  for (let i = 0; i < n; i++) for (let k = 0; k < dims; k++) coords[i * dims + k] = points[i]![k]!
  return coords
}

function project(request: ProjectionRequest): Float32Array {
  const { id, method, dims, n, seed } = request
  const data = unitRows(request)
  if (method === 'pca') {
    post({ id, type: 'progress', phase: 'pca', done: 0, total: 1 })
    const projected = PCA.transform(data, { d: dims, seed }) as number[][]
    return flatten(projected, n, dims)
  }
  if (method === 'tsne') {
    const d = request.d
    const flat = new Float32Array(n * d)
    data.forEach((row, i) => flat.set(row, i * d))
    const iterations = request.iterations
    return tsne(flat, n, d, {
      dims,
      perplexity: Math.min(request.perplexity, Math.max(2, Math.floor((n - 1) / 3))),
      iterations,
      exaggerationIterations: Math.min(250, Math.floor(iterations / 3)),
      random: seededRandom(seed),
      gramRows: wasmGramRows(),
      onNeighbours: (done, total) => post({ id, type: 'progress', phase: 'neighbours', done, total }),
      onIteration: (done) => post({ id, type: 'progress', phase: 'tsne', done, total: iterations }),
      reportEvery: 10,
    })
  }
  post({ id, type: 'progress', phase: 'neighbours', done: 0, total: 1 })
  const random = seededRandom(seed)
  const k = Math.min(request.neighbours, n - 1)
  const flat = new Float32Array(n * request.d)
  data.forEach((row, i) => flat.set(row, i * request.d))
  const graph = nearestNeighbours(flat, n, request.d, k, { random, onProgress: (done, total) => post({ id, type: 'progress', phase: 'neighbours', done, total }) })
  const umap = new UMAP({ nComponents: dims, nNeighbors: k, minDist: 0.1, random })
  const rowsOf = (values: Int32Array | Float32Array) => Array.from({ length: n }, (_, i) => Array.from(values.subarray(i * k, (i + 1) * k)))
  umap.setPrecomputedKNN(rowsOf(graph.indices), rowsOf(graph.distances))
  post({ id, type: 'progress', phase: 'graph', done: 0, total: 1 })
  const epochs = umap.initializeFit(data)
  for (let epoch = 0; epoch < epochs; epoch++) {
    umap.step()
    if (epoch % 10 === 0) post({ id, type: 'progress', phase: 'umap', done: epoch, total: epochs })
  }
  return flatten(umap.getEmbedding(), n, dims)
}

self.onmessage = (event: MessageEvent<ProjectionRequest>) => {
  const request = event.data
  const started = performance.now()
  try {
    const coords = project(request)
    let clusters: Int32Array | null = null
    if (request.clusters > 1) {
      post({ id: request.id, type: 'progress', phase: 'clusters', done: 0, total: 1 })
      const groups = new KMeans(unitRows(request), { K: Math.min(request.clusters, request.n), seed: request.seed }).get_clusters()
      clusters = new Int32Array(request.n)
      groups.forEach((members, cluster) => members.forEach((i) => (clusters![i] = cluster)))
    }
    post({ id: request.id, type: 'done', coords, clusters, seconds: (performance.now() - started) / 1000 })
  } catch (error) {
    post({ id: request.id, type: 'error', message: error instanceof Error ? error.message : String(error) })
  }
}
