import * as tf from '@tensorflow/tfjs'

/**
 * tf.tidy for results that are plain objects holding tensors, arrays of tensors and nulls
 * (tfjs keeps every tensor reachable from the result; its TensorContainer type just does not admit null).
 */
export function tidyResult<T>(fn: () => T): T {
  return tf.tidy(fn as () => tf.TensorContainer) as T
}
