// Gradient checks for every layer we write, on each backend that installs here (cpu and wasm).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import type { BackendName } from '../main/api/contract.ts'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { ParameterStore } from '../models/core/params.ts'
import { Random } from '../models/core/random.ts'
import { BahdanauAttention } from '../models/attention/bahdanau.ts'
import { LuongAttention } from '../models/attention/luong.ts'
import { MultiHeadAttention } from '../models/attention/multi-head.ts'
import { Embedding } from '../models/layers/embedding.ts'
import { LayerNorm } from '../models/layers/layer-norm.ts'
import { Linear } from '../models/layers/linear.ts'
import { TiedOutput } from '../models/layers/tied-output.ts'
import { GruCell } from '../models/rnn/gru-cell.ts'
import { LstmCell } from '../models/rnn/lstm-cell.ts'
import { SimpleRnnCell } from '../models/rnn/simple-rnn-cell.ts'
import { unroll } from '../models/rnn/unroll.ts'
import { checkGradients } from './support/gradcheck.ts'

const batch = 3
const srcLen = 5

/** A fixed random projection of an output to a scalar, so every output element matters. */
function probeLoss(output: tf.Tensor, seed: number): tf.Scalar {
  const random = new Random(seed)
  const weights = tf.tensor(Float32Array.from({ length: output.size }, () => random.uniform(-1, 1)), output.shape)
  return output.mul(weights).sum()
}

function input(params: ParameterStore, name: string, shape: number[]): tf.Variable {
  return params.create(`input/${name}`, shape, { kind: 'uniform', limit: 1 })
}

/** padding mask [batch, srcLen] with different lengths per row */
function paddingMask(): tf.Tensor2D {
  return tf.tensor2d([
    [1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0],
    [1, 1, 1, 1, 0],
  ])
}

type Case = { name: string; build: (params: ParameterStore) => () => tf.Scalar }

const cases: Case[] = [
  {
    name: 'embedding tied to the output layer (input and output gradients meet in one table)',
    build: (params) => {
      const embedding = new Embedding(params, 'tied', 7, 4)
      const output = new TiedOutput(params, 'tied-output', embedding)
      const ids = tf.tensor2d([[1, 2, 2], [6, 0, 1]], undefined, 'int32')
      return () => tf.tidy(() => probeLoss(output.apply(embedding.apply(ids)), 12))
    },
  },
  {
    name: 'linear',
    build: (params) => {
      const layer = new Linear(params, 'linear', 4, 3)
      const x = input(params, 'x', [batch, 2, 4])
      return () => tf.tidy(() => probeLoss(layer.apply(x), 1))
    },
  },
  {
    name: 'embedding',
    build: (params) => {
      const layer = new Embedding(params, 'embedding', 7, 4)
      const ids = tf.tensor2d([[1, 2, 2], [6, 0, 1]], undefined, 'int32')
      return () => tf.tidy(() => probeLoss(layer.apply(ids), 2))
    },
  },
  {
    name: 'layer norm',
    build: (params) => {
      const layer = new LayerNorm(params, 'norm', 6)
      const x = input(params, 'x', [batch, 6])
      return () => tf.tidy(() => probeLoss(layer.apply(x), 3))
    },
  },
  ...(['rnn', 'lstm', 'gru'] as const).map(
    (type): Case => ({
      name: `${type} cell, unrolled over a padded batch`,
      build: (params) => {
        const cell =
          type === 'lstm' ? new LstmCell(params, type, 4, 5) : type === 'gru' ? new GruCell(params, type, 4, 5) : new SimpleRnnCell(params, type, 4, 5)
        const xs = input(params, 'xs', [batch, srcLen, 4])
        const mask = paddingMask()
        return () =>
          tf.tidy(() => {
            const { outputs, final } = unroll(cell, xs as tf.Tensor3D, mask)
            return probeLoss(outputs, 4).add(probeLoss(final[0]!, 5))
          })
      },
    }),
  ),
  {
    name: 'bahdanau attention',
    build: (params) => {
      const attention = new BahdanauAttention(params, 'bahdanau', 6, 4, 5)
      const memory = input(params, 'memory', [batch, srcLen, 4])
      const query = input(params, 'query', [batch, 6])
      const mask = paddingMask()
      return () =>
        tf.tidy(() => {
          const keys = attention.prepare(memory as tf.Tensor3D)
          const { context, weights } = attention.attend(query as tf.Tensor2D, keys, memory as tf.Tensor3D, mask)
          return probeLoss(context, 6).add(probeLoss(weights, 7))
        })
    },
  },
  ...(['dot', 'general'] as const).map(
    (score): Case => ({
      name: `luong ${score} attention`,
      build: (params) => {
        const attention = new LuongAttention(params, `luong-${score}`, score, 4, 4)
        const memory = input(params, 'memory', [batch, srcLen, 4])
        const query = input(params, 'query', [batch, 4])
        const mask = paddingMask()
        return () =>
          tf.tidy(() => {
            const keys = attention.prepare(memory as tf.Tensor3D)
            const { context, weights } = attention.attend(query as tf.Tensor2D, keys, memory as tf.Tensor3D, mask)
            return probeLoss(context, 8).add(probeLoss(weights, 9))
          })
      },
    }),
  ),
  {
    name: 'multi-head attention (padding and causal masks)',
    build: (params) => {
      const attention = new MultiHeadAttention(params, 'mha', 8, 2)
      const x = input(params, 'x', [batch, srcLen, 8])
      const mask = paddingMask()
      return () =>
        tf.tidy(() => {
          const self = attention.apply(x as tf.Tensor3D, x as tf.Tensor3D, { keyMask: mask, causal: true })
          return probeLoss(self.output, 10).add(probeLoss(self.weights, 11))
        })
    },
  },
]

for (const backend of ['cpu', 'wasm'] as BackendName[]) {
  test(`gradients match finite differences on ${backend}`, async (t) => {
    const report = await selectBackend(backend)
    assert.equal(report.active, backend)
    for (const { name, build } of cases) {
      await t.test(name, () => {
        const params = new ParameterStore(new Random(42))
        try {
          const loss = build(params)
          const failures = checkGradients(loss, params.list())
          assert.deepEqual(failures, [], `${name}: ${JSON.stringify(failures.slice(0, 3))}`)
        } finally {
          params.dispose()
        }
      })
    }
  })
}

test('the fused cross-entropy equals the plain formula, value and gradient', async () => {
  await selectBackend('wasm')
  const { smoothedCrossEntropy } = await import('../models/losses/cross-entropy.ts')
  const random = new Random(3)
  const logits = tf.variable(tf.tensor2d(Float32Array.from({ length: 6 * 9 }, () => random.uniform(-3, 3)), [6, 9]))
  const targets = tf.tensor1d([0, 8, 3, 3, 5, 1], 'int32')
  const mask = tf.tensor1d([1, 1, 1, 1, 0, 0])
  for (const smoothing of [0, 0.1]) {
    const plain = () =>
      tf.tidy(() => {
        const target = tf.oneHot(targets, 9).mul(1 - smoothing).add(smoothing / 9)
        return tf.logSoftmax(logits).mul(target).sum(1).neg().mul(mask).sum().div(mask.sum()) as tf.Scalar
      })
    const fused = () => smoothedCrossEntropy(logits, targets, mask, smoothing)
    const a = tf.variableGrads(plain, [logits])
    const b = tf.variableGrads(fused, [logits])
    assert.ok(Math.abs(a.value.dataSync()[0]! - b.value.dataSync()[0]!) < 1e-5)
    const ga = a.grads[logits.name]!.dataSync()
    const gb = b.grads[logits.name]!.dataSync()
    ga.forEach((g, i) => assert.ok(Math.abs(g - gb[i]!) < 1e-6, `gradient ${i}: ${g} vs ${gb[i]}`))
    assert.deepEqual(checkGradients(fused, [logits]), [])
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)])
  }
  tf.dispose([logits, targets, mask])
})
