// Messages between the projector page and its projection worker.

export type ProjectionMethod = 'pca' | 'tsne' | 'umap'

/** What a projection is doing; the page names each in the user's language. */
export type ProjectionPhase = 'start' | 'pca' | 'neighbours' | 'tsne' | 'graph' | 'umap' | 'clusters'

export interface ProjectionRequest {
  id: number
  method: ProjectionMethod
  dims: 2 | 3
  /** [n, d] row-major vectors. */
  rows: Float32Array
  n: number
  d: number
  seed: number
  /** t-SNE perplexity (effective neighbours, 5–50). */
  perplexity: number
  /** t-SNE iterations (the first third, at most 250, with early exaggeration). */
  iterations: number
  /** UMAP neighbours. */
  neighbours: number
  /** k-means clusters to colour by (0: none). */
  clusters: number
}

export type ProjectionReply =
  | { id: number; type: 'progress'; phase: ProjectionPhase; done: number; total: number }
  | { id: number; type: 'done'; coords: Float32Array; clusters: Int32Array | null; seconds: number }
  | { id: number; type: 'error'; message: string }
