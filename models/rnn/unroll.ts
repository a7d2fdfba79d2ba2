// Runs a cell over a padded batch of sequences. Padded steps keep the previous state, so every
// sequence's final state is the one after its own last real token.
import * as tf from '@tensorflow/tfjs'
import type { RecurrentCell, RecurrentState } from './cell.ts'
import { GruCell } from './gru-cell.ts'
import { hasFusedGruGates } from './gru-gates.ts'
import { gruBidirectionalSequence, gruSequence, hasBidirectionalGruLayer } from './gru-sequence.ts'
import { stepOrder } from './sequence-steps.ts'
import { LstmCell } from './lstm-cell.ts'
import { hasFusedLstmGates } from './lstm-gates.ts'
import { hasBidirectionalLstmLayer, lstmBidirectionalSequence, lstmSequence } from './lstm-sequence.ts'
import { hasInt8Form } from '../quantization/int8-matmul.ts'

/** [len, batch, n] → len × [batch, n]. One step is a squeeze: tfjs's Unpack gradient fails for a single output. */
function timeSteps(x: tf.Tensor): tf.Tensor2D[] {
  return x.shape[0] === 1 ? [x.squeeze([0]) as tf.Tensor2D] : (tf.unstack(x, 0) as tf.Tensor2D[])
}

export interface Unrolled {
  outputs: tf.Tensor3D // [batch, len, hidden]
  final: RecurrentState // each [batch, hidden]
}

/**
 * xs [batch, len, in]; mask [batch, len] (1 = real token, 0 = padding), or null for no padding.
 * With `reverse`, reads right to left (the backward half of a bidirectional encoder); outputs stay aligned
 * with the input positions.
 */
export function unroll(cell: RecurrentCell, xs: tf.Tensor3D, mask: tf.Tensor2D | null, initial: RecurrentState | null = null, reverse = false): Unrolled {
  const projected = cell.projectInput(xs) // [batch, len, gates·H]
  try {
    return unrollProjected(cell, projected, mask, initial, reverse)
  } finally {
    projected.dispose()
  }
}

/** The same from inputs the cell has already projected: projected [batch, len, gates·hidden]. */
export function unrollProjected(cell: RecurrentCell, projected: tf.Tensor3D, mask: tf.Tensor2D | null, initial: RecurrentState | null = null, reverse = false): Unrolled {
  return tf.tidy(() => {
    const [batch, length] = projected.shape
    const timeMajor = projected.transpose([1, 0, 2]) as tf.Tensor3D // [len, batch, gates·H]
    const timeMask = mask ? (mask.transpose().expandDims(2) as tf.Tensor3D) : null // [len, batch, 1]
    if (cell instanceof LstmCell && hasFusedLstmGates() && !hasInt8Form(cell.recurrentKernel)) {
      // The whole layer as one op with its own backpropagation through time (lstm-sequence.ts); a quantised layer
      // (inference only) steps below, where its recurrent product runs in int8.
      const [h0, c0] = initial ?? cell.zeroState(batch)
      const { outputs, final } = lstmSequence(timeMajor, cell.recurrentKernel, h0!, c0!, timeMask, reverse)
      return { outputs: outputs.transpose([1, 0, 2]) as tf.Tensor3D, final }
    }
    if (cell instanceof GruCell && hasFusedGruGates() && !hasInt8Form(cell.recurrentKernel)) {
      // The same for a GRU layer (gru-sequence.ts).
      const [h0] = initial ?? cell.zeroState(batch)
      const { outputs, final } = gruSequence(timeMajor, cell.recurrentKernel, cell.recurrentBias, h0!, timeMask, reverse)
      return { outputs: outputs.transpose([1, 0, 2]) as tf.Tensor3D, final: [final] }
    }
    // Time-major before splitting: unstacking the leading axis copies contiguous blocks (3× faster on wasm).
    const steps = timeSteps(timeMajor) // len × [batch, gates]
    const masks = timeMask ? timeSteps(timeMask) : null // len × [batch, 1]
    let state = initial ?? cell.zeroState(batch)
    const outputs: tf.Tensor2D[] = new Array(length)
    for (const t of stepOrder(length, reverse)) {
      const next = cell.stepProjected(steps[t]!, state)
      const m = masks?.[t]
      state = m ? next.map((s, i) => tf.add(s.mul(m), state[i]!.mul(tf.sub(1, m))) as tf.Tensor2D) : next
      outputs[t] = m ? (state[0]!.mul(m) as tf.Tensor2D) : state[0]!
    }
    return { outputs: tf.stack(outputs, 0).transpose([1, 0, 2]) as tf.Tensor3D, final: state }
  })
}

/**
 * Both halves of a bidirectional LSTM or GRU layer as one op (lstmBidirectionalSequence, gruBidirectionalSequence),
 * where the backend runs it: one product projects the input for both, and each step's dispatches serve both.
 * outputs [batch, len, 2·hidden] (forward then backward, as StackedRnn concatenates them), final state [batch,
 * 2·hidden] each. null where it does not apply (a simple RNN, a quantised layer, a backend without the kernels): run
 * the halves with unroll().
 */
export function unrollBidirectional(forward: RecurrentCell, backward: RecurrentCell, xs: tf.Tensor3D, mask: tf.Tensor2D | null): Unrolled | null {
  const lstm = forward instanceof LstmCell && backward instanceof LstmCell && hasBidirectionalLstmLayer()
  const gru = forward instanceof GruCell && backward instanceof GruCell && hasBidirectionalGruLayer()
  if (!(lstm || gru)) return null
  const cells = [forward, backward] as (LstmCell | GruCell)[]
  if (cells.some((cell) => hasInt8Form(cell.inputKernel) || hasInt8Form(cell.recurrentKernel))) return null
  return tf.tidy(() => {
    const [batch, length, inputSize] = xs.shape
    const hidden = forward.hiddenSize
    const gateWidth = 2 * forward.gates * hidden
    const kernel = tf.concat(cells.map((cell) => cell.inputKernel), 1) as tf.Tensor2D // [in, 2·G]
    const bias = tf.concat(cells.map((cell) => cell.inputBias)) // [2·G]
    const projected = tf.fused.matMul({ a: xs.reshape([batch * length, inputSize]) as tf.Tensor2D, b: kernel, bias }) // [B·T, 2·G]
    const timeMajor = projected.reshape([batch, length, gateWidth]).transpose([1, 0, 2]) as tf.Tensor3D // [len, batch, 2·G]
    const timeMask = mask ? (mask.transpose().expandDims(2) as tf.Tensor3D) : null // [len, batch, 1]
    const zeros = tf.zeros([2, batch, hidden]) as tf.Tensor3D
    const recurrent = tf.stack(cells.map((cell) => cell.recurrentKernel)) // [2, H, G]
    if (forward instanceof GruCell && backward instanceof GruCell) {
      const recurrentBias = tf.stack([forward.recurrentBias, backward.recurrentBias]) // [2, G]
      const { outputs, final } = gruBidirectionalSequence(timeMajor, recurrent, recurrentBias, zeros, timeMask)
      return { outputs: outputs.transpose([1, 0, 2]) as tf.Tensor3D, final: [final] }
    }
    const { outputs, final } = lstmBidirectionalSequence(timeMajor, recurrent, zeros, zeros, timeMask)
    return { outputs: outputs.transpose([1, 0, 2]) as tf.Tensor3D, final }
  })
}
