// Named, seeded model parameters: what checkpoints save, optimizers update and gradient checks perturb.
import * as tf from '@tensorflow/tfjs'
import { detachInt8 } from '../quantization/int8-matmul.ts'
import type { Random } from './random.ts'

export type Initializer =
  | { kind: 'zeros' }
  | { kind: 'ones' }
  | { kind: 'uniform'; limit: number }
  /** Glorot & Bengio 2010: U(±sqrt(6 / (fanIn + fanOut))). */
  | { kind: 'glorot' }
  | { kind: 'normal'; std: number }
  | { kind: 'values'; values: Float32Array }

function fill(shape: number[], init: Initializer, random: Random): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1)
  const values = new Float32Array(size)
  switch (init.kind) {
    case 'zeros':
      return values
    case 'ones':
      return values.fill(1)
    case 'uniform':
      for (let i = 0; i < size; i++) values[i] = random.uniform(-init.limit, init.limit)
      return values
    case 'glorot': {
      const fanIn = shape.length > 1 ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : shape[0]!
      const fanOut = shape.at(-1)!
      const limit = Math.sqrt(6 / (fanIn + fanOut))
      for (let i = 0; i < size; i++) values[i] = random.uniform(-limit, limit)
      return values
    }
    case 'normal':
      for (let i = 0; i < size; i++) values[i] = random.normal() * init.std
      return values
    case 'values':
      if (init.values.length !== size) throw new Error(`expected ${size} initial values, got ${init.values.length}`)
      return Float32Array.from(init.values)
  }
}

let nextStoreId = 0

export class ParameterStore {
  private readonly variables = new Map<string, tf.Variable>()
  /** TensorFlow.js variable names are global: a per-store prefix lets several models live side by side. */
  private readonly scope = `params${nextStoreId++}`

  constructor(readonly random: Random) {}

  /** Creates (once) the parameter `name`; names are unique, like 'encoder/lstm0/kernel'. */
  create(name: string, shape: number[], init: Initializer): tf.Variable {
    if (this.variables.has(name)) throw new Error(`parameter '${name}' already exists`)
    const variable = tf.tidy(() => tf.variable(tf.tensor(fill(shape, init, this.random), shape, 'float32'), true, `${this.scope}/${name}`))
    this.variables.set(name, variable)
    return variable
  }

  get(name: string): tf.Variable {
    const variable = this.variables.get(name)
    if (!variable) throw new Error(`no parameter named '${name}'`)
    return variable
  }

  list(): tf.Variable[] {
    return [...this.variables.values()]
  }

  /** Logical names ('encoder/layer0/forward/bias'), as checkpoints store them. */
  names(): string[] {
    return [...this.variables.keys()]
  }

  entries(): [string, tf.Variable][] {
    return [...this.variables.entries()]
  }

  /** Total number of scalars. */
  count(): number {
    return this.list().reduce((sum, v) => sum + v.size, 0)
  }

  dispose(): void {
    for (const variable of this.variables.values()) {
      detachInt8(variable)
      variable.dispose()
    }
    this.variables.clear()
  }
}
