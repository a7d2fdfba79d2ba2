// Adam (Kingma & Ba 2015, Algorithm 1) and AdamW's decoupled weight decay (Loshchilov & Hutter 2019, Algorithm 2).
// Moments are keyed by the parameters' logical names so a checkpoint restores into a freshly built model.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'

export interface AdamOptions {
  beta1: number
  beta2: number
  epsilon: number
  /** AdamW: θ ← θ − lr·λ·θ, applied apart from the gradient (0: plain Adam). */
  weightDecay: number
}

/** Fused update where the backend has it (the engine registers it): inputs {param, m, v, grad}, attrs
 * {lr, beta1, beta2, epsilon, correction1, correction2, weightDecay} → [param', m', v']. */
export const adamUpdateKernel = 'KotobaAdamUpdate'
/** The same with one more input, scale [1]: the gradient is multiplied by scale[0] first (clipping computed on a GPU,
 * so the update needs no read of the gradient norm). */
export const adamScaledUpdateKernel = 'KotobaAdamUpdateScaled'

export const defaultAdam: AdamOptions = { beta1: 0.9, beta2: 0.998, epsilon: 1e-8, weightDecay: 0 }

/** m and v at zero for a parameter of `like`'s shape; the zeros they start from are freed (a variable keeps its own reference). */
function zeroMoments(like: tf.Tensor): { m: tf.Variable; v: tf.Variable } {
  return tf.tidy(() => ({ m: tf.variable(tf.zerosLike(like), false), v: tf.variable(tf.zerosLike(like), false) }))
}

export class Adam {
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>()
  /** Updates applied so far (t in the paper). */
  steps = 0

  constructor(readonly options: AdamOptions = defaultAdam) {}

  /** params and grads by logical name; lr for this step; gradScale [1]: a factor for every gradient, on the device. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number, gradScale: tf.Tensor | null = null): void {
    this.steps++
    const { beta1, beta2, epsilon, weightDecay } = this.options
    const correction1 = 1 - beta1 ** this.steps
    const correction2 = 1 - beta2 ** this.steps
    const fused = backendHasKernels(adamUpdateKernel)
    const scaledInKernel = gradScale !== null && fused && backendHasKernels(adamScaledUpdateKernel)
    for (const [name, unscaled] of grads) {
      const param = params.get(name)
      if (!param) throw new Error(`gradient for unknown parameter '${name}'`)
      const grad = gradScale !== null && !scaledInKernel ? unscaled.mul(gradScale) : unscaled
      let slot = this.moments.get(name)
      if (!slot) {
        slot = zeroMoments(param)
        this.moments.set(name, slot)
      }
      const moments = slot
      if (fused) {
        const attrs = { lr, beta1, beta2, epsilon, correction1, correction2, weightDecay }
        const [next, m, v] = scaledInKernel
          ? (tf.engine().runKernel(adamScaledUpdateKernel, { param, m: moments.m, v: moments.v, grad, scale: gradScale! }, attrs) as tf.Tensor[])
          : (tf.engine().runKernel(adamUpdateKernel, { param, m: moments.m, v: moments.v, grad }, attrs) as tf.Tensor[])
        moments.m.assign(m!)
        moments.v.assign(v!)
        param.assign(next!)
        tf.dispose([next!, m!, v!])
      } else {
        tf.tidy(() => {
          const m = moments.m.mul(beta1).add(grad.mul(1 - beta1)) // m_t = β₁ m + (1 − β₁) g
          const v = moments.v.mul(beta2).add(grad.square().mul(1 - beta2)) // v_t = β₂ v + (1 − β₂) g²
          const update = m.div(correction1).div(v.div(correction2).sqrt().add(epsilon)) // m̂ / (√v̂ + ε)
          let next = param.sub(update.mul(lr))
          if (weightDecay > 0) next = next.sub(param.mul(lr * weightDecay))
          moments.m.assign(m)
          moments.v.assign(v)
          param.assign(next)
        })
      }
      if (grad !== unscaled) grad.dispose()
    }
  }

  /** Moments as named tensors ('name/m', 'name/v'), for checkpoints. */
  state(): Map<string, tf.Tensor> {
    const state = new Map<string, tf.Tensor>()
    for (const [name, slot] of this.moments) {
      state.set(`${name}/m`, slot.m)
      state.set(`${name}/v`, slot.v)
    }
    return state
  }

  restore(state: Map<string, tf.Tensor>, steps: number): void {
    this.dispose()
    this.steps = steps
    for (const [key, tensor] of state) {
      const name = key.slice(0, key.lastIndexOf('/'))
      const which = key.slice(key.lastIndexOf('/') + 1)
      if (which !== 'm' && which !== 'v') throw new Error(`unexpected optimizer slot '${key}'`)
      let slot = this.moments.get(name)
      if (!slot) {
        slot = zeroMoments(tensor)
        this.moments.set(name, slot)
      }
      slot[which].assign(tensor)
    }
  }

  dispose(): void {
    for (const slot of this.moments.values()) {
      slot.m.dispose()
      slot.v.dispose()
    }
    this.moments.clear()
  }
}
