// A stack of recurrent layers, each optionally bidirectional (Schuster & Paliwal 1997): forward and
// backward outputs are concatenated, so a bidirectional layer outputs 2·hidden features.
import * as tf from '@tensorflow/tfjs'
import { dropout } from '../layers/dropout.ts'
import type { ParameterStore } from '../core/params.ts'
import type { CellType, RecurrentCell, RecurrentState } from './cell.ts'
import { GruCell } from './gru-cell.ts'
import { LstmCell } from './lstm-cell.ts'
import { SimpleRnnCell } from './simple-rnn-cell.ts'
import { unroll, unrollBidirectional } from './unroll.ts'

export function createCell(type: CellType, params: ParameterStore, name: string, inputSize: number, hiddenSize: number): RecurrentCell {
  switch (type) {
    case 'lstm':
      return new LstmCell(params, name, inputSize, hiddenSize)
    case 'gru':
      return new GruCell(params, name, inputSize, hiddenSize)
    case 'rnn':
      return new SimpleRnnCell(params, name, inputSize, hiddenSize)
  }
}

export interface StackedRnnConfig {
  cell: CellType
  layers: number
  inputSize: number
  hiddenSize: number
  bidirectional: boolean
  /** Dropout between layers (training only). */
  dropout: number
}

export interface StackedRnnOutput {
  outputs: tf.Tensor3D // [batch, len, directions·hidden]
  /** Per layer, the final state with directions concatenated: each [batch, directions·hidden]. */
  finals: RecurrentState[]
}

export class StackedRnn {
  private readonly forward: RecurrentCell[] = []
  private readonly backward: RecurrentCell[] = []

  constructor(
    params: ParameterStore,
    name: string,
    readonly config: StackedRnnConfig,
  ) {
    const directions = config.bidirectional ? 2 : 1
    for (let layer = 0; layer < config.layers; layer++) {
      const inputSize = layer === 0 ? config.inputSize : directions * config.hiddenSize
      this.forward.push(createCell(config.cell, params, `${name}/layer${layer}/forward`, inputSize, config.hiddenSize))
      if (config.bidirectional) this.backward.push(createCell(config.cell, params, `${name}/layer${layer}/backward`, inputSize, config.hiddenSize))
    }
  }

  get outputSize(): number {
    return (this.config.bidirectional ? 2 : 1) * this.config.hiddenSize
  }

  /** xs [batch, len, in]; mask [batch, len]. */
  apply(xs: tf.Tensor3D, mask: tf.Tensor2D | null, training: boolean): StackedRnnOutput {
    return tf.tidy(() => {
      let input = xs
      const finals: RecurrentState[] = []
      for (let layer = 0; layer < this.config.layers; layer++) {
        if (layer > 0 && training && this.config.dropout > 0) input = dropout(input, this.config.dropout) as tf.Tensor3D
        // Both halves as one op where the backend has it: the same outputs and finals.
        const both = this.config.bidirectional ? unrollBidirectional(this.forward[layer]!, this.backward[layer]!, input, mask) : null
        if (both) {
          input = both.outputs
          finals.push(both.final)
          continue
        }
        const forward = unroll(this.forward[layer]!, input, mask)
        if (this.config.bidirectional) {
          const backward = unroll(this.backward[layer]!, input, mask, null, true)
          input = tf.concat([forward.outputs, backward.outputs], 2) as tf.Tensor3D
          finals.push(forward.final.map((state, i) => tf.concat([state, backward.final[i]!], 1) as tf.Tensor2D))
        } else {
          input = forward.outputs
          finals.push(forward.final)
        }
      }
      return { outputs: input, finals }
    })
  }
}
