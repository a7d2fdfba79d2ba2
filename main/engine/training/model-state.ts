// Building a run's model from its configuration, and moving weights and optimizer state in and out of checkpoints.
import * as tf from '@tensorflow/tfjs'
import type { RunConfig } from '../../api/contract.ts'
import type { ParameterStore } from '../../../models/core/params.ts'
import type { Adam } from '../../../models/train/adam.ts'
import { decodeTensors, encodeTensors, type NamedArray } from '../../../models/train/checkpoint-codec.ts'
import { attachInt8, detachInt8, Int8Matrix } from '../../../models/quantization/int8-matmul.ts'
import { createTranslationModel, type ModelSpec, type TranslationModel } from '../../../models/translation/model.ts'

export function modelSpec(config: RunConfig): ModelSpec {
  if (config.model === 'seq2seq') return { kind: 'seq2seq', seq2seq: config.seq2seq! }
  return { kind: 'transformer', transformer: config.transformer! }
}

export function buildModel(config: RunConfig, vocab: { src: number; tgt: number }): TranslationModel {
  return createTranslationModel(modelSpec(config), vocab, config.training.seed)
}

async function toArrays(tensors: Iterable<[string, tf.Tensor]>): Promise<NamedArray[]> {
  const arrays: NamedArray[] = []
  for (const [name, tensor] of tensors) arrays.push({ name, shape: tensor.shape, values: (await tensor.data()) as Float32Array })
  return arrays
}

/** Anything with named parameters: translation and dialogue models. */
export interface HasParameters {
  readonly params: ParameterStore
}

export async function encodeWeights(model: HasParameters): Promise<Uint8Array> {
  return encodeTensors(await toArrays(model.params.entries()))
}

export async function encodeOptimizer(optimizer: Adam): Promise<Uint8Array> {
  return encodeTensors(await toArrays(optimizer.state()))
}

/** Loads stored weights into the model; every parameter must be present with its shape. */
export function restoreWeights(model: HasParameters, blob: Uint8Array): void {
  const stored = new Map(decodeTensors(blob).map((a) => [a.name, a]))
  for (const [name, variable] of model.params.entries()) {
    const array = stored.get(name)
    if (!array) throw new Error(`the checkpoint has no parameter '${name}' (was the model configuration changed?)`)
    if (array.shape.join() !== variable.shape.join()) throw new Error(`parameter '${name}' has shape [${array.shape}] in the checkpoint but [${variable.shape}] in the model`)
    tf.tidy(() => variable.assign(tf.tensor(array.values, array.shape)))
    // A quantised matrix keeps its dequantised values above (every op that is not a product uses them) and runs its
    // products on the int8 form.
    if (array.int8) attachInt8(variable, new Int8Matrix(array.int8))
    else detachInt8(variable)
  }
}

export function restoreOptimizer(optimizer: Adam, blob: Uint8Array, steps: number): void {
  const tensors = new Map(decodeTensors(blob).map((a) => [a.name, tf.tensor(a.values, a.shape)] as [string, tf.Tensor]))
  optimizer.restore(tensors, steps)
  tf.dispose([...tensors.values()])
}
