// What every cell shares: the input projection x·W + b (one matmul over all time steps), the raw-input step,
// and a zero initial state.
import * as tf from '@tensorflow/tfjs'
import { matMulWeights } from '../quantization/int8-matmul.ts'
import type { CellType, RecurrentCell, RecurrentState } from './cell.ts'

export abstract class ProjectedCell implements RecurrentCell {
  abstract readonly type: CellType
  /** [in, gates·H] */
  abstract readonly inputKernel: tf.Variable
  /** [gates·H] */
  abstract readonly inputBias: tf.Variable

  constructor(
    readonly inputSize: number,
    readonly hiddenSize: number,
    /** How many H-wide blocks the projection feeds (LSTM 4, GRU 3, simple RNN 1). */
    readonly gates: number,
    /** Tensors in the state (LSTM: h and c). */
    private readonly stateTensors: number,
  ) {}

  projectInput<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const flat = x.reshape([-1, this.inputSize])
      return matMulWeights(flat as tf.Tensor2D, this.inputKernel).add(this.inputBias).reshape([...x.shape.slice(0, -1), this.gates * this.hiddenSize]) as T
    })
  }

  abstract stepProjected(projected: tf.Tensor2D, state: RecurrentState): RecurrentState

  step(x: tf.Tensor2D, state: RecurrentState): RecurrentState {
    return tf.tidy(() => this.stepProjected(this.projectInput(x), state))
  }

  zeroState(batch: number): RecurrentState {
    return Array.from({ length: this.stateTensors }, () => tf.zeros([batch, this.hiddenSize]) as tf.Tensor2D)
  }
}
