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

/** Splits a flat [N] tensor into consecutive 1-D parts: inputs {flat}, attrs {sizes} → one tensor per size. */
export const unflattenKernel = 'KotobaUnflatten'

export const defaultAdam: AdamOptions = { beta1: 0.9, beta2: 0.998, epsilon: 1e-8, weightDecay: 0 }

/** m and v at zero for a parameter of `shape`; the zeros they start from are freed (a variable keeps its own reference). */
function zeroMoments(shape: number[]): { m: tf.Variable; v: tf.Variable } {
  return tf.tidy(() => ({ m: tf.variable(tf.zeros(shape), false), v: tf.variable(tf.zeros(shape), false) }))
}

/**
 * Every updated parameter and its moments as flat [N] tensors, in `names` order: on a GPU one dispatch updates them
 * all and ⌈P/7⌉ write the parameters back, where a per-parameter update took P. The per-name moments are synced
 * from these only when a checkpoint asks for them.
 */
interface FlatState {
  names: string[]
  shapes: number[][]
  sizes: number[]
  /** null until built from the variables, and again when a variable was assigned from outside (a restore, pruning). */
  theta: tf.Tensor1D | null
  m: tf.Tensor1D
  v: tf.Tensor1D
  /** The variables' data as this optimizer last wrote it. */
  written: tf.Tensor['dataId'][]
}

export class Adam {
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>()
  private flat: FlatState | null = null
  /** Updates applied so far (t in the paper). */
  steps = 0

  constructor(readonly options: AdamOptions = defaultAdam) {}

  /** Whether applyFlat runs here: the fused update and the unflattening kernel. */
  appliesFlat(): boolean {
    return backendHasKernels(adamUpdateKernel, adamScaledUpdateKernel, unflattenKernel)
  }

  /**
   * The same update as apply() on all parameters at once: flatGrad [N] holds the gradients of `names` in order,
   * flattened; gradScale [1] multiplies it on the device.
   */
  applyFlat(params: Map<string, tf.Variable>, names: string[], flatGrad: tf.Tensor1D, lr: number, gradScale: tf.Tensor | null): void {
    const variables = names.map((name) => {
      const param = params.get(name)
      if (!param) throw new Error(`gradient for unknown parameter '${name}'`)
      return param
    })
    const shapes = variables.map((v) => v.shape)
    if (this.flat && (this.flat.names.join('\n') !== names.join('\n') || this.flat.shapes.some((shape, i) => !tf.util.arraysEqual(shape, shapes[i]!)))) this.dropFlat()
    const flat = (this.flat ??= this.flatFromMoments(names, shapes))
    if (flatGrad.size !== flat.m.size) throw new Error(`flat gradient of ${flatGrad.size} values for ${flat.m.size} parameters`)
    if (!flat.theta || variables.some((v, i) => v.dataId !== flat.written[i])) {
      flat.theta?.dispose()
      flat.theta = tf.tidy(() => tf.concat(variables.map((v) => v.reshape([-1]))) as tf.Tensor1D)
    }
    this.steps++
    const { beta1, beta2, epsilon, weightDecay } = this.options
    const attrs = { lr, beta1, beta2, epsilon, correction1: 1 - beta1 ** this.steps, correction2: 1 - beta2 ** this.steps, weightDecay }
    const inputs = { param: flat.theta, m: flat.m, v: flat.v, grad: flatGrad }
    const [next, m, v] = (gradScale ? tf.engine().runKernel(adamScaledUpdateKernel, { ...inputs, scale: gradScale }, attrs) : tf.engine().runKernel(adamUpdateKernel, inputs, attrs)) as tf.Tensor1D[]
    tf.dispose([flat.theta, flat.m, flat.v])
    Object.assign(flat, { theta: next!, m: m!, v: v! })
    const parts = tf.engine().runKernel(unflattenKernel, { flat: next! }, { sizes: flat.sizes }) as tf.Tensor[]
    variables.forEach((variable, i) => {
      const value = parts[i]!.reshape(variable.shape) // a view: the variable keeps the data
      variable.assign(value)
      value.dispose()
    })
    tf.dispose(parts)
    flat.written = variables.map((v) => v.dataId)
  }

  /** Flat moments from the per-name ones (zeros for a parameter without). */
  private flatFromMoments(names: string[], shapes: number[][]): FlatState {
    const sizes = shapes.map((shape) => tf.util.sizeFromShape(shape))
    const gather = (which: 'm' | 'v') => tf.tidy(() => tf.concat(names.map((name, i) => this.moments.get(name)?.[which].reshape([-1]) ?? tf.zeros([sizes[i]!]))) as tf.Tensor1D)
    return { names, shapes, sizes, theta: null, m: gather('m'), v: gather('v'), written: [] }
  }

  /** Copies the flat moments into the per-name ones. */
  private syncMoments(): void {
    const flat = this.flat
    if (!flat) return
    for (const which of ['m', 'v'] as const) {
      const parts = tf.split(flat[which], flat.sizes)
      flat.names.forEach((name, i) => {
        let slot = this.moments.get(name)
        if (!slot) this.moments.set(name, (slot = zeroMoments(flat.shapes[i]!)))
        const values = parts[i]!.reshape(flat.shapes[i]!)
        slot[which].assign(values)
        values.dispose()
      })
      tf.dispose(parts)
    }
  }

  /** Back to per-name moments (another set of parameters, or a per-parameter update). */
  private dropFlat(): void {
    this.syncMoments()
    this.releaseFlat()
  }

  private releaseFlat(): void {
    const flat = this.flat
    if (flat) tf.dispose([flat.m, flat.v, ...(flat.theta ? [flat.theta] : [])])
    this.flat = null
  }

  /** params and grads by logical name; lr for this step; gradScale [1]: a factor for every gradient, on the device. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number, gradScale: tf.Tensor | null = null): void {
    this.dropFlat()
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
        slot = zeroMoments(param.shape)
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
    this.syncMoments()
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
        slot = zeroMoments(tensor.shape)
        this.moments.set(name, slot)
      }
      slot[which].assign(tensor)
    }
  }

  dispose(): void {
    this.releaseFlat()
    for (const slot of this.moments.values()) {
      slot.m.dispose()
      slot.v.dispose()
    }
    this.moments.clear()
  }
}
