// The bias gradient models/layers/linear.ts takes on a GPU: the column sums of dy [N, D] in one dispatch, one thread
// per column (tfjs's sum over the leading axis transposes dy first, a second full pass).
import * as tf from '@tensorflow/tfjs'
import { columnSumKernel } from '../../../models/layers/linear.ts'
import { groupsFor, registerWebGpuKernel, runFused, u32, wgslBindings, wgslEachElement, type FusedShader } from './webgpu-backend.ts'

const columnSumShader: FusedShader = {
  key: 'kotoba_column_sum',
  code: `
${wgslBindings(['sums'], ['x'], 'rows : u32, count : u32')}
${wgslEachElement}
  var total = 0.0;
  for (var row = 0u; row < p.rows; row++) { total = total + x[row * p.count + at]; }
  sums[at] = total;
}`,
}

export function registerWebGpuColumnSumKernel(): void {
  registerWebGpuKernel(columnSumKernel, [columnSumShader], ({ inputs }, backend) => {
    const { x } = inputs as { x: tf.TensorInfo }
    const [rows, columns] = x.shape as [number, number]
    return runFused(backend, columnSumShader, [x], [[columns]], [u32(rows), u32(columns)], groupsFor(columns))[0]!
  })
}
