// The residual connection around each sub-layer, Vaswani et al. 2017 §5.4 (post-LN: LN(x + Dropout(f(x))))
// or its pre-LN variant (Xiong et al. 2020: x + Dropout(f(LN(x)))), which trains stably without warm-up.
import * as tf from '@tensorflow/tfjs'
import { dropout } from '../layers/dropout.ts'
import { addNorm, hasFusedAddNorm } from '../layers/add-norm.ts'
import type { LayerNorm } from '../layers/layer-norm.ts'

export type NormPosition = 'post' | 'pre'

/** Call inside the layer's tidy scope: no scope of its own, so tensors the sub-layer exposes (attention weights) survive. */
export function residual(x: tf.Tensor3D, norm: LayerNorm, position: NormPosition, dropoutRate: number, sublayer: (input: tf.Tensor3D) => tf.Tensor3D): tf.Tensor3D {
  const drop = (t: tf.Tensor3D) => (dropoutRate > 0 ? dropout(t, dropoutRate) : t)
  if (position === 'pre') return x.add(drop(sublayer(norm.apply(x))))
  if (hasFusedAddNorm()) return addNorm(x, sublayer(x), norm, dropoutRate) // one kernel where the three below are three
  return norm.apply(x.add(drop(sublayer(x))))
}
