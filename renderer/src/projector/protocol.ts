// Messages between the projector page and its projection worker.

export type ProjectionMethod = 'pca' | 'tsne' | 'umap'

export interface ProjectionRequest {
  id: number
  method: ProjectionMethod
  dims: 2 | 3
  /** [n, d] row-major vectors. */
  rows: Float32Array
  n: number
  d: number
  seed: number
  /** t-SNE perplexity. */
  perplexity: number
  /** UMAP neighbours. */
  neighbours: number
  /** k-means clusters to colour by (0: none). */
  clusters: number
}

export type ProjectionReply =
  | { id: number; type: 'progress'; phase: string; done: number; total: number }
  | { id: number; type: 'done'; coords: Float32Array; clusters: Int32Array | null; seconds: number }
  | { id: number; type: 'error'; message: string }
