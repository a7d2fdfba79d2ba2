// The input-feeding decoder (Luong, Pham & Manning 2015, §3.3) over a whole target sequence as one differentiable op,
// with backpropagation through time written out: per step t
//   h_t = cell([e_t; h̃_{t−1}], h_{t−1})  (LSTM, or GRU with the reset gate after the recurrent product, as cuDNN);
//   a_t = softmax(h_tᵀ K + mask), ctx_t = Σ_s a_t(s) V_s (eq. 8, keys K = Wₐh̄ or h̄);  h̃_t = tanh(W_c [h_t; ctx_t]) (eq. 5),
// where the embeddings' share of the cell's input product, P = e·W_e + b, was made for all steps before
// (ProjectedCell.projectLeading), so a step multiplies only h̃_{t−1} (by W_f) and h_{t−1} (by U).
// Each step depends on the previous step's h̃, so the steps cannot run as one layer; on a GPU, where every op is a
// dispatch, the kernels run a step as three dispatches each way (recurrence and gates; attention; combination)
// instead of ~30 stock ones, and the weights' gradients are one product each over all steps (Σₜ xₜᵀ·dzₜ) instead of
// one small product and one sum per step. Runs where the backend registers the kernels (the engine's webgpu);
// elsewhere Seq2SeqModel steps the same arithmetic as ops, and tests compare the two.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'

/**
 * inputs {projected [B, T, G] (G = 4H for an LSTM, 3H for a GRU), weights [2H, G] (W_f's rows, then U's), h0,
 * feed0 [B, H], c0 [B, H] (LSTM) and recurrentBias [G] (GRU; each a placeholder for the other cell), packed
 * [B, S, H + V] (keys then values), keyMask [B, S], combine [H + V, H]}, attrs FeedingDecoderAttrs → [attentional
 * [B, T, H] (h̃), attention [B, T, S], stepInputs [B, T, 2H] (each step's h̃_{t−1} and h_{t−1}), cells [B, T, 6H]
 * (LSTM: c_{t−1}, σ(i), σ(f), tanh(g), σ(o), c_t) or [B, T, 5H] (GRU: r, z, n, h_{t−1}·U_n + b_n, h_{t−1}),
 * combined [B, T, H + V] (h_t and ctx_t)].
 */
export const feedingDecoderKernel = 'KotobaFeedingDecoder'
/**
 * inputs {dAttentional [B, T, H], attentional, cells, combined, attention, packed, weightsT [G, 2H], combineT
 * [H, H + V]}, the same attrs → [dGates (LSTM: dz [B, T, 4H]; GRU: dx and da side by side [B, T, 6H], the gradients
 * of the input's and of the recurrent pre-activations), dPacked [B, S, H + V], dState [3, B, H] (of feed0, h0 and
 * c0; a GRU's third slab is scratch), dPre [B, T, H] (the gradient before W_c's tanh)].
 */
export const feedingDecoderGradKernel = 'KotobaFeedingDecoderGrad'

export interface FeedingDecoderAttrs {
  cell: 'lstm' | 'gru'
  /** keyMask is a real [B, S] mask (1 = attend); otherwise a placeholder the kernels do not read. */
  masked: boolean
}

export function hasFeedingDecoder(): boolean {
  return backendHasKernels(feedingDecoderKernel, feedingDecoderGradKernel)
}

/** The cell's own state and parameters besides W: an LSTM's initial c, a GRU's recurrent bias (b_U). */
export type FeedingCell = { type: 'lstm'; c0: tf.Tensor2D } | { type: 'gru'; recurrentBias: tf.Tensor }

export interface FeedingDecoderInputs {
  cell: FeedingCell
  projected: tf.Tensor3D // [B, T, G] e·W_e + b
  feedKernel: tf.Tensor // W_f [H, G]
  recurrentKernel: tf.Tensor // U [H, G]
  h0: tf.Tensor2D // [B, H]
  feed0: tf.Tensor2D // [B, H] h̃ before the first step
  packed: tf.Tensor3D // [B, S, H + V] the attention keys and values side by side
  keyMask: tf.Tensor2D | null // [B, S]
  combine: tf.Tensor // W_c [H + V, H]
}

/** → h̃ for every step [B, T, H] and the attention weights [B, T, S] (no gradient flows through these). */
export function feedingDecoder(inputs: FeedingDecoderInputs): { attentional: tf.Tensor3D; attention: tf.Tensor3D } {
  const { cell, projected, feedKernel, recurrentKernel, h0, feed0, packed, keyMask, combine } = inputs
  const [batch, length, gates] = projected.shape
  const hidden = gates / (cell.type === 'lstm' ? 4 : 3)
  if (feedKernel.shape[0] !== hidden || recurrentKernel.shape[0] !== hidden || combine.shape[0] !== packed.shape[2] || combine.shape[1] !== hidden) {
    throw new Error(`feeding decoder: sizes do not fit: projected [${projected.shape}], W_f [${feedKernel.shape}], U [${recurrentKernel.shape}], keys and values [${packed.shape}], W_c [${combine.shape}]`)
  }
  const attrs: FeedingDecoderAttrs = { cell: cell.type, masked: keyMask !== null }
  const mask = keyMask ?? h0 // a placeholder the kernels do not read
  const rows = batch * length
  let kept: tf.Tensor3D | null = null
  // `own` is the cell's c0 (LSTM) or recurrent bias (GRU).
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, weights, hStart, own, feedStart, kv, wc, save] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor2D, tf.Tensor, tf.Tensor2D, tf.Tensor3D, tf.Tensor2D, tf.GradSaveFunc]
    const [c0, recurrentBias] = cell.type === 'lstm' ? [own, hStart] : [hStart, own]
    const kernelInputs = { projected: xs, weights, h0: hStart, c0, recurrentBias, feed0: feedStart, packed: kv, keyMask: mask, combine: wc }
    const [attentional, attention, stepInputs, cells, combined] = tf.engine().runKernel(feedingDecoderKernel, kernelInputs, { ...attrs }) as tf.Tensor3D[]
    kept = tf.keep(attention!) // customGrad's forward runs in a tidy that keeps only `value`
    save([attentional!, attention!, stepInputs!, cells!, combined!, weights, kv, wc])
    return {
      value: attentional!,
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [attentionalSaved, weightsSaved, stepsIn, cellStack, combinedStack, w, kvSaved, wcSaved] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor2D, tf.Tensor3D, tf.Tensor2D]
        const gradInputs = { dAttentional: dy, attentional: attentionalSaved, cells: cellStack, combined: combinedStack, attention: weightsSaved, packed: kvSaved, weightsT: w.transpose(), combineT: wcSaved.transpose() }
        const [dGates, dPacked, dState, dPre] = tf.engine().runKernel(feedingDecoderGradKernel, gradInputs, { ...attrs }) as tf.Tensor[]
        const [dFeed0, dh0, dc0] = tf.unstack(dState!) as tf.Tensor2D[]
        const inputs = stepsIn.reshape([rows, 2 * hidden]) as tf.Tensor2D // [h̃_{t−1}; h_{t−1}] per (b, t)
        // Σₜ [h_t; ctx_t]ᵀ·dpre_t: one product over every step
        const dCombine = tf.matMul(combinedStack.reshape([rows, combinedStack.shape[2]]), dPre!.reshape([rows, hidden]), true, false)
        if (cell.type === 'lstm') {
          // Σₜ [h̃_{t−1}; h_{t−1}]ᵀ·dz_t: W_f and U share z
          const dWeights = tf.matMul(inputs, dGates!.reshape([rows, gates]), true, false)
          return [dGates!, dWeights, dh0!, dc0!, dFeed0!, dPacked!, dCombine]
        }
        // GRU: W_f multiplies into x, U into a: Σₜ h̃_{t−1}ᵀ·dx_t and Σₜ h_{t−1}ᵀ·da_t
        const [dx, da] = tf.split(dGates!.reshape([rows, 2 * gates]), 2, 1) as [tf.Tensor2D, tf.Tensor2D]
        const [fed, previous] = tf.split(inputs, 2, 1) as [tf.Tensor2D, tf.Tensor2D]
        const dWeights = tf.concat([tf.matMul(fed, dx, true, false), tf.matMul(previous, da, true, false)], 0)
        return [dx.reshape([batch, length, gates]), dWeights, dh0!, da.sum(0), dFeed0!, dPacked!, dCombine]
      },
    }
  })
  return tf.tidy(() => {
    const weights = tf.concat([feedKernel, recurrentKernel], 0) // [2H, G]: the rows the step inputs [h̃; h] multiply
    const own = cell.type === 'lstm' ? cell.c0 : cell.recurrentBias
    const attentional = run(projected, weights, h0, own, feed0, packed, combine) as tf.Tensor3D
    // Back under this tidy: a clone is a reference (no copy), the kept original is released.
    const attention = tf.clone(kept!) as tf.Tensor3D
    kept!.dispose()
    return { attentional, attention }
  })
}
