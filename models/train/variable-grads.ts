// tf.variableGrads that cleans up after a pass that fails. tfjs disposes the tensors each op saved for its gradient
// only once backpropagation has finished; a forward or backward pass that threw (out of memory, a lost compute
// thread) left them held for good, and each retried or split update leaked another set.
import * as tf from '@tensorflow/tfjs'

/** What tfjs's engine keeps for backpropagation: the ops recorded, each with the tensors it saved. */
interface EngineTape {
  state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null }
}

/** The value of f and its gradients with respect to these variables (by variable name), as tf.variableGrads; when a
 *  pass fails, the tensors it made and those its ops saved are freed before the error goes on. */
export function variableGrads(f: () => tf.Scalar, variables: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  return tf.tidy(() => {
    try {
      return tf.variableGrads(f, variables)
    } catch (error) {
      releaseTape()
      throw error
    }
  })
}

/** Frees the saved tensors of an outermost tape a failed pass left, and drops it (a nested pass's tape is its
 *  caller's to finish). */
function releaseTape(): void {
  const { state } = tf.engine() as unknown as EngineTape
  if (state.gradientDepth !== 0 || !state.activeTape) return
  for (const node of state.activeTape) tf.dispose(node.saved ?? [])
  state.activeTape = null
}
