// Simple (Elman 1990) recurrent cell: h' = tanh(x·W + h·U + b).
import * as tf from '@tensorflow/tfjs'
import type { ParameterStore } from '../core/params.ts'
import type { RecurrentCell, RecurrentState } from './cell.ts'

export class SimpleRnnCell implements RecurrentCell {
  readonly type = 'rnn' as const
  readonly inputKernel: tf.Variable // [in, H]
  readonly recurrentKernel: tf.Variable // [H, H]
  readonly bias: tf.Variable // [H]

  constructor(
    params: ParameterStore,
    name: string,
    readonly inputSize: number,
    readonly hiddenSize: number,
  ) {
    this.inputKernel = params.create(`${name}/input_kernel`, [inputSize, hiddenSize], { kind: 'glorot' })
    this.recurrentKernel = params.create(`${name}/recurrent_kernel`, [hiddenSize, hiddenSize], { kind: 'glorot' })
    this.bias = params.create(`${name}/bias`, [hiddenSize], { kind: 'zeros' })
  }

  projectInput<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const flat = x.reshape([-1, this.inputSize])
      return tf.matMul(flat, this.inputKernel).add(this.bias).reshape([...x.shape.slice(0, -1), this.hiddenSize]) as T
    })
  }

  stepProjected(projected: tf.Tensor2D, [h]: RecurrentState): RecurrentState {
    return tf.tidy(() => [tf.tanh(projected.add(tf.matMul(h!, this.recurrentKernel))) as tf.Tensor2D])
  }

  step(x: tf.Tensor2D, state: RecurrentState): RecurrentState {
    return tf.tidy(() => this.stepProjected(this.projectInput(x), state))
  }

  zeroState(batch: number): RecurrentState {
    return [tf.zeros([batch, this.hiddenSize])]
  }
}
