// A fully connected layer's product as one kernel where the backend has it: y = dropout(act(x·W + b)) forward in one
// dispatch, and dx, dW and db backward in one more (the bias gradient and the activation's and dropout's derivatives
// folded into the products), where the ops take 1–3 dispatches forward and 3–6 backward.
// The dropout mask is the fused dropout's (the same hash, counters and element order); act is the identity, ReLU or
// tanh, whose derivatives the backward pass reads from y.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'

/** inputs {x [N, in], w [in, out] (or [out, in] when weightsTransposed), b [out] (w again without a bias)}, attrs
 *  AffineAttrs → y [N, out]. */
export const affineKernel = 'KotobaAffine'
/** inputs {x, w, dy [N, out], y (the forward output, read for act')}, the same attrs → [dx, dW, db]. */
export const affineGradKernel = 'KotobaAffineGrad'

export type AffineActivation = 'linear' | 'relu' | 'tanh'

export interface AffineAttrs {
  activation: AffineActivation
  bias: boolean
  /** Dropout after the activation (0: none; only with ReLU, whose output tells the backward pass the kept units). */
  rate: number
  seed: number
  /** w is stored [out, in] (an embedding table tied to an output layer: logits = x·Eᵀ + b). */
  weightsTransposed: boolean
}

export function hasFusedAffine(): boolean {
  return backendHasKernels(affineKernel, affineGradKernel)
}

/** dropout(act(x·W + b)) for x [N, in] (no b where bias is null); call only where hasFusedAffine(). */
export function fusedAffine(x: tf.Tensor2D, weights: tf.Variable, bias: tf.Variable | null, options: Omit<AffineAttrs, 'bias'>): tf.Tensor2D {
  if (options.rate > 0 && options.activation !== 'relu') throw new Error('fusedAffine: dropout is fused only after ReLU')
  const attrs: AffineAttrs = { ...options, bias: bias !== null }
  const affine = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc
    const [a, w, b] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D | undefined]
    const y = tf.engine().runKernel(affineKernel, { x: a, w, b: b ?? w }, { ...attrs }) as tf.Tensor2D // [N, out]
    save([a, w, y])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [aSaved, wSaved, ySaved] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
        // dz = dy · act'(z) · mask; dx = dz·Wᵀ [N, in], dW = xᵀ·dz [in, out], db = Σ_rows dz [out]
        const [dx, dw, db] = tf.engine().runKernel(affineGradKernel, { x: aSaved, w: wSaved, dy, y: ySaved }, { ...attrs }) as tf.Tensor[]
        if (bias) return [dx!, dw!, db!]
        db!.dispose()
        return [dx!, dw!]
      },
    }
  })
  return (bias ? affine(x, weights, bias) : affine(x, weights)) as tf.Tensor2D
}

/** inputs {x [N, in], w0 … w(P−1) [in, d], b0 … b(P−1) [d]} (P = 2 or 3) → [N, P·d]: the P maps' outputs side by side. */
export const projectionsKernel = 'KotobaProjections'
/** inputs {dy [N, P·d], x, w0 …}, attrs {parts} → [dx, dw0 …, db0 …]. */
export const projectionsGradKernel = 'KotobaProjectionsGrad'

export function hasFusedProjections(): boolean {
  return backendHasKernels(projectionsKernel, projectionsGradKernel)
}

/**
 * [x·W₀ + b₀ | x·W₁ + b₁ | …] for 2 or 3 maps of the same x [N, in] (attention's query, key and value projections of
 * one input): one dispatch forward and two backward, where the maps apart are P and P plus the P − 1 additions that
 * sum x's gradients. Call only where hasFusedProjections().
 */
export function fusedProjections(x: tf.Tensor2D, weights: tf.Variable[], biases: tf.Variable[]): tf.Tensor2D {
  const parts = weights.length
  if ((parts !== 2 && parts !== 3) || biases.length !== parts) throw new Error(`fusedProjections: 2 or 3 maps with biases, got ${parts} and ${biases.length}`)
  const project = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc
    const [a, ...rest] = args as tf.Tensor[]
    const named = (prefix: string, tensors: tf.Tensor[]) => Object.fromEntries(tensors.map((t, i) => [`${prefix}${i}`, t]))
    const ws = rest.slice(0, parts)
    const y = tf.engine().runKernel(projectionsKernel, { x: a!, ...named('w', ws), ...named('b', rest.slice(parts)) }, { parts }) as tf.Tensor2D // [N, P·d]
    save([a!, ...ws])
    return {
      value: y,
      // dx = Σ_p dy_p·W_pᵀ [N, in], dW_p = xᵀ·dy_p [in, d], db_p = Σ_rows dy_p [d]
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [aSaved, ...wSaved] = saved
        return tf.engine().runKernel(projectionsGradKernel, { dy, x: aSaved!, ...named('w', wSaved) }, { parts }) as tf.Tensor[]
      },
    }
  })
  return project(x, ...weights, ...biases) as tf.Tensor2D
}
