// The common shape of recurrent cells: one time step, with the input projection split out so a layer
// can project every time step in one large matmul and only multiply the recurrent part per step.
import type * as tf from '@tensorflow/tfjs'

/** LSTM: [h, c]; GRU and simple RNN: [h]. Each [batch, hidden]. The output is always state[0]. */
export type RecurrentState = tf.Tensor2D[]

export type CellType = 'rnn' | 'lstm' | 'gru'

export interface RecurrentCell {
  readonly type: CellType
  readonly inputSize: number
  readonly hiddenSize: number
  /** [..., in] → [..., gates·hidden], bias included. */
  projectInput<T extends tf.Tensor>(x: T): T
  /** The projection of [x; c] where c is the same at every time step: x [B, T, X], c [B, in − X] → [B, T, gates·hidden]. */
  projectWithConstant(x: tf.Tensor3D, constant: tf.Tensor2D): tf.Tensor3D
  /** x·W_x + b over all steps for the leading part x [B, T, X] of an input whose rest comes per step, with W's rows
   *  for that rest [in − X, gates·hidden] (null: x is all of it); null where the kernel is quantised. */
  projectLeading(x: tf.Tensor3D): { projected: tf.Tensor3D; restKernel: tf.Tensor2D | null } | null
  /** One step from an already projected input [batch, gates·hidden]. */
  stepProjected(projected: tf.Tensor2D, state: RecurrentState): RecurrentState
  /** One step from a raw input [batch, in]. */
  step(x: tf.Tensor2D, state: RecurrentState): RecurrentState
  zeroState(batch: number): RecurrentState
}
