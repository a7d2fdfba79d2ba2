// The LSTM cell's element-wise part (Hochreiter & Schmidhuber 1997; forget gate: Gers et al. 2000):
// [i f g o] = z;  c' = σ(f)⊙c + σ(i)⊙tanh(g);  h' = σ(o)⊙tanh(c').
// Where the backend has the fused kernels (the engine registers them), a time step is one kernel forward and one
// backward instead of ~15 small ones each; elsewhere the same formula in plain ops.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'

/** inputs {z [B, 4H], c [B, H]} → [h' [B, H], c' [B, H], gates [B, 4H] = σ(i), σ(f), tanh(g), σ(o)]. */
export const lstmGatesKernel = 'KotobaLstmGates'
/** inputs {dh, dc [B, H] (of h', c'), gates, c, cNext} → [dz [B, 4H], dc [B, H] (of c)]. */
export const lstmGatesGradKernel = 'KotobaLstmGatesGrad'

tf.registerGradient({
  kernelName: lstmGatesKernel,
  inputsToSave: ['c'],
  outputsToSave: [false, true, true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [dh, dc] = dys as tf.Tensor[]
    const [c, cNext, gates] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
    const [dz, dcPrev] = tf.engine().runKernel(lstmGatesGradKernel, { dh: dh!, dc: dc!, gates, c, cNext }) as [tf.Tensor2D, tf.Tensor2D]
    return { z: () => dz, c: () => dcPrev }
  },
})

/** Whether this backend runs the gates as fused kernels (and so a whole layer as lstm-sequence.ts). */
export const hasFusedLstmGates = (): boolean => backendHasKernels(lstmGatesKernel, lstmGatesGradKernel)

/** z [B, 4H] pre-activations, c [B, H] → [h', c'], each [B, H]. */
export function lstmGates(z: tf.Tensor2D, c: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  if (hasFusedLstmGates()) {
    const [h, cNext, gates] = tf.engine().runKernel(lstmGatesKernel, { z, c }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
    gates.dispose() // kept by the tape when recording; not needed otherwise
    return [h, cNext]
  }
  return tf.tidy(() => {
    const [i, f, g, o] = tf.split(z, 4, 1) as tf.Tensor2D[] // each [B, H]
    const cNext = tf.sigmoid(f!).mul(c).add(tf.sigmoid(i!).mul(tf.tanh(g!))) as tf.Tensor2D
    const hNext = tf.sigmoid(o!).mul(tf.tanh(cNext)) as tf.Tensor2D
    return [hNext, cNext]
  })
}
