// LSTM cell (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000):
// [i f g o] = x·Wx + h·Wh + b;  c' = σ(f)⊙c + σ(i)⊙tanh(g);  h' = σ(o)⊙tanh(c').
import * as tf from '@tensorflow/tfjs'
import { matMulWeights } from '../quantization/int8-matmul.ts'
import type { ParameterStore } from '../core/params.ts'
import type { RecurrentState } from './cell.ts'
import { lstmGates } from './lstm-gates.ts'
import { ProjectedCell } from './projected-cell.ts'

export class LstmCell extends ProjectedCell {
  readonly type = 'lstm' as const
  readonly inputKernel: tf.Variable // [in, 4H]
  readonly recurrentKernel: tf.Variable // [H, 4H]
  readonly inputBias: tf.Variable // [4H]

  constructor(
    params: ParameterStore,
    name: string,
    inputSize: number,
    hiddenSize: number,
  ) {
    super(inputSize, hiddenSize, 4, 2)
    const gates = 4 * hiddenSize
    this.inputKernel = params.create(`${name}/input_kernel`, [inputSize, gates], { kind: 'glorot' })
    this.recurrentKernel = params.create(`${name}/recurrent_kernel`, [hiddenSize, gates], { kind: 'glorot' })
    // Forget-gate bias 1 (Jozefowicz et al. 2015), so memory flows from the start.
    const bias = new Float32Array(gates)
    bias.fill(1, hiddenSize, 2 * hiddenSize)
    this.inputBias = params.create(`${name}/bias`, [gates], { kind: 'values', values: bias })
  }

  stepProjected(projected: tf.Tensor2D, [h, c]: RecurrentState): RecurrentState {
    return tf.tidy(() => {
      const z = projected.add(matMulWeights(h!, this.recurrentKernel)) as tf.Tensor2D // [B, 4H]
      return lstmGates(z, c!) // [B, H] each
    })
  }
}
