// The embedding gradient models/layers/embedding.ts takes on a GPU: zero the [vocab, dim] table, then add each dy
// row into its id's row with an atomic float add (WGSL has integer atomics only: compare-and-swap on the bits).
// Two dispatches, in the table's own layout; tfjs's UnsortedSegmentSum transposes dy and the table around them.
import * as tf from '@tensorflow/tfjs'
import { embeddingGradKernel } from '../../../models/layers/embedding.ts'
import { groupsFor, registerWebGpuKernel, runFused, dispatchInto, u32, wgslBindings, wgslEachElement, type FusedShader } from './webgpu-backend.ts'

const zeroShader: FusedShader = {
  key: 'kotoba_embedding_grad_zero',
  code: `
${wgslBindings(['table'], [], 'count : u32')}
${wgslEachElement}
  table[at] = 0.0;
}`,
}

const scatterShader: FusedShader = {
  key: 'kotoba_embedding_grad_scatter',
  code: `
${wgslBindings(['table:atomic<u32>'], ['dy', 'ids:i32'], 'count : u32, dim : u32, vocab : u32')}
fn addTo(at : u32, value : f32) {
  var old = atomicLoad(&table[at]);
  loop {
    let swapped = atomicCompareExchangeWeak(&table[at], old, bitcast<u32>(bitcast<f32>(old) + value));
    if (swapped.exchanged) { break; }
    old = swapped.old_value;
  }
}
${wgslEachElement}
  let id = ids[at / p.dim];
  if (id < 0 || u32(id) >= p.vocab) { return; }
  addTo(u32(id) * p.dim + at % p.dim, dy[at]);
}`,
}

export function registerWebGpuEmbeddingGradKernel(): void {
  registerWebGpuKernel(embeddingGradKernel, [zeroShader, scatterShader], ({ inputs, attrs }, backend) => {
    const { dy, ids } = inputs as { dy: tf.TensorInfo; ids: tf.TensorInfo }
    const { vocab } = attrs as unknown as { vocab: number }
    const [rows, dim] = dy.shape as [number, number]
    const [table] = runFused(backend, zeroShader, [], [[vocab, dim]], [u32(vocab * dim)], groupsFor(vocab * dim))
    dispatchInto(backend, scatterShader, [table!], [dy, ids], [u32(rows * dim), u32(dim), u32(vocab)], groupsFor(rows * dim))
    return table!
  })
}
