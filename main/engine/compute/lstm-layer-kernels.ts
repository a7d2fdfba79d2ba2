// A whole LSTM layer on the webgpu backend (models/rnn/lstm-sequence.ts runs it where registered): the time loop
// records one dispatch per step forward — recurrent product, gates, masking and state carry in one shader — and two
// per step backward, instead of ~10 stock dispatches per step each way; both halves of a bidirectional layer share
// each step's dispatches. The per-step arithmetic is lstm-kernels.ts's
// gate shaders' and lstm-sequence.ts's masking, in the same order, so results match the step-by-step layer.
import * as tf from '@tensorflow/tfjs'
import { lstmLayerGradKernel, lstmLayerKernel, type LstmLayerAttrs } from '../../../models/rnn/lstm-sequence.ts'
import { stepParams, stepUniforms, wgslDirections, wgslDirectionThread, wgslLstmCell, wgslLstmCellGrad } from './layer-steps.ts'
import { dispatchLoop, groupsFor, registerWebGpuKernel, wgslBindings, wgslEachElement, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

// With D directions (layer-steps.ts), a (t, b, d) row of cells holds the c the step starts from at 0, the gates at
// H + q·H, c' at 5H; xs and dz hold 4H per (t, b, d).

/**
 * One forward step at time p.t, one thread per (d, b, j): z = x[t] + h·U, the gates, c' and h', then the masked carry.
 * The state a step starts from is hIn[t] and cells' c (h0/c0 at the first step, copied there for the backward pass);
 * it writes the next step's (time p.next), or the final state into packed's last two slabs.
 */
const forwardStepShader: FusedShader = {
  key: 'kotoba_lstm_layer_step',
  looped: true,
  code: `
${wgslBindings(['packed', 'hIn', 'cells'], ['xs', 'u', 'h0', 'c0', 'masks'], stepParams)}
${wgslDirections}
${wgslLstmCell}
${wgslEachElement}
${wgslDirectionThread}
  let here = stateAt(t, b, d, j);
  let zAt = rowAt(t, b, d, 4u * H) + j;
  let cellAt = rowAt(t, b, d, 6u * H) + j;
  let uAt = d * H * 4u * H + j;
  var ri = 0.0; var rf = 0.0; var rg = 0.0; var ro = 0.0;
  var hPrev : f32;
  var cPrev : f32;
  if (p.first == 1u) {
    let row = (d * p.batch + b) * H;
    for (var k = 0u; k < H; k++) {
      let hk = h0[row + k];
      let w = uAt + k * 4u * H;
      ri += hk * u[w]; rf += hk * u[w + H]; rg += hk * u[w + 2u * H]; ro += hk * u[w + 3u * H];
    }
    hPrev = h0[at];
    cPrev = c0[at];
    hIn[here] = hPrev;
    cells[cellAt] = cPrev;
  } else {
    let row = stateAt(t, b, d, 0u);
    for (var k = 0u; k < H; k++) {
      let hk = hIn[row + k];
      let w = uAt + k * 4u * H;
      ri += hk * u[w]; rf += hk * u[w + H]; rg += hk * u[w + 2u * H]; ro += hk * u[w + 3u * H];
    }
    hPrev = hIn[here];
    cPrev = cells[cellAt];
  }
  let cell = lstmCell(vec4<f32>(xs[zAt] + ri, xs[zAt + H] + rf, xs[zAt + 2u * H] + rg, xs[zAt + 3u * H] + ro), cPrev, cellAt, H);
  let hn = cell.x;
  let cn = cell.y;
  let m = select(1.0, masks[t * p.batch + b], p.masked == 1u);
  let hNew = hn * m + hPrev * (1.0 - m);
  let cNew = cn * m + cPrev * (1.0 - m);
  packed[here] = hNew * m;
  if (p.last == 1u) {
    packed[stateAt(p.steps, b, d, j)] = hNew;
    packed[stateAt(p.steps + 1u, b, d, j)] = cNew;
  } else {
    let next = directionTime(d, p.next);
    hIn[stateAt(next, b, d, j)] = hNew;
    cells[rowAt(next, b, d, 6u * H) + j] = cNew;
  }
}`,
}

/**
 * Backward through the step at time p.t, first half, one thread per (d, b, j): the gates' gradient dz[t] and the
 * carried dc (state[1]); the part of dh that skips a padded step goes to `keep`. The running dh/dc start from dy's
 * last two slabs (the final state's gradient).
 */
const backwardGatesShader: FusedShader = {
  key: 'kotoba_lstm_layer_grad_gates',
  looped: true,
  code: `
${wgslBindings(['dz', 'state', 'keep'], ['dy', 'cells', 'masks'], stepParams)}
${wgslDirections}
${wgslLstmCellGrad}
${wgslEachElement}
${wgslDirectionThread}
  let here = stateAt(t, b, d, j);
  var dh : f32;
  var dc : f32;
  if (p.first == 1u) {
    dh = dy[stateAt(p.steps, b, d, j)];
    dc = dy[stateAt(p.steps + 1u, b, d, j)];
  } else {
    dh = state[at];
    dc = state[p.count + at];
  }
  let m = select(1.0, masks[t * p.batch + b], p.masked == 1u);
  let dhTotal = dh + dy[here] * m;
  let dhCell = dhTotal * m;
  let dcCell = dc * m;
  let grad = lstmCellGrad(dhCell, dcCell, rowAt(t, b, d, 6u * H) + j, H);
  let zi = rowAt(t, b, d, 4u * H) + j;
  dz[zi] = grad.dz.x;
  dz[zi + H] = grad.dz.y;
  dz[zi + 2u * H] = grad.dz.z;
  dz[zi + 3u * H] = grad.dz.w;
  state[p.count + at] = grad.dcPrev + dc * (1.0 - m);
  keep[at] = dhTotal * (1.0 - m);
}`,
}

/** Backward through the step at time p.t, second half: dh = dz[t]·Uᵀ + keep (state[0]); Uᵀ [D, 4H, H] is read a row per k, adjacent threads adjacent floats. */
const backwardRecurrentShader: FusedShader = {
  key: 'kotoba_lstm_layer_grad_recurrent',
  looped: true,
  code: `
${wgslBindings(['state'], ['dz', 'uT', 'keep'], stepParams)}
${wgslDirections}
${wgslEachElement}
${wgslDirectionThread}
  let G = 4u * H;
  let row = rowAt(t, b, d, 4u * H);
  let uAt = d * G * H + j;
  var acc = 0.0;
  for (var k = 0u; k < G; k++) { acc += dz[row + k] * uT[uAt + k * H]; }
  state[at] = acc + keep[at];
}`,
}

export function registerWebGpuLstmLayerKernels(): void {
  registerWebGpuKernel(lstmLayerKernel, [forwardStepShader], ({ inputs, attrs }, backend) => {
    const { projected, recurrent, h0, c0, masks } = inputs as Record<'projected' | 'recurrent' | 'h0' | 'c0' | 'masks', TensorInfo>
    const layer = attrs as unknown as LstmLayerAttrs
    const [steps, batch, gateWidth] = projected.shape as [number, number, number]
    const { directions } = layer
    const hidden = gateWidth / (4 * directions)
    const made = [[steps + 2, batch, directions * hidden], [steps, batch, directions * hidden], [steps, batch, directions * 6 * hidden]].map((shape) => backend.makeTensorInfo(shape, 'float32'))
    const uniforms = stepUniforms({ steps, batch, hidden, directions }, layer, false)
    dispatchLoop(backend, steps, [{ shader: forwardStepShader, outputs: made, inputs: [projected, recurrent, h0, c0, masks], groups: groupsFor(directions * batch * hidden), uniformsAt: (k) => uniforms[k]! }])
    return made
  })
  registerWebGpuKernel(lstmLayerGradKernel, [backwardGatesShader, backwardRecurrentShader], ({ inputs, attrs }, backend) => {
    const { dy, cells, recurrentT, masks } = inputs as Record<'dy' | 'cells' | 'recurrentT' | 'masks', TensorInfo>
    const layer = attrs as unknown as LstmLayerAttrs
    const [steps, batch, cellWidth] = cells.shape as [number, number, number]
    const { directions } = layer
    const hidden = cellWidth / (6 * directions)
    const count = directions * batch * hidden
    const dz = backend.makeTensorInfo([steps, batch, directions * 4 * hidden], 'float32')
    const state = backend.makeTensorInfo([2, directions * batch, hidden], 'float32')
    const keep = backend.makeTensorInfo([count], 'float32')
    const groups = groupsFor(count)
    const uniforms = stepUniforms({ steps, batch, hidden, directions }, layer, true)
    const uniformsAt = (k: number) => uniforms[k]!
    dispatchLoop(backend, steps, [
      { shader: backwardGatesShader, outputs: [dz, state, keep], inputs: [dy, cells, masks], groups, uniformsAt },
      { shader: backwardRecurrentShader, outputs: [state], inputs: [dz, recurrentT, keep], groups, uniformsAt },
    ])
    backend.disposeData(keep.dataId)
    return [dz, state]
  })
}
