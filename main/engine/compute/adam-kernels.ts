// The fused Adam update models/train/adam.ts runs where a backend has it: one pass over a parameter and its moments
// instead of ~12 element-wise kernels (each a full pass over up to 2 M floats for an 8000 × 256 embedding); on a GPU
// over all parameters at once, flattened, and the parameters written back up to fifteen per dispatch (KotobaUnflatten).
import * as tf from '@tensorflow/tfjs'
import { adamScaledUpdateKernel, adamUpdateKernel, unflattenKernel } from '../../../models/train/adam.ts'
import { cpuValues, replaceCpuKernel } from './cpu-backend.ts'
import { heapAddress, replaceWasmKernel, tensorKernels, type WasmBackendLike } from './wasm-backend.ts'
import { f32, groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo
interface AdamInputs {
  param: TensorInfo
  m: TensorInfo
  v: TensorInfo
  grad: TensorInfo
}
interface AdamAttrs {
  lr: number
  beta1: number
  beta2: number
  epsilon: number
  correction1: number
  correction2: number
  weightDecay: number
}

export function registerCpuAdamKernel(): void {
  replaceCpuKernel(adamUpdateKernel, ({ inputs, attrs }, cpu) => {
    const { param, m, v, grad } = inputs as unknown as AdamInputs
    const { lr, beta1, beta2, epsilon, correction1, correction2, weightDecay } = attrs as unknown as AdamAttrs
    const [theta, mIn, vIn, g] = [param, m, v, grad].map((info) => cpuValues(cpu, info)) as [tf.TypedArray, tf.TypedArray, tf.TypedArray, tf.TypedArray]
    const count = theta.length
    const [next, mOut, vOut] = [new Float32Array(count), new Float32Array(count), new Float32Array(count)]
    for (let i = 0; i < count; i++) {
      const gi = g[i] as number
      mOut[i] = beta1 * (mIn[i] as number) + (1 - beta1) * gi
      vOut[i] = beta2 * (vIn[i] as number) + (1 - beta2) * gi * gi
      const update = mOut[i]! / correction1 / (Math.sqrt(vOut[i]! / correction2) + epsilon)
      next[i] = (theta[i] as number) - lr * update - lr * weightDecay * (theta[i] as number)
    }
    return [next, mOut, vOut].map((array) => cpu.makeTensorInfo(param.shape, 'float32', array))
  })
}

export function registerWasmAdamKernel(): void {
  replaceWasmKernel(adamUpdateKernel, ({ inputs, backend, attrs }) => {
    const { param, m, v, grad } = inputs as unknown as AdamInputs
    const { lr, beta1, beta2, epsilon, correction1, correction2, weightDecay } = attrs as unknown as AdamAttrs
    const wasm = backend as unknown as WasmBackendLike
    const outputs = [wasm.makeOutput(param.shape, 'float32'), wasm.makeOutput(param.shape, 'float32'), wasm.makeOutput(param.shape, 'float32')]
    const address = (info: TensorInfo) => heapAddress(wasm, info)
    const [next, mOut, vOut] = outputs.map(address) as [number, number, number]
    tensorKernels(wasm).adamUpdate(
      address(param), address(m), address(v), address(grad), next, mOut, vOut, tf.util.sizeFromShape(param.shape),
      lr, beta1, beta2, epsilon, correction1, correction2, weightDecay,
    )
    return outputs
  })
}

/** The update's shader; `scaled`: the gradient is first multiplied by scale[0], the clipping factor on the device. */
function adamShader(scaled: boolean): FusedShader {
  return {
    key: scaled ? 'kotoba_adam_scaled' : 'kotoba_adam',
    code: `
${wgslBindings(['next', 'mOut', 'vOut'], ['theta', 'mIn', 'vIn', 'grad', ...(scaled ? ['scale'] : [])], 'lr : f32, beta1 : f32, beta2 : f32, epsilon : f32, correction1 : f32, correction2 : f32, weightDecay : f32, count : u32')}
${wgslEachElement}
  let g = grad[at]${scaled ? ' * scale[0]' : ''};
  let m = p.beta1 * mIn[at] + (1.0 - p.beta1) * g;
  let v = p.beta2 * vIn[at] + (1.0 - p.beta2) * g * g;
  let update = m / p.correction1 / (sqrt(v / p.correction2) + p.epsilon);
  next[at] = theta[at] - p.lr * update - p.lr * p.weightDecay * theta[at];
  mOut[at] = m;
  vOut[at] = v;
}`,
  }
}

export function registerWebGpuAdamKernel(): void {
  for (const scaled of [false, true]) {
    const shader = adamShader(scaled)
    registerWebGpuKernel(scaled ? adamScaledUpdateKernel : adamUpdateKernel, [shader], ({ inputs, attrs }, backend) => {
      const { param, m, v, grad, scale } = inputs as unknown as AdamInputs & { scale?: TensorInfo }
      const { lr, beta1, beta2, epsilon, correction1, correction2, weightDecay } = attrs as unknown as AdamAttrs
      const count = tf.util.sizeFromShape(param.shape)
      const uniforms = [f32(lr), f32(beta1), f32(beta2), f32(epsilon), f32(correction1), f32(correction2), f32(weightDecay), u32(count)]
      return runFused(backend, shader, [param, m, v, grad, ...(scale ? [scale] : [])], [param.shape, param.shape, param.shape], uniforms, groupsFor(count))
    })
  }
}

/** Outputs per unflattening dispatch at most: with the flat input, the 16 storage buffers the engine asks a device
 *  for where the adapter has them (wantedStorageBuffers in backends.ts); 7 on a device with WebGPU's default 8. */
const maxPartsPerDispatch = 15

/** Copies flat[base + at] into the part `at` falls in: part k holds [ends[k−1], ends[k]) of the dispatch's range. */
function unflattenShader(parts: number): FusedShader {
  const names = Array.from({ length: parts }, (_, k) => `part${k}`)
  const ends = names.map((_, k) => `end${k} : u32`).join(', ')
  const branches = names
    .map((name, k) => `${k === 0 ? '' : ' else '}if (at < p.end${k}) { ${name}[at${k === 0 ? '' : ` - p.end${k - 1}`}] = flat[p.base + at]; }`)
    .join('')
  return {
    key: `kotoba_unflatten_${parts}`,
    storageBuffers: parts + 1,
    code: `
${wgslBindings(names, ['flat'], `count : u32, base : u32, ${ends}`)}
${wgslEachElement}
  ${branches}
}`,
  }
}

const unflattenShaders = Array.from({ length: maxPartsPerDispatch }, (_, k) => unflattenShader(k + 1))

export function registerWebGpuUnflattenKernel(): void {
  registerWebGpuKernel(unflattenKernel, unflattenShaders, ({ inputs, attrs }, backend) => {
    const { flat } = inputs as { flat: TensorInfo }
    const { sizes } = attrs as unknown as { sizes: number[] }
    const total = sizes.reduce((sum, size) => sum + size, 0)
    if (total !== tf.util.sizeFromShape(flat.shape)) throw new Error(`unflatten: parts of ${total} values from ${tf.util.sizeFromShape(flat.shape)}`)
    const outputs: TensorInfo[] = []
    const partsPerDispatch = Math.min(maxPartsPerDispatch, backend.device.limits.maxStorageBuffersPerShaderStage - 1)
    let base = 0
    for (let first = 0; first < sizes.length; first += partsPerDispatch) {
      const group = sizes.slice(first, first + partsPerDispatch)
      const ends: number[] = []
      for (const size of group) ends.push((ends.at(-1) ?? 0) + size)
      const count = ends.at(-1)!
      const uniforms = [u32(count), u32(base), ...ends.map(u32)]
      outputs.push(...runFused(backend, unflattenShaders[group.length - 1]!, [flat], group.map((size) => [size]), uniforms, groupsFor(count)))
      base += count
    }
    return outputs
  })
}
