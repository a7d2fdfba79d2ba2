// The kernels we add for training match the stock cpu kernels on random inputs, forward and gradient.
import assert from 'node:assert/strict'
import { availableParallelism } from 'node:os'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { registerCpuTrainingKernels } from '../main/engine/compute/training-kernels.ts'
import { Random } from '../models/core/random.ts'

type Case = { name: string; run: () => number[][] }

function randomTensor(random: Random, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.uniform(-1, 1)), shape)
}

/** Each case returns plain arrays: the forward result and the gradients, so backends can be compared. */
function cases(seed: number): Case[] {
  const random = new Random(seed)
  const table = randomTensor(random, [50, 8])
  const ids = tf.tensor1d(Array.from({ length: 64 }, () => random.integer(50)), 'int32') // with repeats
  const upstream = randomTensor(random, [64, 8])
  const matmul = (shapeA: number[], shapeB: number[], transposeA: boolean, transposeB: boolean): Case => {
    const a = randomTensor(random, shapeA)
    const b = randomTensor(random, shapeB)
    return {
      name: `matMul ${shapeA}×${shapeB} transposeA=${transposeA} transposeB=${transposeB}`,
      run: () => {
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, transposeA, transposeB).square().sum()
        const [ga, gb] = tf.grads(f)([a, b])
        const value = f(a, b)
        const out = [Array.from(value.dataSync()), Array.from(ga!.dataSync()), Array.from(gb!.dataSync())]
        tf.dispose([ga!, gb!, value])
        return out
      },
    }
  }
  return [
    {
      name: 'gather gradient (UnsortedSegmentSum)',
      run: () => {
        const grad = tf.grad((t: tf.Tensor) => tf.gather(t, ids).mul(upstream).sum())(table)
        const direct = tf.unsortedSegmentSum(upstream, ids, 50)
        const out = [Array.from(grad.dataSync()), Array.from(direct.dataSync())]
        tf.dispose([grad, direct])
        return out
      },
    },
    matmul([7, 5], [5, 6], false, false),
    matmul([7, 5], [6, 5], false, true),
    matmul([5, 7], [5, 6], true, false),
    matmul([5, 7], [6, 5], true, true),
    matmul([3, 7, 5], [3, 6, 5], false, true),
    matmul([2, 3, 5, 7], [2, 3, 5, 6], true, false),
  ]
}

function maxRelativeDifference(a: number[][], b: number[][]): number {
  let worst = 0
  a.forEach((row, i) => row.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - b[i]![j]!) / Math.max(1, Math.abs(x))))))
  return worst
}

test('wasm training kernels equal the stock cpu kernels; so does the fast cpu segment sum', async () => {
  await tf.setBackend('cpu') // stock kernels: nothing of ours registered yet
  const reference = cases(5).map((c) => ({ name: c.name, result: c.run() }))

  const report = await selectBackend('wasm')
  assert.equal(report.active, 'wasm')
  cases(5).forEach((c, i) => {
    const difference = maxRelativeDifference(reference[i]!.result, c.run())
    assert.ok(difference < 1e-4, `${c.name}: wasm differs from cpu by ${difference}`)
  })

  registerCpuTrainingKernels()
  await tf.setBackend('cpu')
  const fast = cases(5)[0]!.run()
  // Same sums, added in another order: equal up to float32 rounding.
  assert.ok(maxRelativeDifference(reference[0]!.result, fast) < 1e-6)
})

test('the wasm backend runs on every core it is given', async () => {
  const report = await selectBackend('wasm')
  const detail = report.attempts.find((a) => a.name === 'wasm')!.detail
  const expected = Math.min(8, availableParallelism())
  assert.match(detail, new RegExp(`SIMD on, ${expected} thread`))
})
