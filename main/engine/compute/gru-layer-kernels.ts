// A whole GRU layer on the webgpu backend (models/rnn/gru-sequence.ts runs it where registered): one dispatch per
// time step forward — recurrent product, gates, masking and carry in one shader — and two per step backward; both
// halves of a bidirectional layer share each step's dispatches. The
// per-step arithmetic is gru-kernels.ts's gate shaders' and gru-sequence.ts's masking, in the same order.
import * as tf from '@tensorflow/tfjs'
import { gruLayerGradKernel, gruLayerKernel, type GruLayerAttrs } from '../../../models/rnn/gru-sequence.ts'
import { stepParams, stepUniforms, wgslDirections, wgslDirectionThread, wgslGruCell, wgslGruCellGrad } from './layer-steps.ts'
import { dispatchLoop, groupsFor, registerWebGpuKernel, wgslBindings, wgslEachElement, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

// With D directions (layer-steps.ts): xs, dx and da hold 3H per (t, b, d), gates 4H (r, z, n, an); bias [D, 3H].

/**
 * One forward step at time p.t, one thread per (d, b, j): a = h·U + b_U, the gates and h', then the masked carry.
 * The h a step starts from is hIn[t] (h0 at the first step, copied there for the backward pass); it writes the next
 * step's hIn[p.next], or the final h into packed's last slab.
 */
const forwardStepShader: FusedShader = {
  key: 'kotoba_gru_layer_step',
  looped: true,
  code: `
${wgslBindings(['packed', 'hIn', 'gates'], ['xs', 'u', 'bias', 'h0', 'masks'], stepParams)}
${wgslDirections}
${wgslGruCell}
${wgslEachElement}
${wgslDirectionThread}
  let here = stateAt(t, b, d, j);
  let uAt = d * H * 3u * H + j;
  var ar = 0.0; var az = 0.0; var an = 0.0;
  var hPrev : f32;
  if (p.first == 1u) {
    let row = (d * p.batch + b) * H;
    for (var k = 0u; k < H; k++) {
      let hk = h0[row + k];
      let w = uAt + k * 3u * H;
      ar += hk * u[w]; az += hk * u[w + H]; an += hk * u[w + 2u * H];
    }
    hPrev = h0[at];
    hIn[here] = hPrev;
  } else {
    let row = stateAt(t, b, d, 0u);
    for (var k = 0u; k < H; k++) {
      let hk = hIn[row + k];
      let w = uAt + k * 3u * H;
      ar += hk * u[w]; az += hk * u[w + H]; an += hk * u[w + 2u * H];
    }
    hPrev = hIn[here];
  }
  let biasAt = d * 3u * H + j;
  ar += bias[biasAt];
  az += bias[biasAt + H];
  an += bias[biasAt + 2u * H];
  let in3 = rowAt(t, b, d, 3u * H) + j;
  let hn = gruCell(vec3<f32>(xs[in3], xs[in3 + H], xs[in3 + 2u * H]), vec3<f32>(ar, az, an), hPrev, rowAt(t, b, d, 4u * H) + j, H);
  let m = select(1.0, masks[t * p.batch + b], p.masked == 1u);
  let hNew = hn * m + hPrev * (1.0 - m);
  packed[here] = hNew * m;
  if (p.last == 1u) {
    packed[stateAt(p.steps, b, d, j)] = hNew;
  } else {
    hIn[stateAt(directionTime(d, p.next), b, d, j)] = hNew;
  }
}`,
}

/**
 * Backward through the step at time p.t, first half, one thread per (d, b, j): the gates' gradients dx[t] and da[t];
 * the direct path z⊙dh' goes to keep[0] and the part of dh that skips a padded step to keep[1]. The running dh
 * (state) starts from dy's last slab (the final h's gradient).
 */
const backwardGatesShader: FusedShader = {
  key: 'kotoba_gru_layer_grad_gates',
  looped: true,
  code: `
${wgslBindings(['dx', 'da', 'keep'], ['dy', 'gates', 'hIn', 'masks', 'state'], stepParams)}
${wgslDirections}
${wgslGruCellGrad}
${wgslEachElement}
${wgslDirectionThread}
  let here = stateAt(t, b, d, j);
  var dh : f32;
  if (p.first == 1u) { dh = dy[stateAt(p.steps, b, d, j)]; } else { dh = state[at]; }
  let m = select(1.0, masks[t * p.batch + b], p.masked == 1u);
  let dhTotal = dh + dy[here] * m;
  let dCell = dhTotal * m;
  let in3 = rowAt(t, b, d, 3u * H) + j;
  let grad = gruCellGrad(dCell, hIn[here], rowAt(t, b, d, 4u * H) + j, H);
  dx[in3] = grad.dx.x;
  da[in3] = grad.da.x;
  dx[in3 + H] = grad.dx.y;
  da[in3 + H] = grad.da.y;
  dx[in3 + 2u * H] = grad.dx.z;
  da[in3 + 2u * H] = grad.da.z;
  keep[at] = grad.dhDirect;
  keep[p.count + at] = dhTotal * (1.0 - m);
}`,
}

/** Backward through the step at time p.t, second half: dh = (z⊙dh' + da[t]·Uᵀ) + the skipped part; Uᵀ [D, 3H, H] as in the LSTM's. */
const backwardRecurrentShader: FusedShader = {
  key: 'kotoba_gru_layer_grad_recurrent',
  looped: true,
  code: `
${wgslBindings(['state'], ['da', 'uT', 'keep'], stepParams)}
${wgslDirections}
${wgslEachElement}
${wgslDirectionThread}
  let G = 3u * H;
  let row = rowAt(t, b, d, G);
  let uAt = d * G * H + j;
  var acc = 0.0;
  for (var k = 0u; k < G; k++) { acc += da[row + k] * uT[uAt + k * H]; }
  state[at] = (keep[at] + acc) + keep[p.count + at];
}`,
}

export function registerWebGpuGruLayerKernels(): void {
  registerWebGpuKernel(gruLayerKernel, [forwardStepShader], ({ inputs, attrs }, backend) => {
    const { projected, recurrent, recurrentBias, h0, masks } = inputs as Record<'projected' | 'recurrent' | 'recurrentBias' | 'h0' | 'masks', TensorInfo>
    const layer = attrs as unknown as GruLayerAttrs
    const [steps, batch, gateWidth] = projected.shape as [number, number, number]
    const { directions } = layer
    const hidden = gateWidth / (3 * directions)
    const made = [[steps + 1, batch, directions * hidden], [steps, batch, directions * hidden], [steps, batch, directions * 4 * hidden]].map((shape) => backend.makeTensorInfo(shape, 'float32'))
    const uniforms = stepUniforms({ steps, batch, hidden, directions }, layer, false)
    dispatchLoop(backend, steps, [{ shader: forwardStepShader, outputs: made, inputs: [projected, recurrent, recurrentBias, h0, masks], groups: groupsFor(directions * batch * hidden), uniformsAt: (k) => uniforms[k]! }])
    return made
  })
  registerWebGpuKernel(gruLayerGradKernel, [backwardGatesShader, backwardRecurrentShader], ({ inputs, attrs }, backend) => {
    const { dy, gates, hIn, recurrentT, masks } = inputs as Record<'dy' | 'gates' | 'hIn' | 'recurrentT' | 'masks', TensorInfo>
    const layer = attrs as unknown as GruLayerAttrs
    const { directions } = layer
    const [steps, batch, stateWidth] = hIn.shape as [number, number, number]
    const hidden = stateWidth / directions
    const count = directions * batch * hidden
    const [dx, da] = [0, 1].map(() => backend.makeTensorInfo([steps, batch, directions * 3 * hidden], 'float32')) as [TensorInfo, TensorInfo]
    const state = backend.makeTensorInfo([directions * batch, hidden], 'float32')
    const keep = backend.makeTensorInfo([2, count], 'float32')
    const groups = groupsFor(count)
    const uniforms = stepUniforms({ steps, batch, hidden, directions }, layer, true)
    const uniformsAt = (k: number) => uniforms[k]!
    dispatchLoop(backend, steps, [
      { shader: backwardGatesShader, outputs: [dx, da, keep], inputs: [dy, gates, hIn, masks, state], groups, uniformsAt },
      { shader: backwardRecurrentShader, outputs: [state], inputs: [da, recurrentT, keep], groups, uniformsAt },
    ])
    backend.disposeData(keep.dataId)
    return [dx, da, state]
  })
}
