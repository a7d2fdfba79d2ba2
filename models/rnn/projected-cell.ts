// What every cell shares: the input projection x·W + b (one matmul over all time steps), the raw-input step,
// and a zero initial state.
import * as tf from '@tensorflow/tfjs'
import { backendReadsForFree } from '../core/kernels.ts'
import { tidyResult } from '../core/tidy.ts'
import { hasInt8Form, matMulWeights } from '../quantization/int8-matmul.ts'
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

  /**
   * [x; c]·W + b for an input whose trailing part c is the same at every step (a decoder conditioned on a context
   * vector): x·W_x per step plus c·W_c + b once per sequence, broadcast over the steps — without the tiled copy of c
   * and its T-fold product that concatenating first would cost.
   */
  projectWithConstant(x: tf.Tensor3D, constant: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const leading = this.projectLeading(x) // x·W_x + b [B, T, G], and W_c
      // A quantised kernel multiplies whole (int8 forms are per matrix): concatenate as the model reads.
      if (!leading) return this.projectInput(tf.concat([x, constant.expandDims(1).tile([1, x.shape[1], 1])], 2) as tf.Tensor3D)
      return leading.projected.add(tf.matMul(constant, leading.restKernel!).expandDims(1)) as tf.Tensor3D // + c·W_c [B, 1, G]
    })
  }

  /**
   * x·W_x + b for every step at once, where x [B, T, X] is the leading part of the input and the rest (a decoder's
   * input feeding) arrives step by step; with the rows of W that the rest multiplies, [in − X, gates·H] (null where x
   * is the whole input). null for a quantised kernel (int8 forms are per matrix).
   */
  projectLeading(x: tf.Tensor3D): { projected: tf.Tensor3D; restKernel: tf.Tensor2D | null } | null {
    if (hasInt8Form(this.inputKernel)) return null
    return tidyResult(() => {
      const [batch, length, xSize] = x.shape
      const [leadingKernel, restKernel] =
        xSize === this.inputSize ? [this.inputKernel as tf.Tensor2D, null] : (tf.split(this.inputKernel, [xSize, this.inputSize - xSize], 0) as [tf.Tensor2D, tf.Tensor2D])
      const flat = x.reshape([batch * length, xSize]) as tf.Tensor2D
      // On a GPU the product and the bias in one dispatch (tfjs's fused matMul; the same gradients).
      const projected = backendReadsForFree() ? tf.matMul(flat, leadingKernel).add(this.inputBias) : tf.fused.matMul({ a: flat, b: leadingKernel, bias: this.inputBias })
      return { projected: projected.reshape([batch, length, this.gates * this.hiddenSize]) as tf.Tensor3D, restKernel }
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
