// The fused "Add & Norm" models/layers/add-norm.ts runs on the webgpu backend: h = x + dropout(s) is recomputed from
// x, s and the dropout seed wherever it is needed (never stored), then layer norm over each row of h — forward one
// workgroup per row; backward dx and ds per row, then dγ and dβ one thread per column.
import * as tf from '@tensorflow/tfjs'
import { addNormGradKernel, addNormKernel, type AddNormAttrs } from '../../../models/layers/add-norm.ts'
import { dropoutParams, dropoutUniforms, wgslKeepFactor } from './dropout-kernels.ts'
import { wgslNormalizeRow, wgslNormGradRow } from './layer-norm-kernels.ts'
import { f32, groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, wgslEachRow, wgslWorkgroupReductions, workgroupSize, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

const addNormParams = `rows : u32, dim : u32, count : u32, epsilon : f32, ${dropoutParams}`

/** The dropout factor of s's element `at`, and h = x + dropout(s) there. */
const wgslResidual = `${wgslKeepFactor}
fn residualAt(at : u32) -> f32 { return x[at] + s[at] * keepFactor(at); }
`

const forwardShader: FusedShader = {
  key: 'kotoba_add_norm',
  code: `${wgslWorkgroupReductions}
${wgslBindings(['y', 'means', 'invStds'], ['x', 's', 'gamma', 'beta'], addNormParams)}
${wgslResidual}
${wgslEachRow}
${wgslNormalizeRow((at) => `residualAt(${at})`)}
}`,
}

// dh = 1/σ (dy·γ − mean(dy·γ) − ĥ · mean(dy·γ·ĥ)); dx = dh, ds = dh · keep.
const rowsGradShader: FusedShader = {
  key: 'kotoba_add_norm_grad',
  code: `${wgslWorkgroupReductions}
${wgslBindings(['dx', 'ds'], ['dy', 'x', 's', 'gamma', 'means', 'invStds'], addNormParams)}
${wgslResidual}
${wgslEachRow}
${wgslNormGradRow((at) => `residualAt(${at})`, 'dx[start + j] = dh;\n    ds[start + j] = dh * keepFactor(start + j);')}
}`,
}

const paramGradShader: FusedShader = {
  key: 'kotoba_add_norm_param_grad',
  code: `
${wgslBindings(['dGamma', 'dBeta'], ['dy', 'x', 's', 'means', 'invStds'], addNormParams)}
${wgslResidual}
${wgslEachElement}
  var g = 0.0;
  var b = 0.0;
  for (var row = 0u; row < p.rows; row = row + 1u) {
    let d = dy[row * p.dim + at];
    g = g + d * (residualAt(row * p.dim + at) - means[row]) * invStds[row];
    b = b + d;
  }
  dGamma[at] = g;
  dBeta[at] = b;
}`,
}

function uniformsOf(x: TensorInfo, attrs: AddNormAttrs, count: number) {
  const [rows, dim] = x.shape as [number, number]
  return [u32(rows), u32(dim), u32(count), f32(attrs.epsilon), ...dropoutUniforms(attrs.rate, attrs.seed)]
}

export function registerWebGpuAddNormKernels(): void {
  registerWebGpuKernel(addNormKernel, [forwardShader], ({ inputs, attrs }, backend) => {
    const { x, s, gamma, beta } = inputs as Record<'x' | 's' | 'gamma' | 'beta', TensorInfo>
    const [rows] = x.shape as [number, number]
    return runFused(backend, forwardShader, [x, s, gamma, beta], [x.shape, [rows], [rows]], uniformsOf(x, attrs as unknown as AddNormAttrs, rows), rows)
  })
  registerWebGpuKernel(addNormGradKernel, [rowsGradShader, paramGradShader], ({ inputs, attrs }, backend) => {
    const { dy, x, s, gamma, mean, invStd } = inputs as Record<'dy' | 'x' | 's' | 'gamma' | 'mean' | 'invStd', TensorInfo>
    const [rows, dim] = x.shape as [number, number]
    const layer = attrs as unknown as AddNormAttrs
    const [dx, ds] = runFused(backend, rowsGradShader, [dy, x, s, gamma, mean, invStd], [x.shape, x.shape], uniformsOf(x, layer, rows), rows)
    const [dGamma, dBeta] = runFused(backend, paramGradShader, [dy, x, s, mean, invStd], [[dim], [dim]], uniformsOf(x, layer, dim), groupsFor(dim))
    return [dx!, ds!, dGamma!, dBeta!]
  })
}
