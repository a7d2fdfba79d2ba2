import * as tf from '@tensorflow/tfjs'
import { selectBackend } from '../main/engine/compute/backends.ts'
import { largestBuffer, type WebGpuBackendLike } from '../main/engine/compute/webgpu-memory.ts'
process.env.VK_ICD_FILENAMES ||= '/usr/lib/chromium/vk_swiftshader_icd.json'
await selectBackend('webgpu')
const backend = tf.backend() as unknown as WebGpuBackendLike
const largest = largestBuffer(backend.device.limits, 0x80)
const weights = tf.variable(tf.randomNormal([4, 32768]))
const rows = Math.floor(largest / (4 * 32768)) + 1
const half = tf.ones([rows >> 1, 4]) as tf.Tensor2D
const time = async (label: string, f: () => tf.Tensor) => {
  const t0 = performance.now()
  const out = tf.tidy(f)
  await out.data()
  out.dispose()
  console.log(label, ((performance.now() - t0) / 1000).toFixed(1), 's')
}
await time('matmul+slice', () => tf.matMul(half, weights).slice([0, 0], [1, 1]))
await time('matmul+mean', () => tf.matMul(half, weights).mean())
await time('grad of mean', () => tf.grad((w: tf.Tensor) => tf.matMul(half, w as tf.Tensor2D).mean())(weights))
await time('dW direct', () => tf.matMul(half, tf.ones([rows >> 1, 32768]), true, false))
