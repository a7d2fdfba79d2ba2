// Kernel cases shared by the backend tests: each returns plain arrays (a forward result and gradients), so the same
// case run on two backends can be compared (compute-kernels.test.ts: cpu and wasm; webgpu-kernels.test.ts: webgpu).
import assert from 'node:assert/strict'
import * as tf from '@tensorflow/tfjs'
import { LuongAttention } from '../../models/attention/luong.ts'
import { MultiHeadAttention } from '../../models/attention/multi-head.ts'
import { ParameterStore } from '../../models/core/params.ts'
import { Random } from '../../models/core/random.ts'
import { Embedding } from '../../models/layers/embedding.ts'
import { LayerNorm } from '../../models/layers/layer-norm.ts'
import { Linear } from '../../models/layers/linear.ts'
import { TiedOutput } from '../../models/layers/tied-output.ts'
import { smoothedCrossEntropy } from '../../models/losses/cross-entropy.ts'
import { GruCell } from '../../models/rnn/gru-cell.ts'
import { gruGates } from '../../models/rnn/gru-gates.ts'
import { LstmCell } from '../../models/rnn/lstm-cell.ts'
import { Seq2SeqModel } from '../../models/seq2seq/model.ts'
import { lstmGates } from '../../models/rnn/lstm-gates.ts'
import { StackedRnn } from '../../models/rnn/stacked-rnn.ts'
import { unroll } from '../../models/rnn/unroll.ts'
import { inputEmbedding } from '../../models/transformer/input-embedding.ts'
import { sinusoidalPositions } from '../../models/transformer/positional-encoding.ts'
import { residual } from '../../models/transformer/sublayer.ts'
import { Adam, defaultAdam } from '../../models/train/adam.ts'
import { lstmConfig, transformerConfig } from '../../scripts/bench/configs.ts'

export type Case = { name: string; run: () => Promise<number[][]> }

/** A tensor's values, read asynchronously (the webgpu backend cannot read synchronously under Node). */
const read = async (t: tf.Tensor): Promise<number[]> => Array.from(await t.data())

export function randomTensor(random: Random, shape: number[]): tf.Tensor {
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => random.uniform(-1, 1)), shape)
}

/** Each case returns plain arrays: the forward result and the gradients, so backends can be compared. */
export function cases(seed: number): Case[] {
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
      run: async () => {
        const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, transposeA, transposeB).square().sum()
        if (forwardOnly) return [(await read(tf.matMul(a, b, transposeA, transposeB)))]
        const [ga, gb] = tf.grads(f)([a, b])
        const value = f(a, b)
        const out = [(await read(value)), (await read(ga!)), (await read(gb!))]
        tf.dispose([ga!, gb!, value])
        return out
      },
    }
  }
  return [
    {
      name: 'gather gradient (UnsortedSegmentSum)',
      run: async () => {
        const grad = tf.grad((t: tf.Tensor) => tf.gather(t, ids).mul(upstream).sum())(table)
        const direct = tf.unsortedSegmentSum(upstream, ids, 50)
        const out = [(await read(grad)), (await read(direct))]
        tf.dispose([grad, direct])
        return out
      },
    },
    {
      name: 'embedding lookup and its gradient, repeated ids (the fused embedding gradient where the backend has it)',
      run: async () => {
        const embedding = new Embedding(new ParameterStore(new Random(seed)), 'embedding-case', 50, 8)
        embedding.table.assign(table)
        const batchIds = ids.reshape([8, 8]) as tf.Tensor2D
        const [batchUpstream] = [upstream.reshape([8, 8, 8])]
        const { value, grads } = tf.variableGrads(() => embedding.apply(batchIds).mul(batchUpstream).sum() as tf.Scalar, [embedding.table])
        const out = [(await read(value)), (await read(grads[embedding.table.name]!))]
        tf.dispose([value, ...Object.values(grads), batchIds, batchUpstream])
        embedding.table.dispose()
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
      run: async () => {
        const weight = randomTensor(random, [6, 10])
        const steps = [randomTensor(random, [4, 10]), randomTensor(random, [4, 10])]
        const f = (w: tf.Tensor) => steps.map((x) => tf.matMul(x, w, false, true).square().sum()).reduce((a, b) => a.add(b))
        const grad = tf.grad(f)(weight)
        const next = weight.add(1)
        const after = f(next)
        const out = [(await read(grad)), (await read(after))]
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
        run: async () => {
          const f = (t: tf.Tensor) => tf.transpose(t, perm).mul(weights).sum()
          const grad = tf.grad(f)(x)
          const out = [(await read(tf.transpose(x, perm))), (await read(grad))]
          grad.dispose()
          return out
        },
      }
    }),
    {
      name: 'slice, unstack and split with their gradients (float32 and int32)',
      run: async () => {
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
          (await read(f(x))),
          (await read(grad)),
          (await read(tf.slice(ints, [0, 1, 2], [4, 2, 3]))),
          ...(await Promise.all(tf.unstack(ints, 2).map(read))),
          ...(await Promise.all(tf.split(ints, 2, 0).map(read))),
          (await read(tf.slice(x, [3, 0, 0], [1, 5, 6]))), // contiguous
          (await read(tf.grad((t: tf.Tensor) => tf.relu(t.cast('float32')).mul(t).sum())(x))), // same-type cast
          (await read(ints.cast('float32').add(0.5).cast('int32'))),
          (await read(tf.step(tf.tensor1d([-2, 0, 3, NaN, 0.5, -0.1, 7]), 0.25))), // ragged: 7 elements
        ]
        tf.dispose([x, ints, grad])
        return out
      },
    },
    {
      name: 'gather rows (2-D ids) and sums over leading and trailing axes',
      run: async () => {
        const x = randomTensor(random, [3, 4, 5])
        const rows = tf.tensor2d([[2, 0, 2], [1, 1, 0]], [2, 3], 'int32')
        const f = (t: tf.Tensor) => tf.gather(t, rows).square().sum()
        const grad = tf.grad(f)(x)
        const out = [
          (await read(tf.gather(x, rows))),
          (await read(grad)),
          (await read(tf.sum(x, 0))),
          (await read(tf.sum(x, [0, 1], true))),
          (await read(tf.sum(x, [1, 0]))),
          (await read(tf.sum(x, 2))),
          (await read(tf.sum(x, 1))),
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
        run: async () => {
          const f = (zt: tf.Tensor, ct: tf.Tensor) => {
            const [h, cNext] = lstmGates(zt as tf.Tensor2D, ct as tf.Tensor2D)
            return h.mul(wh).sum().add(cNext.mul(wc).sum()) // gradient flows in through h' and c'
          }
          const [gz, gc] = tf.grads(f)([z, c])
          const [h, cNext] = lstmGates(z as tf.Tensor2D, c as tf.Tensor2D)
          const out = [(await read(h)), (await read(cNext)), (await read(gz!)), (await read(gc!))]
          tf.dispose([gz!, gc!, h, cNext])
          return out
        },
      }
    }),
    ...[
      { reverse: false, padded: true },
      { reverse: true, padded: true },
      { reverse: false, padded: false },
    ].map(({ reverse, padded }): Case => {
      const params = new ParameterStore(new Random(seed))
      const cell = new LstmCell(params, `lstm-case-${reverse}-${padded}`, 5, 6)
      const xs = randomTensor(random, [4, 7, 5]) // [B, T, in]
      const lengths = [7, 4, 1, 6]
      const mask = padded ? tf.tensor2d(lengths.flatMap((n) => Array.from({ length: 7 }, (_, i) => (i < n ? 1 : 0))), [4, 7]) : null
      const [h0, c0] = [randomTensor(random, [4, 6]), randomTensor(random, [4, 6])]
      const [wOut, wH, wC] = [randomTensor(random, [4, 7, 6]), randomTensor(random, [4, 6]), randomTensor(random, [4, 6])]
      return {
        name: `an LSTM layer over ${padded ? 'padded' : 'unpadded'} sequences${reverse ? ', right to left' : ''} (fused sequence against the step-by-step unroll)`,
        run: async () => {
          // The weights (2nd and 3rd) are reached through the cell's variables, the same tensors.
          const f = (x: tf.Tensor, _recurrent: tf.Tensor, _input: tf.Tensor, h: tf.Tensor, c: tf.Tensor) => {
            const { outputs, final } = unroll(cell, x as tf.Tensor3D, mask, [h as tf.Tensor2D, c as tf.Tensor2D], reverse)
            return outputs.mul(wOut).sum().add(final[0]!.mul(wH).sum()).add(final[1]!.mul(wC).sum())
          }
          const grads = tf.grads(f)([xs, cell.recurrentKernel, cell.inputKernel, h0, c0])
          const { outputs, final } = unroll(cell, xs as tf.Tensor3D, mask, [h0 as tf.Tensor2D, c0 as tf.Tensor2D], reverse)
          const out = await Promise.all([outputs, ...final, ...grads].map(read))
          tf.dispose([outputs, ...final, ...grads])
          return out
        },
      }
    }),
    // A bidirectional two-layer LSTM or GRU stack (an encoder) over padded sequences: where the backend has the
    // whole-layer kernels, each layer's two halves run as one op, every step's dispatches serving both; elsewhere two
    // unrolls.
    ...(['lstm', 'gru'] as const).map((cell): Case => {
      const params = new ParameterStore(new Random(seed + 1))
      const stack = new StackedRnn(params, `bidirectional-case-${cell}`, { cell, layers: 2, inputSize: 5, hiddenSize: 6, bidirectional: true, dropout: 0 })
      const xs = randomTensor(random, [4, 7, 5]) // [B, T, in]
      const lengths = [7, 4, 1, 6]
      const mask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: 7 }, (_, i) => (i < n ? 1 : 0))), [4, 7])
      const finalWeights = [randomTensor(random, [4, 12]), randomTensor(random, [4, 12])]
      const outputWeights = randomTensor(random, [4, 7, 12])
      const variables = params.list()
      // Biases start at zero (the same in both halves): make them differ, so a half reading the other's would show.
      for (const v of variables) if (v.name.includes('bias')) v.assign(randomTensor(random, v.shape))
      return {
        name: `a bidirectional two-layer ${cell.toUpperCase()} over padded sequences (both halves as one op against two unrolls)`,
        run: async () => {
          const apply = (x: tf.Tensor) => stack.apply(x as tf.Tensor3D, mask, false)
          const loss = (x: tf.Tensor) => {
            const { outputs, finals } = apply(x)
            return finals[1]!.reduce((sum: tf.Scalar, state, i) => sum.add(state.mul(finalWeights[i]!).sum()), outputs.mul(outputWeights).sum() as tf.Scalar)
          }
          const { value, grads } = tf.variableGrads(() => loss(xs), variables)
          const [dx] = tf.grads(loss)([xs])
          const { outputs, finals } = apply(xs)
          const results = [value, outputs, ...finals.flat(), dx!, ...variables.map((v) => grads[v.name]!)]
          const out = await Promise.all(results.map(read))
          tf.dispose([...results, ...Object.values(grads)])
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
        run: async () => {
          const f = (xt: tf.Tensor, at: tf.Tensor, ht: tf.Tensor) => gruGates(xt as tf.Tensor2D, at as tf.Tensor2D, ht as tf.Tensor2D).mul(upstream).sum()
          const grads = tf.grads(f)([x, a, h])
          const hNext = gruGates(x as tf.Tensor2D, a as tf.Tensor2D, h as tf.Tensor2D)
          const out = await Promise.all([hNext, ...grads].map(read))
          tf.dispose([hNext, ...grads])
          return out
        },
      }
    }),
    ...[
      { reverse: false, padded: true },
      { reverse: true, padded: true },
      { reverse: true, padded: false },
    ].map(({ reverse, padded }): Case => {
      const params = new ParameterStore(new Random(seed))
      const cell = new GruCell(params, `gru-case-${reverse}-${padded}`, 5, 6)
      // Non-zero biases, so their gradients and the reset gate's use of the recurrent bias are checked.
      cell.inputBias.assign(randomTensor(random, [18]))
      cell.recurrentBias.assign(randomTensor(random, [18]))
      const xs = randomTensor(random, [4, 7, 5]) // [B, T, in]
      const lengths = [7, 4, 1, 6]
      const mask = padded ? tf.tensor2d(lengths.flatMap((n) => Array.from({ length: 7 }, (_, i) => (i < n ? 1 : 0))), [4, 7]) : null
      const h0 = randomTensor(random, [4, 6])
      const [wOut, wH] = [randomTensor(random, [4, 7, 6]), randomTensor(random, [4, 6])]
      return {
        name: `a GRU layer over ${padded ? 'padded' : 'unpadded'} sequences${reverse ? ', right to left' : ''} (fused sequence against the step-by-step unroll)`,
        run: async () => {
          // The weights (2nd to 5th) are reached through the cell's variables, the same tensors.
          const f = (x: tf.Tensor, _recurrent: tf.Tensor, _input: tf.Tensor, _recurrentBias: tf.Tensor, _inputBias: tf.Tensor, h: tf.Tensor) => {
            const { outputs, final } = unroll(cell, x as tf.Tensor3D, mask, [h as tf.Tensor2D], reverse)
            return outputs.mul(wOut).sum().add(final[0]!.mul(wH).sum())
          }
          const grads = tf.grads(f)([xs, cell.recurrentKernel, cell.inputKernel, cell.recurrentBias, cell.inputBias, h0])
          const { outputs, final } = unroll(cell, xs as tf.Tensor3D, mask, [h0 as tf.Tensor2D], reverse)
          const out = await Promise.all([outputs, ...final, ...grads].map(read))
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
        run: async () => {
          const f = (input: tf.Tensor, _gamma: tf.Tensor, _beta: tf.Tensor) => norm.apply(input).mul(upstream).sum()
          const grads = tf.grads(f)([x, norm.gamma, norm.beta])
          const y = norm.apply(x)
          const out = await Promise.all([y, ...grads].map(read))
          tf.dispose([y, ...grads])
          return out
        },
      }
    }),
    ...[8, 100].map((dim): Case => {
      const params = new ParameterStore(new Random(seed + 2 * dim))
      const norm = new LayerNorm(params, `add-norm-case-${dim}`, dim)
      norm.gamma.assign(randomTensor(random, [dim]))
      norm.beta.assign(randomTensor(random, [dim]))
      const x = randomTensor(random, [2, 5, dim]).mul(2)
      const c = randomTensor(random, [dim])
      const upstream = randomTensor(random, [2, 5, dim])
      return {
        name: `post-LN residual over ${dim}: LayerNorm(x + f(x)) (fused add & norm against the ops)`,
        run: async () => {
          const f = (input: tf.Tensor, _gamma: tf.Tensor, _beta: tf.Tensor) =>
            residual(input as tf.Tensor3D, norm, 'post', 0, (i) => i.mul(c).tanh() as tf.Tensor3D).mul(upstream).sum()
          const grads = tf.grads(f)([x, norm.gamma, norm.beta])
          const y = tf.tidy(() => residual(x as tf.Tensor3D, norm, 'post', 0, (i) => i.mul(c).tanh() as tf.Tensor3D))
          const out = await Promise.all([y, ...grads].map(read))
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
        run: async () => {
          const param = tf.variable(start.clone(), true, `adam-case-${weightDecay}-${Math.random()}`)
          const adam = new Adam({ ...defaultAdam, weightDecay })
          for (const grad of gradients) adam.apply(new Map([['w', param]]), new Map([['w', grad]]), 0.05)
          const [m, v] = [...adam.state().values()]
          const out = [(await read(param)), (await read(m!)), (await read(v!)).map((x) => x * 1e3)] // v is ~1e-3
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
        run: async () => {
          const f = (z: tf.Tensor) => smoothedCrossEntropy(z as tf.Tensor2D, targets, mask, smoothing)
          const grad = tf.grad(f)(logits)
          const out = [(await read(f(logits))), (await read(grad))]
          grad.dispose()
          return out
        },
      }
    }),
    {
      // The Transformer's input at positions 2…8, repeated ids: the fused lookup and gradient where the backend has them.
      name: 'Transformer input: E[ids]·√d + sinusoidal positions from an offset (fused input embedding against the ops)',
      run: async () => {
        const params = new ParameterStore(new Random(seed + 11))
        const embedding = new Embedding(params, 'input-embedding-case', 50, 8)
        const positions = sinusoidalPositions(16, 8)
        const tokens = ids.slice([0], [42]).reshape([6, 7]) as tf.Tensor2D
        const upstream = randomTensor(random, [6, 7, 8])
        const f = () => inputEmbedding(embedding, tokens, positions, 2, 0).mul(upstream).sum() as tf.Scalar
        const { grads } = tf.variableGrads(f, [embedding.table])
        const y = inputEmbedding(embedding, tokens, positions, 2, 0)
        const out = [(await read(y)), (await read(grads[embedding.table.name]!))]
        tf.dispose([y, positions, tokens, upstream, ...Object.values(grads)])
        params.dispose()
        return out
      },
    },
    // Fully connected layers bigger than one 32×32 tile and not a multiple of it (plain, ReLU, tanh without a bias,
    // tied to an embedding table): the fused affine kernels where the backend has them, else the ops.
    ...(['plain', 'relu', 'tanh', 'tied'] as const).map((kind): Case => {
      const params = new ParameterStore(new Random(seed + 70))
      const [rows, inSize, outSize] = [70, 40, 37]
      const linear = new Linear(params, `affine-case-${kind}`, inSize, outSize, { bias: kind !== 'tanh' })
      const table = new Embedding(params, `affine-case-${kind}-table`, outSize, inSize)
      const tied = new TiedOutput(params, `affine-case-${kind}-tied`, table)
      const bias = kind === 'tied' ? tied.bias : linear.bias
      bias?.assign(randomTensor(random, [outSize]).mul(0.5))
      const x = randomTensor(random, [2, rows / 2, inSize])
      const upstream = randomTensor(random, [2, rows / 2, outSize])
      const apply = (input: tf.Tensor) => (kind === 'tied' ? tied.apply(input) : linear.apply(input, kind === 'plain' ? {} : { activation: kind }))
      const weights = kind === 'tied' ? [table.table, tied.bias] : [linear.kernel, ...(linear.bias ? [linear.bias] : [])]
      return {
        name: `fully connected ${kind}, ${rows}×${inSize} → ${outSize} (fused affine kernels against the ops)`,
        run: async () => {
          const f = () => apply(x).mul(upstream).sum() as tf.Scalar
          const { grads } = tf.variableGrads(f, weights)
          const dx = tf.grad((input: tf.Tensor) => apply(input).mul(upstream).sum())(x)
          const y = tf.tidy(() => apply(x))
          const results = [y, dx, ...weights.map((w) => grads[w.name]!)]
          const out = await Promise.all(results.map(read))
          tf.dispose([y, dx, ...Object.values(grads)])
          return out
        },
      }
    }),
    // Self-attention over padded keys, causal self-attention, and cross-attention over more keys (70) and a wider
    // head (65) than a workgroup has threads: the fused kernel where the backend has it, else the ops.
    ...([
      { kind: 'self', queryLen: 6, keyLen: 6, dModel: 12, heads: 3, causal: false },
      { kind: 'causal self', queryLen: 6, keyLen: 6, dModel: 12, heads: 3, causal: true },
      { kind: 'cross', queryLen: 3, keyLen: 70, dModel: 130, heads: 2, causal: false },
    ] as const).map(({ kind, queryLen, keyLen, dModel, heads, causal }): Case => {
      const params = new ParameterStore(new Random(seed + keyLen))
      const attention = new MultiHeadAttention(params, `attention-case-${kind}`, dModel, heads)
      const batch = 3
      const queries = randomTensor(random, [batch, queryLen, dModel])
      const keysValues = kind === 'cross' ? randomTensor(random, [batch, keyLen, dModel]) : queries
      const lengths = [keyLen, keyLen - 2, 1]
      const keyMask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: keyLen }, (_, j) => (j < n ? 1 : 0))), [batch, keyLen])
      const upstream = randomTensor(random, [batch, queryLen, dModel])
      const weights = ['query', 'key', 'value', 'output'].flatMap((part) => [params.get(`attention-case-${kind}/${part}/kernel`), params.get(`attention-case-${kind}/${part}/bias`)])
      return {
        name: `multi-head ${kind}-attention, ${heads} heads of ${dModel / heads}, ${queryLen}×${keyLen}, padded keys (fused kernel against the ops)`,
        run: async () => {
          const apply = (q: tf.Tensor, kv: tf.Tensor) => attention.apply(q as tf.Tensor3D, kv as tf.Tensor3D, { keyMask, causal })
          const f = (q: tf.Tensor, kv: tf.Tensor) => {
            const { output, weights: attended } = apply(q, kv)
            attended.dispose()
            return output.mul(upstream).sum()
          }
          const { grads } = tf.variableGrads(() => f(queries, keysValues) as tf.Scalar, weights)
          const inputGrads = kind === 'cross' ? tf.grads(f)([queries, keysValues]) : [tf.grad((q: tf.Tensor) => f(q, q))(queries)]
          const { output, weights: attended } = apply(queries, keysValues)
          const results = [output, attended, ...inputGrads, ...weights.map((w) => grads[w.name]!)]
          const out = await Promise.all(results.map(read))
          tf.dispose([output, attended, ...inputGrads, ...Object.values(grads)])
          return out
        },
      }
    }),
    // Luong attention over an RNN's memory: "general" with values wider than the keys (a bidirectional encoder's) and
    // more source positions (70) than a workgroup has threads, and "dot"; one decoder step (attend) and every step at
    // once (attendAll) over padded sources. The fused kernel (keys and values prepared side by side) where the
    // backend has it, else the ops.
    ...([
      { score: 'general', querySize: 8, valueSize: 12, srcLen: 70 },
      { score: 'dot', querySize: 10, valueSize: 10, srcLen: 6 },
    ] as const).map(({ score, querySize, valueSize, srcLen }): Case => {
      const params = new ParameterStore(new Random(seed + valueSize))
      const attention = new LuongAttention(params, `luong-case-${score}`, score, querySize, valueSize)
      const [batch, tgtLen] = [3, 4]
      const memory = randomTensor(random, [batch, srcLen, valueSize])
      const queries = randomTensor(random, [batch, tgtLen, querySize])
      const lengths = [srcLen, srcLen - 3, 1]
      const mask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: srcLen }, (_, j) => (j < n ? 1 : 0))), [batch, srcLen])
      const upstreamAll = randomTensor(random, [batch, tgtLen, valueSize])
      const upstreamStep = randomTensor(random, [batch, valueSize])
      const weights = score === 'general' ? [params.get(`luong-case-${score}/weight/kernel`)] : []
      const apply = (q: tf.Tensor, m: tf.Tensor) => {
        const keys = attention.prepare(m as tf.Tensor3D)
        const all = attention.attendAll(q as tf.Tensor3D, keys, m as tf.Tensor3D, mask)
        const step = attention.attend(q.slice([0, 1, 0], [-1, 1, -1]).reshape([batch, querySize]) as tf.Tensor2D, keys, m as tf.Tensor3D, mask)
        keys.dispose()
        return { all, step }
      }
      return {
        name: `Luong ${score} attention, keys ${querySize} and values ${valueSize} wide, ${tgtLen}×${srcLen}, padded (fused kernel against the ops)`,
        run: async () => {
          const f = (q: tf.Tensor, m: tf.Tensor) => {
            const { all, step } = apply(q, m)
            return all.context.mul(upstreamAll).sum().add(step.context.mul(upstreamStep).sum())
          }
          const { value, grads } = weights.length > 0 ? tf.variableGrads(() => f(queries, memory) as tf.Scalar, weights) : { value: tf.scalar(0), grads: {} as tf.NamedTensorMap }
          value.dispose()
          const inputGrads = tf.grads(f)([queries, memory])
          const { all, step } = apply(queries, memory)
          const results = [all.context, all.weights, step.context, step.weights, ...inputGrads, ...weights.map((w) => grads[w.name]!)]
          const out = await Promise.all(results.map(read))
          tf.dispose([...results, ...Object.values(grads)])
          return out
        },
      }
    }),
    // The seq2seq defaults' decoder (an LSTM or GRU fed its previous h̃, Luong attention) over padded sources:
    // logits, attention and every parameter's gradient. Where the backend has the fused input-feeding decoder, it
    // runs the whole decoder with its own backpropagation through time; elsewhere the steps run as ops. "general" over
    // a bidirectional memory (values twice the keys' width), more hidden units and source positions (70) than a
    // workgroup has threads; and "dot".
    ...([
      { cell: 'lstm', attention: 'luong', bidirectional: true, hiddenSize: 70, srcLen: 70 },
      { cell: 'lstm', attention: 'luong-dot', bidirectional: false, hiddenSize: 12, srcLen: 6 },
      { cell: 'gru', attention: 'luong', bidirectional: true, hiddenSize: 66, srcLen: 9 },
    ] as const).map(({ cell, attention, bidirectional, hiddenSize, srcLen }): Case => {
      const [batch, tgtLen, vocab] = [3, 5, 11]
      const config = { ...lstmConfig, srcVocab: vocab, tgtVocab: vocab, cell, embeddingSize: 9, hiddenSize, attention, bidirectional, inputFeeding: true, dropout: 0, seed: seed + hiddenSize }
      const ids = (length: number) => tf.tensor2d(Int32Array.from({ length: batch * length }, () => random.integer(vocab)), [batch, length], 'int32')
      const [src, tgtIn] = [ids(srcLen), ids(tgtLen)]
      const lengths = [srcLen, srcLen - 3, 1]
      const mask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: srcLen }, (_, j) => (j < n ? 1 : 0))), [batch, srcLen])
      const upstream = randomTensor(random, [batch, tgtLen, vocab])
      return {
        name: `seq2seq decoder with input feeding, ${cell.toUpperCase()}, Luong ${attention === 'luong' ? 'general' : 'dot'}, hidden ${hiddenSize}, ${tgtLen}×${srcLen}, padded (fused decoder against the steps as ops)`,
        run: async () => {
          const model = new Seq2SeqModel(config)
          const variables = model.params.list()
          const { value, grads } = tf.variableGrads(() => model.forward(src, mask, tgtIn, true).logits.mul(upstream).sum() as tf.Scalar, variables)
          const { logits, attention: weights } = model.forward(src, mask, tgtIn, false)
          const results = [value, logits, weights!, ...variables.map((v) => grads[v.name]!)]
          const out = await Promise.all(results.map(read))
          tf.dispose([...results, ...Object.values(grads)])
          model.dispose()
          return out
        },
      }
    }),
    {
      name: 'softmax cross-entropy over a NaN logit is NaN (a diverged run must show it)',
      run: async () => {
        const loss = tf.tidy(() => smoothedCrossEntropy(tf.tensor2d([[1, Number.NaN, 2], [0, 1, 2]]), tf.tensor1d([0, 2], 'int32'), tf.ones([2]) as tf.Tensor1D))
        const out = [(await read(loss))]
        loss.dispose()
        assert.ok(Number.isNaN(out[0]![0]), 'the loss is NaN')
        return out
      },
    },
  ]
}

export function maxRelativeDifference(a: number[][], b: number[][]): number {
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

/** Every case's results, one case after another on the active backend. */
export async function runCases(seed: number, only: (name: string) => boolean = () => true): Promise<{ name: string; result: number[][] }[]> {
  const results: { name: string; result: number[][] }[] = []
  for (const c of cases(seed)) if (only(c.name)) results.push({ name: c.name, result: await c.run() })
  return results
}

/** The reference models at test size (scripts/bench/configs.ts shrunk), dropout on. */
export const smallVocab = 40
export const smallModels = {
  lstm: { ...lstmConfig, srcVocab: smallVocab, tgtVocab: smallVocab, embeddingSize: 16, hiddenSize: 20, dropout: 0.1 },
  /** As the workbench's seq2seq defaults: a bidirectional encoder and input feeding (the decoder steps one by one). */
  lstmFeeding: { ...lstmConfig, srcVocab: smallVocab, tgtVocab: smallVocab, embeddingSize: 16, hiddenSize: 20, dropout: 0.1, bidirectional: true, inputFeeding: true },
  transformer: { ...transformerConfig, srcVocab: smallVocab, tgtVocab: smallVocab, dModel: 16, heads: 2, dFF: 24, encoderLayers: 1, decoderLayers: 1 },
}

/** A fixed padded batch for them: 5 rows that end after 7, 5, 3, 6 and 2 tokens. */
export function paddedBatch(): { src: tf.Tensor2D; tgtIn: tf.Tensor2D; tgtOut: tf.Tensor1D; mask: tf.Tensor2D } {
  const random = new Random(9)
  const [batch, length] = [5, 7]
  const ids = () => tf.tensor2d(Int32Array.from({ length: batch * length }, () => 1 + random.integer(smallVocab - 1)), [batch, length], 'int32')
  const lengths = [7, 5, 3, 6, 2]
  const mask = tf.tensor2d(lengths.flatMap((n) => Array.from({ length }, (_, i) => (i < n ? 1 : 0))), [batch, length])
  return { src: ids(), tgtIn: ids(), tgtOut: tf.tidy(() => ids().reshape([-1]) as tf.Tensor1D), mask }
}
