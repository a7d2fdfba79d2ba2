// Simple (Elman 1990) recurrent cell: h' = tanh(x·W + h·U + b).
import * as tf from '@tensorflow/tfjs'
import { matMulWeights } from '../quantization/int8-matmul.ts'
import type { ParameterStore } from '../core/params.ts'
import type { RecurrentState } from './cell.ts'
import { ProjectedCell } from './projected-cell.ts'

export class SimpleRnnCell extends ProjectedCell {
  readonly type = 'rnn' as const
  readonly inputKernel: tf.Variable // [in, H]
  readonly recurrentKernel: tf.Variable // [H, H]
  readonly inputBias: tf.Variable // [H]

  constructor(
    params: ParameterStore,
    name: string,
    inputSize: number,
    hiddenSize: number,
  ) {
    super(inputSize, hiddenSize, 1, 1)
    this.inputKernel = params.create(`${name}/input_kernel`, [inputSize, hiddenSize], { kind: 'glorot' })
    this.recurrentKernel = params.create(`${name}/recurrent_kernel`, [hiddenSize, hiddenSize], { kind: 'glorot' })
    this.inputBias = params.create(`${name}/bias`, [hiddenSize], { kind: 'zeros' })
  }

  stepProjected(projected: tf.Tensor2D, [h]: RecurrentState): RecurrentState {
    return tf.tidy(() => [tf.tanh(projected.add(matMulWeights(h!, this.recurrentKernel))) as tf.Tensor2D])
  }
}
