// The GRU cell's element-wise part (Cho et al. 2014, eq. 5–8, the reset gate after the recurrent product as cuDNN
// and PyTorch apply it): with x = [xr xz xn] the projected input and a = [ar az an] = h·U + b_U,
// r = σ(xr + ar), z = σ(xz + az), n = tanh(xn + r⊙an), h' = (1 − z)⊙n + z⊙h.
// Where the backend has the fused kernels (the engine registers them), a time step is one kernel forward and one
// backward instead of ~15 small ones each; elsewhere the same formula in plain ops.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'

/** inputs {x [B, 3H], a [B, 3H], h [B, H]} → [h' [B, H], gates [B, 4H] = r, z, n, an (what the backward needs)]. */
export const gruGatesKernel = 'KotobaGruGates'
/** inputs {dh [B, H] (of h'), gates [B, 4H], h [B, H]} → [dx [B, 3H], da [B, 3H], dh [B, H] (the direct path z⊙dh')]. */
export const gruGatesGradKernel = 'KotobaGruGatesGrad'

tf.registerGradient({
  kernelName: gruGatesKernel,
  inputsToSave: ['h'],
  outputsToSave: [false, true],
  gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [dh] = dys as tf.Tensor[]
    const [h, gates] = saved as [tf.Tensor2D, tf.Tensor2D]
    const [dx, da, dhDirect] = tf.engine().runKernel(gruGatesGradKernel, { dh: dh!, gates, h }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
    return { x: () => dx, a: () => da, h: () => dhDirect }
  },
})

/** Whether this backend runs the gates as fused kernels (and so a whole layer as gru-sequence.ts). */
export const hasFusedGruGates = (): boolean => backendHasKernels(gruGatesKernel, gruGatesGradKernel)

/** x [B, 3H] projected input, a [B, 3H] recurrent pre-activations (h·U + b_U), h [B, H] → h' [B, H]. */
export function gruGates(x: tf.Tensor2D, a: tf.Tensor2D, h: tf.Tensor2D): tf.Tensor2D {
  if (hasFusedGruGates()) {
    const [hNext, gates] = tf.engine().runKernel(gruGatesKernel, { x, a, h }) as [tf.Tensor2D, tf.Tensor2D]
    gates.dispose() // kept by the tape when recording; not needed otherwise
    return hNext
  }
  return tf.tidy(() => {
    const [xr, xz, xn] = tf.split(x, 3, 1) as tf.Tensor2D[] // each [B, H]
    const [ar, az, an] = tf.split(a, 3, 1) as tf.Tensor2D[]
    const r = tf.sigmoid(xr!.add(ar!))
    const z = tf.sigmoid(xz!.add(az!))
    const n = tf.tanh(xn!.add(r.mul(an!)))
    return tf.sub(1, z).mul(n).add(z.mul(h)) as tf.Tensor2D
  })
}
