// GRU cell (Cho et al. 2014, eq. 5–8, with the reset gate applied after the recurrent product as in cuDNN):
// r = σ(xWr + hUr + b), z = σ(xWz + hUz + b), n = tanh(xWn + bn + r⊙(hUn + b'n)), h' = (1−z)⊙n + z⊙h.
import * as tf from '@tensorflow/tfjs'
import { matMulWeights } from '../quantization/int8-matmul.ts'
import type { ParameterStore } from '../core/params.ts'
import type { RecurrentState } from './cell.ts'
import { gruGates } from './gru-gates.ts'
import { ProjectedCell } from './projected-cell.ts'

export class GruCell extends ProjectedCell {
  readonly type = 'gru' as const
  readonly inputKernel: tf.Variable // [in, 3H]
  readonly recurrentKernel: tf.Variable // [H, 3H]
  readonly inputBias: tf.Variable // [3H]
  readonly recurrentBias: tf.Variable // [3H]

  constructor(
    params: ParameterStore,
    name: string,
    inputSize: number,
    hiddenSize: number,
  ) {
    super(inputSize, hiddenSize, 3, 1)
    const gates = 3 * hiddenSize
    this.inputKernel = params.create(`${name}/input_kernel`, [inputSize, gates], { kind: 'glorot' })
    this.recurrentKernel = params.create(`${name}/recurrent_kernel`, [hiddenSize, gates], { kind: 'glorot' })
    this.inputBias = params.create(`${name}/input_bias`, [gates], { kind: 'zeros' })
    this.recurrentBias = params.create(`${name}/recurrent_bias`, [gates], { kind: 'zeros' })
  }

  stepProjected(projected: tf.Tensor2D, [h]: RecurrentState): RecurrentState {
    return tf.tidy(() => {
      const recurrent = matMulWeights(h!, this.recurrentKernel).add(this.recurrentBias) as tf.Tensor2D // [B, 3H]
      return [gruGates(projected, recurrent, h!)] // [B, H]
    })
  }
}
