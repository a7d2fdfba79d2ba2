// An LSTM layer over a whole padded sequence as one differentiable op, with backpropagation through time written
// out (Werbos 1990; as cuDNN runs it): the recurrent weight's gradient is one product over every step, Hᵀ·dZ,
// instead of one small product per step, and a step's gates are one fused kernel each way (lstm-gates.ts).
// Same results as unrolling LstmCell step by step (tests/compute-kernels.test.ts checks values and gradients).
// Runs where hasFusedLstmGates() (lstm-gates.ts). Where the backend also has the whole-layer kernels (a GPU, where
// every op is a dispatch), the time loop runs inside them: one dispatch per step forward, two backward.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import { lstmGatesGradKernel, lstmGatesKernel } from './lstm-gates.ts'
import { paddedSteps, stepOrder } from './sequence-steps.ts'

/**
 * inputs {projected [T, B, 4H], recurrent [H, 4H], h0, c0 [B, H], masks [T, B, 1]}, attrs LstmLayerAttrs →
 * [packed [T + 2, B, H] (outputs, final h, final c), hIn [T, B, H] (the h each step starts from), cells [T, B, 6H]
 * (per step: the c it starts from, σ(i), σ(f), tanh(g), σ(o), and c' before masking)]. Eight buffers in all: the
 * most a WebGPU shader may bind by default. With two directions, each tensor holds both side by side on its last
 * axis (projected [T, B, 8H], packed [T + 2, B, 2H], …; recurrent [2, H, 4H], h0 and c0 [2, B, H]).
 */
export const lstmLayerKernel = 'KotobaLstmLayer'
/**
 * inputs {dy [T + 2, B, H] (of packed), cells, recurrentT [4H, H] (Uᵀ, which the backward product reads), masks},
 * attrs as above → [dProjected [T, B, 4H], dState [2, B, H] (of h0, c0)].
 */
export const lstmLayerGradKernel = 'KotobaLstmLayerGrad'

export interface LstmLayerAttrs {
  reverse: boolean
  /** false: masks is a placeholder and every step is real. */
  masked: boolean
  /** 2: both halves of a bidirectional layer (direction 1 right to left), side by side in every tensor; see below. */
  directions: 1 | 2
}

export interface LstmSequenceResult {
  outputs: tf.Tensor3D // [T, B, H], time-major, zero at padded steps
  final: [tf.Tensor2D, tf.Tensor2D] // h, c [B, H] after each sequence's last real step
}

/**
 * projected [T, B, 4H] (x·W + b, time-major); recurrent [H, 4H]; h0, c0 [B, H]; masks [T, B, 1] (1 = real
 * token) or null. Padded steps keep the previous state, as unroll() does.
 */
export function lstmSequence(
  projected: tf.Tensor3D,
  recurrent: tf.Tensor, // [H, 4H]
  h0: tf.Tensor2D,
  c0: tf.Tensor2D,
  masks: tf.Tensor3D | null,
  reverse: boolean,
): LstmSequenceResult {
  return runLstmSequence(projected, recurrent, h0, c0, masks, { reverse, masked: masks !== null, directions: 1 })
}

/** Whether the backend runs a bidirectional LSTM layer's two halves as one op (lstmBidirectionalSequence). */
export const hasBidirectionalLstmLayer = (): boolean => backendHasKernels(lstmLayerKernel, lstmLayerGradKernel)

/**
 * Both halves of a bidirectional layer at once, where hasBidirectionalLstmLayer(): every step's dispatches serve the
 * forward half at t and the backward half at T − 1 − t. projected [T, B, 8H] (each half's x·W + b side by side);
 * recurrent [2, H, 4H]; h0, c0 [2, B, H] → outputs [T, B, 2H] (the halves side by side, each aligned with its input
 * position) and the final h and c [B, 2H] (the same concatenation).
 */
export function lstmBidirectionalSequence(projected: tf.Tensor3D, recurrent: tf.Tensor, h0: tf.Tensor3D, c0: tf.Tensor3D, masks: tf.Tensor3D | null): LstmSequenceResult {
  if (!hasBidirectionalLstmLayer()) throw new Error('a bidirectional LSTM layer as one op needs the whole-layer kernels (a GPU backend)')
  return runLstmSequence(projected, recurrent, h0, c0, masks, { reverse: false, masked: masks !== null, directions: 2 })
}

function runLstmSequence(projected: tf.Tensor3D, recurrent: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor, masks: tf.Tensor3D | null, attrs: LstmLayerAttrs): LstmSequenceResult {
  const [length, batch, gateWidth] = projected.shape
  const { directions, reverse } = attrs
  const gates = gateWidth / directions
  const hidden = gates / 4
  const order = stepOrder(length, reverse)
  const wholeLayer = backendHasKernels(lstmLayerKernel, lstmLayerGradKernel)
  const padded = wholeLayer ? [] : paddedSteps(masks, length, batch)
  // One output tensor (customGrad's contract): [T + 2, B, H] = the outputs, then the final h and c.
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, u, hStart, cStart, maskInput, save] = args as [tf.Tensor3D, tf.Tensor, tf.Tensor2D, tf.Tensor2D, tf.Tensor3D, tf.GradSaveFunc]
    if (wholeLayer) {
      const inputs = { projected: xs, recurrent: u, h0: hStart, c0: cStart, masks: maskInput }
      const [packed, hIn, cells] = tf.engine().runKernel(lstmLayerKernel, inputs, { ...attrs }) as tf.Tensor[]
      save([hIn!, cells!, u, maskInput])
      return {
        value: packed as tf.Tensor3D,
        gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
          const [hStack, cellStack, weights, savedMasks] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor, tf.Tensor3D]
          const recurrentT = directions === 1 ? weights.transpose() : weights.transpose([0, 2, 1]) // [(D,) 4H, H]
          const gradInputs = { dy, cells: cellStack, recurrentT, masks: savedMasks }
          const [dProjected, dState] = tf.engine().runKernel(lstmLayerGradKernel, gradInputs, { ...attrs }) as [tf.Tensor3D, tf.Tensor3D]
          const [dh0, dc0] = tf.split(dState, 2, 0).map((d) => d.reshape(hStart.shape)) as [tf.Tensor2D, tf.Tensor2D]
          const rows = length * batch
          // Σₜ hₜ₋₁ᵀ·dzₜ as one product: [H, T·B]·[T·B, 4H] (per direction: a batch of D products)
          const dRecurrent =
            directions === 1
              ? tf.matMul(hStack.reshape([rows, hidden]), dProjected.reshape([rows, gates]), true, false)
              : tf.matMul(hStack.reshape([rows, directions, hidden]).transpose([1, 0, 2]), dProjected.reshape([rows, directions, gates]).transpose([1, 0, 2]), true, false)
          return [dProjected, dRecurrent, dh0, dc0, tf.zerosLike(savedMasks)]
        },
      }
    }
    const steps = tf.unstack(xs) as tf.Tensor2D[] // T × [B, 4H]
    const stepMasks = masks ? (tf.unstack(maskInput) as tf.Tensor2D[]) : null // T × [B, 1]
    const hIn: tf.Tensor2D[] = new Array(length) // the state each step starts from
    const cIn: tf.Tensor2D[] = new Array(length)
    const gateValues: tf.Tensor2D[] = new Array(length) // σ(i), σ(f), tanh(g), σ(o)
    const cOut: tf.Tensor2D[] = new Array(length) // the cell's c' before masking
    const outputs: tf.Tensor2D[] = new Array(length)
    let [h, c] = [hStart, cStart]
    for (const t of order) {
      hIn[t] = h
      cIn[t] = c
      const z = steps[t]!.add(tf.matMul(h, u)) as tf.Tensor2D // [B, 4H]
      const [hNext, cNext, activated] = tf.engine().runKernel(lstmGatesKernel, { z, c }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
      gateValues[t] = activated
      cOut[t] = cNext
      const m = padded[t] ? stepMasks?.[t] : undefined
      if (m) {
        const keep = tf.sub(1, m)
        h = hNext.mul(m).add(h.mul(keep)) as tf.Tensor2D
        c = cNext.mul(m).add(c.mul(keep)) as tf.Tensor2D
        outputs[t] = h.mul(m) as tf.Tensor2D
      } else {
        ;[h, c] = [hNext, cNext]
        outputs[t] = h
      }
    }
    save([tf.stack(hIn), tf.stack(cIn), tf.stack(gateValues), tf.stack(cOut), u, maskInput])
    return {
      value: tf.concat([tf.stack(outputs), h.expandDims(0), c.expandDims(0)], 0) as tf.Tensor3D, // [T + 2, B, H]
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [hStack, cStack, gateStack, cOutStack, weights, savedMasks] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor, tf.Tensor3D]
        const [dOutputs, dhFinal, dcFinal] = tf.split(dy, [length, 1, 1], 0) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D]
        const dOut = tf.unstack(dOutputs) as tf.Tensor2D[]
        const [hPrev, cPrev, gateAt, cNextAt] = [hStack, cStack, gateStack, cOutStack].map((s) => tf.unstack(s) as tf.Tensor2D[]) as [tf.Tensor2D[], tf.Tensor2D[], tf.Tensor2D[], tf.Tensor2D[]]
        const maskAt = masks ? (tf.unstack(savedMasks) as tf.Tensor2D[]) : null
        let dh = dhFinal.squeeze([0]) as tf.Tensor2D // dL/dh after the step being undone
        let dc = dcFinal.squeeze([0]) as tf.Tensor2D
        const dz: tf.Tensor2D[] = new Array(length)
        for (const t of [...order].reverse()) {
          const m = padded[t] ? maskAt?.[t] : undefined
          const dhTotal = (m ? dh.add(dOut[t]!.mul(m)) : dh.add(dOut[t]!)) as tf.Tensor2D
          // Through the mask: the cell's new state where m = 1, the carried state where m = 0.
          const [dhCell, dcCell] = m ? [dhTotal.mul(m), dc.mul(m)] : [dhTotal, dc]
          const inputs = { dh: dhCell, dc: dcCell, gates: gateAt[t]!, c: cPrev[t]!, cNext: cNextAt[t]! }
          const [dzStep, dcStep] = tf.engine().runKernel(lstmGatesGradKernel, inputs) as [tf.Tensor2D, tf.Tensor2D]
          dz[t] = dzStep
          const dhStep = tf.matMul(dzStep, weights, false, true) as tf.Tensor2D // dz·Uᵀ  [B, H]
          if (m) {
            const keep = tf.sub(1, m)
            dh = dhStep.add(dhTotal.mul(keep)) as tf.Tensor2D
            dc = dcStep.add(dc.mul(keep)) as tf.Tensor2D
          } else {
            ;[dh, dc] = [dhStep, dcStep]
          }
        }
        const dProjected = tf.stack(dz) as tf.Tensor3D // [T, B, 4H]
        // Σₜ hₜ₋₁ᵀ·dzₜ as one product: [H, T·B]·[T·B, 4H]
        const dRecurrent = tf.matMul(hStack.reshape([length * batch, hidden]), dProjected.reshape([length * batch, gates]), true, false)
        return [dProjected, dRecurrent, dh, dc, tf.zerosLike(savedMasks)]
      },
    }
  })
  const [outputs, h, c] = tf.tidy(() => {
    const maskInput = masks ?? tf.zeros([1, 1, 1])
    const packed = run(projected, recurrent, h0, c0, maskInput) as tf.Tensor3D
    const [all, hLast, cLast] = tf.split(packed, [length, 1, 1], 0) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D]
    return [all, hLast.squeeze([0]) as tf.Tensor2D, cLast.squeeze([0]) as tf.Tensor2D] as const
  })
  return { outputs, final: [h, c] }
}
