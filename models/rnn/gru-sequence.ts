// A GRU layer over a whole padded sequence as one differentiable op, with backpropagation through time written
// out (Werbos 1990; as cuDNN runs it): the recurrent weight's gradient is one product over every step, Hᵀ·dA,
// instead of one small product per step, and a step's gates are one fused kernel each way (gru-gates.ts).
// Same results as unrolling GruCell step by step (tests/compute-kernels.test.ts checks values and gradients).
// Runs where hasFusedGruGates() (gru-gates.ts). Where the backend also has the whole-layer kernels (a GPU, where
// every op is a dispatch), the time loop runs inside them: one dispatch per step forward, two backward.
import * as tf from '@tensorflow/tfjs'
import { backendHasKernels } from '../core/kernels.ts'
import { gruGatesGradKernel, gruGatesKernel } from './gru-gates.ts'
import { paddedSteps, stepOrder } from './sequence-steps.ts'

/**
 * inputs {projected [T, B, 3H], recurrent [H, 3H], recurrentBias [3H], h0 [B, H], masks [T, B, 1]}, attrs
 * GruLayerAttrs → [packed [T + 1, B, H] (outputs, final h), hIn [T, B, H] (the h each step starts from), gates
 * [T, B, 4H] (r, z, n, an)]. With two directions, each tensor holds both side by side on its last axis (projected
 * [T, B, 6H], packed [T + 1, B, 2H], …; recurrent [2, H, 3H], recurrentBias [2, 3H], h0 [2, B, H]).
 */
export const gruLayerKernel = 'KotobaGruLayer'
/**
 * inputs {dy [T + 1, B, H] (of packed), gates, hIn, recurrentT [3H, H] (Uᵀ, which the backward product reads), masks},
 * attrs as above → [dProjected, dRecurrentIn [T, B, 3H], dh0 [B, H]].
 */
export const gruLayerGradKernel = 'KotobaGruLayerGrad'

export interface GruLayerAttrs {
  reverse: boolean
  /** false: masks is a placeholder and every step is real. */
  masked: boolean
  /** 2: both halves of a bidirectional layer (direction 1 right to left), side by side in every tensor; see below. */
  directions: 1 | 2
}

export interface GruSequenceResult {
  outputs: tf.Tensor3D // [T, B, H], time-major, zero at padded steps
  final: tf.Tensor2D // h [B, H] after each sequence's last real step
}

/**
 * projected [T, B, 3H] (x·W + b_W, time-major); recurrent [H, 3H] and its bias [3H]; h0 [B, H]; masks [T, B, 1]
 * (1 = real token) or null. Padded steps keep the previous state, as unroll() does.
 */
export function gruSequence(
  projected: tf.Tensor3D,
  recurrent: tf.Tensor, // [H, 3H]
  recurrentBias: tf.Tensor, // [3H]
  h0: tf.Tensor2D,
  masks: tf.Tensor3D | null,
  reverse: boolean,
): GruSequenceResult {
  return runGruSequence(projected, recurrent, recurrentBias, h0, masks, { reverse, masked: masks !== null, directions: 1 })
}

/** Whether the backend runs a bidirectional GRU layer's two halves as one op (gruBidirectionalSequence). */
export const hasBidirectionalGruLayer = (): boolean => backendHasKernels(gruLayerKernel, gruLayerGradKernel)

/**
 * Both halves of a bidirectional layer at once, where hasBidirectionalGruLayer(): every step's dispatches serve the
 * forward half at t and the backward half at T − 1 − t. projected [T, B, 6H] (each half's x·W + b_W side by side);
 * recurrent [2, H, 3H], recurrentBias [2, 3H]; h0 [2, B, H] → outputs [T, B, 2H] (the halves side by side, each
 * aligned with its input position) and the final h [B, 2H].
 */
export function gruBidirectionalSequence(projected: tf.Tensor3D, recurrent: tf.Tensor, recurrentBias: tf.Tensor, h0: tf.Tensor3D, masks: tf.Tensor3D | null): GruSequenceResult {
  if (!hasBidirectionalGruLayer()) throw new Error('a bidirectional GRU layer as one op needs the whole-layer kernels (a GPU backend)')
  return runGruSequence(projected, recurrent, recurrentBias, h0, masks, { reverse: false, masked: masks !== null, directions: 2 })
}

function runGruSequence(projected: tf.Tensor3D, recurrent: tf.Tensor, recurrentBias: tf.Tensor, h0: tf.Tensor, masks: tf.Tensor3D | null, attrs: GruLayerAttrs): GruSequenceResult {
  const [length, batch, gateWidth] = projected.shape
  const { directions, reverse } = attrs
  const gates = gateWidth / directions
  const hidden = gates / 3
  const order = stepOrder(length, reverse)
  const wholeLayer = backendHasKernels(gruLayerKernel, gruLayerGradKernel)
  const padded = wholeLayer ? [] : paddedSteps(masks, length, batch)
  // One output tensor (customGrad's contract): [T + 1, B, H] = the outputs, then the final h.
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, u, bias, hStart, maskInput, save] = args as [tf.Tensor3D, tf.Tensor, tf.Tensor, tf.Tensor2D, tf.Tensor3D, tf.GradSaveFunc]
    if (wholeLayer) {
      const inputs = { projected: xs, recurrent: u, recurrentBias: bias, h0: hStart, masks: maskInput }
      const [packed, hIn, activated] = tf.engine().runKernel(gruLayerKernel, inputs, { ...attrs }) as tf.Tensor[]
      save([hIn!, activated!, u, maskInput])
      return {
        value: packed as tf.Tensor3D,
        gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
          const [hStack, gateStack, weights, savedMasks] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor, tf.Tensor3D]
          const recurrentT = directions === 1 ? weights.transpose() : weights.transpose([0, 2, 1]) // [(D,) 3H, H]
          const gradInputs = { dy, gates: gateStack, hIn: hStack, recurrentT, masks: savedMasks }
          const [dProjected, dRecurrentStack, dh0] = tf.engine().runKernel(gruLayerGradKernel, gradInputs, { ...attrs }) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor2D]
          const rows = length * batch
          if (directions === 1) {
            const dRecurrentIn = dRecurrentStack.reshape([rows, gates]) as tf.Tensor2D // [T·B, 3H]
            // Σₜ hₜ₋₁ᵀ·daₜ as one product: [H, T·B]·[T·B, 3H]
            const dRecurrent = tf.matMul(hStack.reshape([rows, hidden]), dRecurrentIn, true, false)
            return [dProjected, dRecurrent, dRecurrentIn.sum(0), dh0, tf.zerosLike(savedMasks)]
          }
          // The same per direction, as a batch of two products: [2, H, T·B]·[2, T·B, 3H]
          const dRecurrentIn = dRecurrentStack.reshape([rows, directions, gates]).transpose([1, 0, 2]) // [2, T·B, 3H]
          const dRecurrent = tf.matMul(hStack.reshape([rows, directions, hidden]).transpose([1, 0, 2]), dRecurrentIn, true, false)
          return [dProjected, dRecurrent, dRecurrentIn.sum(1), dh0.reshape(hStart.shape), tf.zerosLike(savedMasks)]
        },
      }
    }
    const steps = tf.unstack(xs) as tf.Tensor2D[] // T × [B, 3H]
    const stepMasks = masks ? (tf.unstack(maskInput) as tf.Tensor2D[]) : null // T × [B, 1]
    const hIn: tf.Tensor2D[] = new Array(length) // the state each step starts from
    const gateValues: tf.Tensor2D[] = new Array(length) // r, z, n, an
    const outputs: tf.Tensor2D[] = new Array(length)
    let h = hStart
    for (const t of order) {
      hIn[t] = h
      const a = tf.matMul(h, u).add(bias) as tf.Tensor2D // [B, 3H]
      const [hNext, activated] = tf.engine().runKernel(gruGatesKernel, { x: steps[t]!, a, h }) as [tf.Tensor2D, tf.Tensor2D]
      gateValues[t] = activated
      const m = padded[t] ? stepMasks?.[t] : undefined
      if (m) {
        h = hNext.mul(m).add(h.mul(tf.sub(1, m))) as tf.Tensor2D
        outputs[t] = h.mul(m) as tf.Tensor2D
      } else {
        h = hNext
        outputs[t] = h
      }
    }
    save([tf.stack(hIn), tf.stack(gateValues), u, maskInput])
    return {
      value: tf.concat([tf.stack(outputs), h.expandDims(0)], 0) as tf.Tensor3D, // [T + 1, B, H]
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [hStack, gateStack, weights, savedMasks] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor, tf.Tensor3D]
        const [dOutputs, dhFinal] = tf.split(dy, [length, 1], 0) as [tf.Tensor3D, tf.Tensor3D]
        const dOut = tf.unstack(dOutputs) as tf.Tensor2D[]
        const hPrev = tf.unstack(hStack) as tf.Tensor2D[]
        const gateAt = tf.unstack(gateStack) as tf.Tensor2D[]
        const maskAt = masks ? (tf.unstack(savedMasks) as tf.Tensor2D[]) : null
        let dh = dhFinal.squeeze([0]) as tf.Tensor2D // dL/dh after the step being undone
        const dx: tf.Tensor2D[] = new Array(length)
        const da: tf.Tensor2D[] = new Array(length)
        for (const t of [...order].reverse()) {
          const m = padded[t] ? maskAt?.[t] : undefined
          const dhTotal = (m ? dh.add(dOut[t]!.mul(m)) : dh.add(dOut[t]!)) as tf.Tensor2D
          // Through the mask: the cell's new state where m = 1, the carried state where m = 0.
          const dhCell = m ? (dhTotal.mul(m) as tf.Tensor2D) : dhTotal
          const [dxStep, daStep, dhDirect] = tf.engine().runKernel(gruGatesGradKernel, { dh: dhCell, gates: gateAt[t]!, h: hPrev[t]! }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D]
          dx[t] = dxStep
          da[t] = daStep
          const dhStep = dhDirect.add(tf.matMul(daStep, weights, false, true)) as tf.Tensor2D // z⊙dh' + da·Uᵀ  [B, H]
          dh = m ? (dhStep.add(dhTotal.mul(tf.sub(1, m))) as tf.Tensor2D) : dhStep
        }
        const dProjected = tf.stack(dx) as tf.Tensor3D // [T, B, 3H]
        const dRecurrentIn = (tf.stack(da) as tf.Tensor3D).reshape([length * batch, gates]) as tf.Tensor2D // [T·B, 3H]
        // Σₜ hₜ₋₁ᵀ·daₜ as one product: [H, T·B]·[T·B, 3H]
        const dRecurrent = tf.matMul(hStack.reshape([length * batch, hidden]), dRecurrentIn, true, false)
        return [dProjected, dRecurrent, dRecurrentIn.sum(0), dh, tf.zerosLike(savedMasks)]
      },
    }
  })
  const [outputs, h] = tf.tidy(() => {
    const maskInput = masks ?? tf.zeros([1, 1, 1])
    const packed = run(projected, recurrent, recurrentBias, h0, maskInput) as tf.Tensor3D
    const [all, hLast] = tf.split(packed, [length, 1], 0) as [tf.Tensor3D, tf.Tensor3D]
    return [all, hLast.squeeze([0]) as tf.Tensor2D] as const
  })
  return { outputs, final: h }
}
