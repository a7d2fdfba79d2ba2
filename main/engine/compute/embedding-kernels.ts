// The embedding gradient models/layers/embedding.ts takes on a GPU: zero the [vocab, dim] table, then add each dy
// row into its id's row with an atomic float add (WGSL has integer atomics only: compare-and-swap on the bits).
// Two dispatches, in the table's own layout; tfjs's UnsortedSegmentSum transposes dy and the table around them.
// Also the Transformer's input (models/transformer/input-embedding.ts): lookup, scale, positions and dropout in one
// dispatch, whose gradient is this one with the scale and the dropout mask applied as dy is added.
import * as tf from '@tensorflow/tfjs'
import { embeddingGradKernel, type EmbeddingGradAttrs } from '../../../models/layers/embedding.ts'
import { inputEmbeddingKernel, type InputEmbeddingAttrs } from '../../../models/transformer/input-embedding.ts'
import { dropoutParams, dropoutUniforms, wgslKeepFactor } from './dropout-kernels.ts'
import { f32, groupsFor, registerWebGpuKernel, runFused, dispatchInto, u32, wgslBindings, wgslEachElement, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

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
${wgslBindings(['table:atomic<u32>'], ['dy', 'ids:i32'], `count : u32, dim : u32, vocab : u32, scale : f32, ${dropoutParams}`)}
${wgslKeepFactor}
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
  let factor = p.scale * keepFactor(at);
  if (factor == 0.0) { return; }
  addTo(u32(id) * p.dim + at % p.dim, dy[at] * factor);
}`,
}

// y[n, j] = (E[ids[n], j] · scale + PE[offset + n mod length, j]) · dropout factor; an id outside the table reads 0.
const inputShader: FusedShader = {
  key: 'kotoba_input_embedding',
  code: `
${wgslBindings(['y'], ['table', 'ids:i32', 'positions'], `count : u32, dim : u32, vocab : u32, scale : f32, ${dropoutParams}, length : u32, offset : u32`)}
${wgslKeepFactor}
${wgslEachElement}
  let row = at / p.dim;
  let j = at % p.dim;
  let id = ids[row];
  var looked = 0.0;
  if (id >= 0 && u32(id) < p.vocab) { looked = table[u32(id) * p.dim + j]; }
  let position = p.offset + row % p.length;
  y[at] = (looked * p.scale + positions[position * p.dim + j]) * keepFactor(at);
}`,
}

/** The uniforms the scatter and the input shader share after count and dim. */
function scaleAndDropout({ vocab, scale, rate, seed }: EmbeddingGradAttrs) {
  return [u32(vocab), f32(scale), ...dropoutUniforms(rate, seed)]
}

export function registerWebGpuEmbeddingGradKernel(): void {
  registerWebGpuKernel(embeddingGradKernel, [zeroShader, scatterShader], ({ inputs, attrs }, backend) => {
    const { dy, ids } = inputs as { dy: TensorInfo; ids: TensorInfo }
    const gradAttrs = attrs as unknown as EmbeddingGradAttrs
    const [rows, dim] = dy.shape as [number, number]
    const vocab = gradAttrs.vocab
    const [table] = runFused(backend, zeroShader, [], [[vocab, dim]], [u32(vocab * dim)], groupsFor(vocab * dim))
    dispatchInto(backend, scatterShader, [table!], [dy, ids], [u32(rows * dim), u32(dim), ...scaleAndDropout(gradAttrs)], groupsFor(rows * dim))
    return table!
  })
  registerWebGpuKernel(inputEmbeddingKernel, [inputShader], ({ inputs, attrs }, backend) => {
    const { table, ids, positions } = inputs as { table: TensorInfo; ids: TensorInfo; positions: TensorInfo }
    const inputAttrs = attrs as unknown as InputEmbeddingAttrs
    const dim = table.shape[1]!
    const rows = ids.shape[0]!
    if (inputAttrs.offset + inputAttrs.length > positions.shape[0]!) throw new Error(`input embedding: positions up to ${inputAttrs.offset + inputAttrs.length} exceed the table's ${positions.shape[0]}`)
    const uniforms = [u32(rows * dim), u32(dim), ...scaleAndDropout(inputAttrs), u32(inputAttrs.length), u32(inputAttrs.offset)]
    return runFused(backend, inputShader, [table, ids, positions], [[rows, dim]], uniforms, groupsFor(rows * dim))[0]!
  })
}
