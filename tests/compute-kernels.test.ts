// The kernels we add for training match the stock cpu kernels on random inputs, forward and gradient.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { gemmBase64, gemmFmaBase64, gemmSharedBase64, gemmSharedFmaBase64 } from '../main/engine/compute/gemm-wasm.ts'
import { tensorKernelsBase64, tensorKernelsSharedBase64 } from '../main/engine/compute/tensor-kernels-wasm.ts'
import { registerCpuTrainingKernels } from '../main/engine/compute/training-kernels.ts'
import { ParameterStore } from '../models/core/params.ts'
import { Random } from '../models/core/random.ts'
import { dropout, seedDropout } from '../models/layers/dropout.ts'
import { LayerNorm } from '../models/layers/layer-norm.ts'
import { smoothedCrossEntropy } from '../models/losses/cross-entropy.ts'
import { GruCell } from '../models/rnn/gru-cell.ts'
import { gruGates } from '../models/rnn/gru-gates.ts'
import { LstmCell } from '../models/rnn/lstm-cell.ts'
import { lstmGates } from '../models/rnn/lstm-gates.ts'
import { unroll } from '../models/rnn/unroll.ts'
import { Seq2SeqModel } from '../models/seq2seq/model.ts'
import { Adam, defaultAdam } from '../models/train/adam.ts'
import { optimizerStep } from '../models/train/optimizer-step.ts'
import { TransformerModel } from '../models/transformer/model.ts'
import { lstmConfig, transformerConfig } from '../scripts/bench/configs.ts'

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
  /** `forwardOnly` where one side is broadcast: tfjs's own matMul gradient does not reduce broadcast batches. */
  const matmul = (shapeA: number[], shapeB: number[], transposeA: boolean, transposeB: boolean, forwardOnly = false): Case => {
    const a = randomTensor(random, shapeA)
    const b = randomTensor(random, shapeB)
    return {
      name: `matMul ${shapeA}×${shapeB} transposeA=${transposeA} transposeB=${transposeB}`,
      run: () => {
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, transposeA, transposeB).square().sum()
        if (forwardOnly) return [Array.from(tf.matMul(a, b, transposeA, transposeB).dataSync())]
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
    // Batches of small products (our SIMD kernel): ragged rows (m % 4) and columns (n % 8, n % 4).
    matmul([2, 3, 9, 13], [2, 3, 13, 19], false, false),
    matmul([2, 3, 13, 9], [2, 3, 22, 13], true, true),
    matmul([9, 30, 40], [9, 33, 40], false, true), // a batch big enough to split across threads
    matmul([4, 6, 5], [6, 11], true, false, true), // one right matrix for the batch: stride 0
    matmul([7, 5], [4, 5, 6], false, false, true), // one left matrix for the batch
    matmul([4, 6, 5], [5, 11], false, false, true), // a stack of rows times one matrix: one product of our GEMM
    matmul([40, 3], [40, 50], true, false),
    // Our GEMM past its blocks (k > 256, m > 64, n > 512) with ragged tiles, split by rows and by columns across
    // threads: products only, since a sum of their ~20k squares differs between backends by its summation order.
    matmul([301, 70], [301, 61], true, false, true),
    matmul([37, 301], [530, 301], false, true, true),
    matmul([70, 301], [301, 61], false, false, true),
    matmul([301, 37], [530, 301], true, true, true),
    // A few rows (a decoding step): A·Bᵀ as dot products of rows; A·B on XNNPACK.
    matmul([3, 40], [50, 40], false, true),
    matmul([5, 257], [1001, 257], false, true, true),
    matmul([3, 40], [40, 50], false, false),
    {
      name: 'one weight used at several steps, then replaced',
      run: () => {
        const weight = randomTensor(random, [6, 10])
        const steps = [randomTensor(random, [4, 10]), randomTensor(random, [4, 10])]
        const f = (w: tf.Tensor) => steps.map((x) => tf.matMul(x, w, false, true).square().sum()).reduce((a, b) => a.add(b))
        const grad = tf.grad(f)(weight)
        const next = weight.add(1)
        const after = f(next)
        const out = [Array.from(grad.dataSync()), Array.from(after.dataSync())]
        tf.dispose([weight, ...steps, grad, next, after])
        return out
      },
    },
    ...(
      [
        [[5, 7], [1, 0]],
        [[2, 5, 3, 4], [0, 2, 1, 3]],
        [[5, 6, 3], [1, 0, 2]],
        [[3, 4, 5], [2, 0, 1]],
        [[2, 3, 4], [2, 1, 0]], // not a swap of two groups: the stock kernel
        [[9, 13], [1, 0]],
        [[4, 5], [0, 1]], // the identity (tf.gather's gradient): shared, not copied
      ] as [number[], number[]][]
    ).map(([shape, perm]): Case => {
      const x = randomTensor(random, shape)
      const weights = randomTensor(random, perm.map((axis) => shape[axis]!))
      return {
        name: `transpose ${shape} by ${perm}`,
        run: () => {
          const f = (t: tf.Tensor) => tf.transpose(t, perm).mul(weights).sum()
          const grad = tf.grad(f)(x)
          const out = [Array.from(tf.transpose(x, perm).dataSync()), Array.from(grad.dataSync())]
          grad.dispose()
          return out
        },
      }
    }),
    {
      name: 'slice, unstack and split with their gradients (float32 and int32)',
      run: () => {
        const x = randomTensor(random, [4, 5, 6])
        const ints = tf.tensor3d(Int32Array.from({ length: 120 }, (_, i) => i), [4, 5, 6], 'int32')
        const weights = randomTensor(random, [2, 3, 4])
        const f = (t: tf.Tensor) => {
          const cut = tf.slice(t, [1, 2, 1], [2, 3, 4]).mul(weights).sum()
          const steps = tf.unstack(t, 1).map((s, i) => s.mul(i + 1).sum())
          const parts = tf.split(t, [1, 3, 2], 2).map((s, i) => s.square().mul(i + 1).sum())
          return [cut, ...steps, ...parts].reduce((a, b) => a.add(b))
        }
        const grad = tf.grad(f)(x)
        const out = [
          Array.from(f(x).dataSync()),
          Array.from(grad.dataSync()),
          Array.from(tf.slice(ints, [0, 1, 2], [4, 2, 3]).dataSync()),
          ...tf.unstack(ints, 2).map((s) => Array.from(s.dataSync())),
          ...tf.split(ints, 2, 0).map((s) => Array.from(s.dataSync())),
          Array.from(tf.slice(x, [3, 0, 0], [1, 5, 6]).dataSync()), // contiguous
          Array.from(tf.grad((t: tf.Tensor) => tf.relu(t.cast('float32')).mul(t).sum())(x).dataSync()), // same-type cast
          Array.from(ints.cast('float32').add(0.5).cast('int32').dataSync()),
          Array.from(tf.step(tf.tensor1d([-2, 0, 3, NaN, 0.5, -0.1, 7]), 0.25).dataSync()), // ragged: 7 elements
        ]
        tf.dispose([x, ints, grad])
        return out
      },
    },
    {
      name: 'gather rows (2-D ids) and sums over leading and trailing axes',
      run: () => {
        const x = randomTensor(random, [3, 4, 5])
        const rows = tf.tensor2d([[2, 0, 2], [1, 1, 0]], [2, 3], 'int32')
        const f = (t: tf.Tensor) => tf.gather(t, rows).square().sum()
        const grad = tf.grad(f)(x)
        const out = [
          Array.from(tf.gather(x, rows).dataSync()),
          Array.from(grad.dataSync()),
          Array.from(tf.sum(x, 0).dataSync()),
          Array.from(tf.sum(x, [0, 1], true).dataSync()),
          Array.from(tf.sum(x, [1, 0]).dataSync()),
          Array.from(tf.sum(x, 2).dataSync()),
          Array.from(tf.sum(x, 1).dataSync()),
        ]
        tf.dispose([x, rows, grad])
        return out
      },
    },
    ...[6, 8].map((hidden): Case => {
      const z = randomTensor(random, [3, 4 * hidden]).mul(3)
      const c = randomTensor(random, [3, hidden])
      const [wh, wc] = [randomTensor(random, [3, hidden]), randomTensor(random, [3, hidden])]
      return {
        name: `LSTM gates, hidden ${hidden} (fused kernel against the composite)`,
        run: () => {
          const f = (zt: tf.Tensor, ct: tf.Tensor) => {
            const [h, cNext] = lstmGates(zt as tf.Tensor2D, ct as tf.Tensor2D)
            return h.mul(wh).sum().add(cNext.mul(wc).sum()) // gradient flows in through h' and c'
          }
          const [gz, gc] = tf.grads(f)([z, c])
          const [h, cNext] = lstmGates(z as tf.Tensor2D, c as tf.Tensor2D)
          const out = [Array.from(h.dataSync()), Array.from(cNext.dataSync()), Array.from(gz!.dataSync()), Array.from(gc!.dataSync())]
          tf.dispose([gz!, gc!, h, cNext])
          return out
        },
      }
    }),
    ...[false, true].map((reverse): Case => {
      const params = new ParameterStore(new Random(seed))
      const cell = new LstmCell(params, `lstm-case-${reverse}`, 5, 6)
      const xs = randomTensor(random, [4, 7, 5]) // [B, T, in]
      const lengths = [7, 4, 1, 6]
      const mask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: 7 }, (_, i) => (i < n ? 1 : 0))), [4, 7])
      const [h0, c0] = [randomTensor(random, [4, 6]), randomTensor(random, [4, 6])]
      const [wOut, wH, wC] = [randomTensor(random, [4, 7, 6]), randomTensor(random, [4, 6]), randomTensor(random, [4, 6])]
      return {
        name: `an LSTM layer over padded sequences${reverse ? ', right to left' : ''} (fused sequence against the step-by-step unroll)`,
        run: () => {
          // The weights (2nd and 3rd) are reached through the cell's variables, the same tensors.
          const f = (x: tf.Tensor, _recurrent: tf.Tensor, _input: tf.Tensor, h: tf.Tensor, c: tf.Tensor) => {
            const { outputs, final } = unroll(cell, x as tf.Tensor3D, mask, [h as tf.Tensor2D, c as tf.Tensor2D], reverse)
            return outputs.mul(wOut).sum().add(final[0]!.mul(wH).sum()).add(final[1]!.mul(wC).sum())
          }
          const grads = tf.grads(f)([xs, cell.recurrentKernel, cell.inputKernel, h0, c0])
          const { outputs, final } = unroll(cell, xs as tf.Tensor3D, mask, [h0 as tf.Tensor2D, c0 as tf.Tensor2D], reverse)
          const out = [outputs, ...final, ...grads].map((t) => Array.from(t.dataSync()))
          tf.dispose([outputs, ...final, ...grads])
          return out
        },
      }
    }),
    ...[6, 8].map((hidden): Case => {
      const [x, a] = [randomTensor(random, [3, 3 * hidden]).mul(3), randomTensor(random, [3, 3 * hidden]).mul(3)]
      const h = randomTensor(random, [3, hidden])
      const upstream = randomTensor(random, [3, hidden])
      return {
        name: `GRU gates, hidden ${hidden} (fused kernel against the composite)`,
        run: () => {
          const f = (xt: tf.Tensor, at: tf.Tensor, ht: tf.Tensor) => gruGates(xt as tf.Tensor2D, at as tf.Tensor2D, ht as tf.Tensor2D).mul(upstream).sum()
          const grads = tf.grads(f)([x, a, h])
          const hNext = gruGates(x as tf.Tensor2D, a as tf.Tensor2D, h as tf.Tensor2D)
          const out = [hNext, ...grads].map((t) => Array.from(t.dataSync()))
          tf.dispose([hNext, ...grads])
          return out
        },
      }
    }),
    ...[false, true].map((reverse): Case => {
      const params = new ParameterStore(new Random(seed))
      const cell = new GruCell(params, `gru-case-${reverse}`, 5, 6)
      // Non-zero biases, so their gradients and the reset gate's use of the recurrent bias are checked.
      cell.inputBias.assign(randomTensor(random, [18]))
      cell.recurrentBias.assign(randomTensor(random, [18]))
      const xs = randomTensor(random, [4, 7, 5]) // [B, T, in]
      const lengths = [7, 4, 1, 6]
      const mask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: 7 }, (_, i) => (i < n ? 1 : 0))), [4, 7])
      const h0 = randomTensor(random, [4, 6])
      const [wOut, wH] = [randomTensor(random, [4, 7, 6]), randomTensor(random, [4, 6])]
      return {
        name: `a GRU layer over padded sequences${reverse ? ', right to left' : ''} (fused sequence against the step-by-step unroll)`,
        run: () => {
          // The weights (2nd to 5th) are reached through the cell's variables, the same tensors.
          const f = (x: tf.Tensor, _recurrent: tf.Tensor, _input: tf.Tensor, _recurrentBias: tf.Tensor, _inputBias: tf.Tensor, h: tf.Tensor) => {
            const { outputs, final } = unroll(cell, x as tf.Tensor3D, mask, [h as tf.Tensor2D], reverse)
            return outputs.mul(wOut).sum().add(final[0]!.mul(wH).sum())
          }
          const grads = tf.grads(f)([xs, cell.recurrentKernel, cell.inputKernel, cell.recurrentBias, cell.inputBias, h0])
          const { outputs, final } = unroll(cell, xs as tf.Tensor3D, mask, [h0 as tf.Tensor2D], reverse)
          const out = [outputs, ...final, ...grads].map((t) => Array.from(t.dataSync()))
          tf.dispose([outputs, ...final, ...grads])
          return out
        },
      }
    }),
    ...[6, 8].map((dim): Case => {
      const params = new ParameterStore(new Random(seed + dim))
      const norm = new LayerNorm(params, `norm-case-${dim}`, dim)
      const x = randomTensor(random, [2, 5, dim]).mul(3).add(1)
      const [gamma, beta] = [randomTensor(random, [dim]), randomTensor(random, [dim])]
      norm.gamma.assign(gamma)
      norm.beta.assign(beta)
      const upstream = randomTensor(random, [2, 5, dim])
      return {
        name: `layer norm over ${dim} (fused kernel against the composite)`,
        run: () => {
          const f = (input: tf.Tensor, _gamma: tf.Tensor, _beta: tf.Tensor) => norm.apply(input).mul(upstream).sum()
          const grads = tf.grads(f)([x, norm.gamma, norm.beta])
          const y = norm.apply(x)
          const out = [y, ...grads].map((t) => Array.from(t.dataSync()))
          tf.dispose([y, ...grads])
          return out
        },
      }
    }),
    ...[0, 0.01].map((weightDecay): Case => {
      const start = randomTensor(random, [5, 7])
      const gradients = [0, 1, 2].map(() => randomTensor(random, [5, 7]))
      return {
        name: `Adam, weight decay ${weightDecay} (fused kernel against the composite), three steps`,
        run: () => {
          const param = tf.variable(start.clone(), true, `adam-case-${weightDecay}-${Math.random()}`)
          const adam = new Adam({ ...defaultAdam, weightDecay })
          for (const grad of gradients) adam.apply(new Map([['w', param]]), new Map([['w', grad]]), 0.05)
          const [m, v] = [...adam.state().values()]
          const out = [Array.from(param.dataSync()), Array.from(m!.dataSync()), Array.from(v!.dataSync()).map((x) => x * 1e3)] // v is ~1e-3
          adam.dispose()
          param.dispose()
          return out
        },
      }
    }),
    ...([[0, 6], [0.1, 6], [0.1, 70]] as const).map(([smoothing, rows]): Case => {
      // 70 rows × 1,000: enough logits to split the rows across threads
      const vocab = rows === 6 ? 37 : 1000
      const logits = randomTensor(random, [rows, vocab]).mul(4)
      const targets = tf.tensor1d(Array.from({ length: rows }, (_, i) => [0, vocab - 1, 5, 5, 17, 2][i % 6]!), 'int32')
      const mask = tf.tensor1d(Array.from({ length: rows }, (_, i) => (i % 6 === 2 ? 0 : 1)))
      return {
        name: `softmax cross-entropy, smoothing ${smoothing}, ${rows}×${vocab} (fused kernel against the composite)`,
        run: () => {
          const f = (z: tf.Tensor) => smoothedCrossEntropy(z as tf.Tensor2D, targets, mask, smoothing)
          const grad = tf.grad(f)(logits)
          const out = [Array.from(f(logits).dataSync()), Array.from(grad.dataSync())]
          grad.dispose()
          return out
        },
      }
    }),
    {
      name: 'softmax cross-entropy over a NaN logit is NaN (a diverged run must show it)',
      run: () => {
        const loss = tf.tidy(() => smoothedCrossEntropy(tf.tensor2d([[1, Number.NaN, 2], [0, 1, 2]]), tf.tensor1d([0, 2], 'int32'), tf.ones([2]) as tf.Tensor1D))
        const out = [Array.from(loss.dataSync())]
        loss.dispose()
        assert.ok(Number.isNaN(out[0]![0]), 'the loss is NaN')
        return out
      },
    },
  ]
}

function maxRelativeDifference(a: number[][], b: number[][]): number {
  let worst = 0
  a.forEach((row, i) =>
    row.forEach((x, j) => {
      const y = b[i]![j]!
      const difference = Number.isNaN(x) || Number.isNaN(y) ? (Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity) : Math.abs(x - y) / Math.max(1, Math.abs(x))
      worst = Math.max(worst, difference)
    }),
  )
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
  cases(5).forEach((c, i) => {
    // Same sums, added in another order: equal up to float32 rounding.
    const difference = maxRelativeDifference(reference[i]!.result, c.run())
    assert.ok(difference < 1e-5, `${c.name}: our cpu kernels differ from the stock ones by ${difference}`)
  })
})

test('wasm kernels: a bad gather index is refused; products and shared transposes leave no tensor data behind', async () => {
  await selectBackend('wasm')
  const table = tf.ones([4, 3])
  assert.throws(() => tf.gather(table, tf.tensor1d([1, 4], 'int32')), /index value 4 is not in \[0, 3\]/)
  const backend = tf.backend() as unknown as { numDataIds(): number }
  const x = tf.ones([8, 16])
  const before = backend.numDataIds()
  for (let i = 0; i < 20; i++) {
    const weight = tf.randomNormal([32, 16])
    tf.tidy(() => [tf.matMul(x, weight, false, true), tf.matMul(x.add(1), weight, false, true), tf.transpose(weight, [0, 1])])
      .forEach((t) => t.dispose())
    weight.dispose()
  }
  assert.equal(backend.numDataIds(), before, 'no tensor data outlives its tensors')
  tf.dispose([table, x])
})

test('our kernels own no static data: instantiating them over the backend\'s heap leaves it as it was', async () => {
  await selectBackend('wasm') // enables relaxed SIMD where it sits behind a flag, for the FMA builds
  const modules = { tensorKernelsBase64, tensorKernelsSharedBase64, gemmBase64, gemmFmaBase64, gemmSharedBase64, gemmSharedFmaBase64 }
  for (const [name, base64] of Object.entries(modules)) {
    const shared = name.includes('Shared')
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared })
    const heap = new Uint8Array(memory.buffer)
    for (let i = 0; i < heap.length; i++) heap[i] = (i * 31 + 7) & 0xff
    const before = heap.slice()
    new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(base64, 'base64')), { env: { memory } })
    const changed = heap.findIndex((byte, i) => byte !== before[i])
    assert.equal(changed, -1, `${name} wrote into the heap at byte ${changed}`)
  }
})

test('fused dropout: the same mask on cpu and wasm for a seed, the rate kept, the gradient is the mask', async () => {
  const run = () => {
    seedDropout(12345)
    const x = tf.ones([200, 50])
    const [value, grad] = tf.tidy(() => {
      const g = tf.grad((t: tf.Tensor) => dropout(t, 0.25).mul(2).sum())(x)
      seedDropout(12345)
      return [dropout(x, 0.25), g]
    })
    const out = { value: Array.from(value!.dataSync()), grad: Array.from(grad!.dataSync()) }
    tf.dispose([x, value!, grad!])
    return out
  }
  registerCpuTrainingKernels()
  await tf.setBackend('cpu')
  const onCpu = run()
  await selectBackend('wasm')
  const onWasm = run()
  assert.deepEqual(onWasm.value, onCpu.value)
  const kept = onWasm.value.filter((v) => v !== 0)
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), 'kept units are scaled by 1/(1 − rate)')
  const keptShare = kept.length / onWasm.value.length
  assert.ok(Math.abs(keptShare - 0.75) < 0.02, `kept ${keptShare} of the units, expected 0.75`)
  assert.deepEqual(onWasm.grad, onWasm.value.map((v) => 2 * v), 'gradient: upstream × mask')
  seedDropout(1)
  const first = Array.from(dropout(tf.ones([1000]), 0.5).dataSync())
  const second = Array.from(dropout(tf.ones([1000]), 0.5).dataSync())
  assert.notDeepEqual(first, second, 'consecutive calls draw fresh masks')
})

test('the wasm backend runs on every core it is given', async () => {
  const report = await selectBackend('wasm')
  const detail = report.attempts.find((a) => a.name === 'wasm')!.detail
  const expected = Math.min(8, availableParallelism())
  assert.match(detail, new RegExp(`SIMD on, ${expected} thread`))
})

test('the reference models train to the same losses on cpu and wasm over their first steps (padding, dropout on)', async () => {
  const vocab = 40
  const configs = {
    lstm: { ...lstmConfig, srcVocab: vocab, tgtVocab: vocab, embeddingSize: 16, hiddenSize: 20, dropout: 0.1 },
    transformer: { ...transformerConfig, srcVocab: vocab, tgtVocab: vocab, dModel: 16, heads: 2, dFF: 24, encoderLayers: 1, decoderLayers: 1 },
  }
  const train = async (kind: keyof typeof configs): Promise<number[]> => {
    const random = new Random(9)
    const [batch, length] = [5, 7]
    const ids = () => tf.tensor2d(Int32Array.from({ length: batch * length }, () => 1 + random.integer(vocab - 1)), [batch, length], 'int32')
    // Rows end after 7, 5, 3, 6 and 2 tokens.
    const lengths = [7, 5, 3, 6, 2]
    const mask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length }, (_, i) => (i < n ? 1 : 0))), [batch, length])
    const [src, tgtIn, tgtOut] = [ids(), ids(), ids().reshape([-1]) as tf.Tensor1D]
    const model = kind === 'lstm' ? new Seq2SeqModel(configs.lstm) : new TransformerModel(configs.transformer)
    const optimizer = tf.train.adam(1e-2)
    const losses: number[] = []
    seedDropout(777)
    for (let step = 0; step < 4; step++) {
      const loss = () =>
        tf.tidy(() => {
          const logits = model instanceof TransformerModel ? model.forward(src, mask, tgtIn, mask, true).logits : model.forward(src, mask, tgtIn, true).logits
          return smoothedCrossEntropy(logits.reshape([-1, vocab]) as tf.Tensor2D, tgtOut, mask.reshape([-1]) as tf.Tensor1D, 0.1)
        })
      losses.push((await optimizerStep(optimizer, loss, model.params.list())).loss)
    }
    tf.dispose([src, tgtIn, tgtOut, mask])
    optimizer.dispose()
    model.dispose()
    return losses
  }
  for (const kind of ['lstm', 'transformer'] as const) {
    await selectBackend('cpu')
    const onCpu = await train(kind)
    await selectBackend('wasm')
    const onWasm = await train(kind)
    assert.ok(onCpu[3]! < onCpu[0]!, `${kind}: the loss falls (${onCpu})`)
    onCpu.forEach((loss, i) => assert.ok(Math.abs(loss - onWasm[i]!) < 1e-4 * Math.abs(loss), `${kind} step ${i}: cpu ${loss}, wasm ${onWasm[i]}`))
  }
})

test('the threaded wasm backend starts its threads from one shared, content-named script, not a temp file per process', async () => {
  const report = await selectBackend('wasm')
  assert.equal(report.active, 'wasm')
  const folder = join(tmpdir(), 'kotoba-wasm')
  const scripts = readdirSync(folder).filter((f) => /^pthread-[0-9a-f]{16}\.cjs$/.test(f))
  assert.ok(scripts.length >= 1, `the pthread script is in ${folder}`)
  assert.deepEqual(readdirSync(tmpdir()).filter((f) => f.startsWith(`kotoba-wasm-pthread-${process.pid}-`)), [], 'no per-process copy is left behind')
})
