// The affine layer models/layers/affine.ts runs on the webgpu backend, as tiled matrix products (32×32 output tiles
// in workgroup memory, 4×4 outputs per thread) with the rest folded in:
// - forward, one dispatch: y = dropout(act(x·W + b)), the bias, the activation (ReLU or tanh) and the dropout mask
//   applied as each tile is written;
// - backward, one dispatch for dx = dz·Wᵀ and dW = xᵀ·dz together (the first workgroups take dx's tiles, the rest
//   dW's), with dz = dy · act'(z) · mask read on the fly from dy and y (ReLU: kept units with z > 0 are exactly y > 0;
//   tanh: 1 − y²), and
//   db = Σ_rows dz summed by dW's first row of tiles from the dz tiles they load anyway.
// The products, the bias's column sum, the activation's and dropout's derivatives were 4–6 dispatches as ops.
import * as tf from '@tensorflow/tfjs'
import { affineGradKernel, affineKernel, projectionsGradKernel, projectionsKernel, type AffineAttrs } from '../../../models/layers/affine.ts'
import { dropoutParams, dropoutUniforms, wgslKeepFactor } from './dropout-kernels.ts'
import { dispatchInto, f32, registerWebGpuKernel, runFused, u32, wgslBindings, type FusedShader } from './webgpu-backend.ts'

type TensorInfo = tf.TensorInfo

/** The side of an output tile and the depth of one step through the shared dimension. */
const tile = 32
const tilesOver = (length: number) => Math.ceil(length / tile)

/**
 * The tile product every shader here shares. The shader defines (wgslOperands) loadA(job, row, k) and loadB(job, k, column), zero outside
 * the matrices, and aRowMajor(job) / bRowMajor(job), which index runs along memory, so that neighbouring threads load
 * neighbouring addresses. Thread (tx, ty) of the 8×8 accumulates rows ty + 8i and columns tx + 8j of the tile; with
 * `sumB` true, threads 0–31 also sum column `lane` of B over the whole depth (a bias gradient), with `sumA` row `lane` of A.
 */
const wgslTileProduct = `
const TILE = ${tile}u;
const A_STRIDE = ${tile + 1}u; // a padded row: threads reading one column of A hit different banks
var<workgroup> tileA : array<f32, ${tile * (tile + 1)}>;
var<workgroup> tileB : array<f32, ${tile * tile}>;
var<private> edgeSum = 0.0;

fn tileProduct(job : u32, lane : u32, row0 : u32, col0 : u32, depth : u32, sumA : bool, sumB : bool) -> array<vec4<f32>, 4> {
  var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  let tx = lane % 8u;
  let ty = lane / 8u;
  for (var k0 = 0u; k0 < depth; k0 = k0 + TILE) {
    for (var e = lane; e < TILE * TILE; e = e + 64u) {
      let major = e / TILE;
      let minor = e % TILE;
      if (aRowMajor(job)) { tileA[major * A_STRIDE + minor] = loadA(job, row0 + major, k0 + minor); }
      else { tileA[minor * A_STRIDE + major] = loadA(job, row0 + minor, k0 + major); }
      if (bRowMajor(job)) { tileB[major * TILE + minor] = loadB(job, k0 + major, col0 + minor); }
      else { tileB[minor * TILE + major] = loadB(job, k0 + minor, col0 + major); }
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE; k = k + 1u) {
      let b = vec4<f32>(tileB[k * TILE + tx], tileB[k * TILE + tx + 8u], tileB[k * TILE + tx + 16u], tileB[k * TILE + tx + 24u]);
      for (var i = 0u; i < 4u; i = i + 1u) { acc[i] = acc[i] + tileA[(ty + 8u * i) * A_STRIDE + k] * b; }
    }
    if (lane < TILE && (sumA || sumB)) {
      for (var k = 0u; k < TILE; k = k + 1u) {
        if (sumB) { edgeSum = edgeSum + tileB[k * TILE + lane]; } else { edgeSum = edgeSum + tileA[lane * A_STRIDE + k]; }
      }
    }
    workgroupBarrier();
  }
  return acc;
}
`

/** The entry point of a tiled shader (`group` the flat workgroup), and the corner of its output tile. */
const wgslTileEntry = `@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid : vec3<u32>, @builtin(workgroup_id) wid : vec3<u32>, @builtin(num_workgroups) groups : vec3<u32>) {
  var group = flatGroup(wid, groups);`
const wgslTileStart = `
  let row0 = (group / p.tileColumns) * TILE;
  let col0 = (group % p.tileColumns) * TILE;`
/** Writes the thread's 4×4 outputs of the tile at (row0, col0) with the statement `store` (row, column, acc[i][j]) within rows × columns. */
const wgslStoreTile = (rows: string, columns: string, store: string) => `
  for (var i = 0u; i < 4u; i = i + 1u) {
    let row = row0 + lid.x / 8u + 8u * i;
    for (var j = 0u; j < 4u; j = j + 1u) {
      let column = col0 + lid.x % 8u + 8u * j;
      if (row < ${rows} && column < ${columns}) { ${store} }
    }
  }`

/** An operand of wgslTileProduct: `rowMajor` (WGSL, may read job) whether its second index runs along memory, `inside`
 *  the bounds test, `load` the statements returning the element inside them. */
interface Operand {
  rowMajor: string
  inside: string
  load: string
}
/** loadA(job, row, k) and loadB(job, k, column), zero outside the matrices, and which way each runs in memory. */
function wgslOperands(a: Operand, b: Operand): string {
  return `fn aRowMajor(job : u32) -> bool { return ${a.rowMajor}; }
fn bRowMajor(job : u32) -> bool { return ${b.rowMajor}; }
fn loadA(job : u32, row : u32, k : u32) -> f32 {
  if (!(${a.inside})) { return 0.0; }
  ${a.load}
}
fn loadB(job : u32, k : u32, column : u32) -> f32 {
  if (!(${b.inside})) { return 0.0; }
  ${b.load}
}`
}

/** The activations as the shaders number them. */
const activations = { linear: 0, relu: 1, tanh: 2 } as const

const affineParams = `rows : u32, inSize : u32, outSize : u32, tileColumns : u32, activation : u32, hasBias : u32, ${dropoutParams}, weightsTransposed : u32`

// y [rows, out] = x [rows, in] · W + b: W [in, out], or Eᵀ for E [out, in].
const forwardShader: FusedShader = {
  key: 'kotoba_affine',
  code: `
${wgslBindings(['y'], ['x', 'w', 'b'], affineParams)}
${wgslKeepFactor}
/** Bias, activation and dropout of output element \`at\` (in \`column\`). */
fn epilogue(at : u32, column : u32, product : f32) -> f32 {
  var value = product;
  if (p.hasBias != 0u) { value = value + b[column]; }
  if (p.activation == 1u) { value = max(value, 0.0); }
  if (p.activation == 2u) { value = safeTanh(value); }
  return value * keepFactor(at);
}
${wgslOperands(
  { rowMajor: 'true', inside: 'row < p.rows && k < p.inSize', load: 'return x[row * p.inSize + k];' },
  { rowMajor: 'p.weightsTransposed == 0u', inside: 'k < p.inSize && column < p.outSize', load: 'if (p.weightsTransposed == 0u) { return w[k * p.outSize + column]; }\n  return w[column * p.inSize + k];' },
)}
${wgslTileProduct}
${wgslTileEntry}
${wgslTileStart}
  if (row0 >= p.rows) { return; }
  let acc = tileProduct(0u, lid.x, row0, col0, p.inSize, false, false);
${wgslStoreTile('p.rows', 'p.outSize', 'y[row * p.outSize + column] = epilogue(row * p.outSize + column, column, acc[i][j]);')}
}`,
}

const affineGradParams = `rows : u32, inSize : u32, outSize : u32, dxTiles : u32, dxTileColumns : u32, dwTiles : u32, dwTileColumns : u32,
  activation : u32, keepScale : f32, weightsTransposed : u32`

// Job 0: dx [rows, in] = dz · Wᵀ (dz · E when tied). Job 1: dW [in, out] = xᵀ · dz, or dE [out, in] = dzᵀ · x.
const gradShader: FusedShader = {
  key: 'kotoba_affine_grad',
  code: `
${wgslBindings(['dx', 'dw', 'db'], ['x', 'w', 'dy', 'y'], affineGradParams)}
/** dz = dy · act'(z) · mask at element \`at\` of [rows, out]: ReLU (and dropout after it) zero unless y > 0, tanh 1 − y². */
fn dz(at : u32) -> f32 {
  if (p.activation == 1u) {
    if (y[at] > 0.0) { return dy[at] * p.keepScale; }
    return 0.0;
  }
  if (p.activation == 2u) { return dy[at] * (1.0 - y[at] * y[at]); }
  return dy[at];
}
fn aRowMajor(job : u32) -> bool { return job == 0u; }
fn bRowMajor(job : u32) -> bool { return job == 1u || p.weightsTransposed != 0u; }
fn loadA(job : u32, row : u32, k : u32) -> f32 {
  if (job == 0u) {
    if (row >= p.rows || k >= p.outSize) { return 0.0; }
    return dz(row * p.outSize + k);
  }
  if (k >= p.rows) { return 0.0; }
  if (p.weightsTransposed == 0u) {
    if (row >= p.inSize) { return 0.0; }
    return x[k * p.inSize + row];
  }
  if (row >= p.outSize) { return 0.0; }
  return dz(k * p.outSize + row);
}
fn loadB(job : u32, k : u32, column : u32) -> f32 {
  if (job == 0u) {
    if (k >= p.outSize || column >= p.inSize) { return 0.0; }
    if (p.weightsTransposed == 0u) { return w[column * p.outSize + k]; }
    return w[k * p.inSize + column];
  }
  if (k >= p.rows) { return 0.0; }
  if (p.weightsTransposed == 0u) {
    if (column >= p.outSize) { return 0.0; }
    return dz(k * p.outSize + column);
  }
  if (column >= p.inSize) { return 0.0; }
  return x[k * p.inSize + column];
}
${wgslTileProduct}
${wgslTileEntry}
  var job = 0u;
  var tileColumns = p.dxTileColumns;
  if (group >= p.dxTiles) {
    group = group - p.dxTiles;
    job = 1u;
    tileColumns = p.dwTileColumns;
    if (group >= p.dwTiles) { return; }
  }
  let row0 = (group / tileColumns) * TILE;
  let col0 = (group % tileColumns) * TILE;
  // dW's tiles along the bias's axis also sum dz there: its columns (W [in, out]) or its rows (E [out, in]).
  let tied = p.weightsTransposed != 0u;
  let sumB = job == 1u && !tied && row0 == 0u;
  let sumA = job == 1u && tied && col0 == 0u;
  var depth = p.outSize;
  var outRows = p.rows;
  var outColumns = p.inSize;
  if (job == 1u) {
    depth = p.rows;
    outRows = select(p.inSize, p.outSize, tied);
    outColumns = select(p.outSize, p.inSize, tied);
  }
  let acc = tileProduct(job, lid.x, row0, col0, depth, sumA, sumB);
${wgslStoreTile('outRows', 'outColumns', 'if (job == 0u) { dx[row * outColumns + column] = acc[i][j]; } else { dw[row * outColumns + column] = acc[i][j]; }')}
  if (lid.x < TILE) {
    if (sumB && col0 + lid.x < p.outSize) { db[col0 + lid.x] = edgeSum; }
    if (sumA && row0 + lid.x < p.outSize) { db[row0 + lid.x] = edgeSum; }
  }
}`,
}

function sizes(x: TensorInfo, w: TensorInfo, weightsTransposed: boolean): { rows: number; inSize: number; outSize: number } {
  const [rows, inSize] = x.shape as [number, number]
  const outSize = w.shape[weightsTransposed ? 0 : 1]!
  const expected = weightsTransposed ? [outSize, inSize] : [inSize, outSize]
  if (w.shape.length !== 2 || w.shape[0] !== expected[0] || w.shape[1] !== expected[1]) throw new Error(`affine: weights of shape [${w.shape}] do not fit inputs [${x.shape}]`)
  return { rows, inSize, outSize }
}

export function registerWebGpuAffineKernels(): void {
  registerWebGpuKernel(affineKernel, [forwardShader], ({ inputs, attrs }, backend) => {
    const { x, w, b } = inputs as { x: TensorInfo; w: TensorInfo; b: TensorInfo }
    const { activation, bias, rate, seed, weightsTransposed } = attrs as unknown as AffineAttrs
    const { rows, inSize, outSize } = sizes(x, w, weightsTransposed)
    const uniforms = [u32(rows), u32(inSize), u32(outSize), u32(tilesOver(outSize)), u32(activations[activation]), u32(bias ? 1 : 0), ...dropoutUniforms(rate, seed), u32(weightsTransposed ? 1 : 0)]
    return runFused(backend, forwardShader, [x, w, b], [[rows, outSize]], uniforms, tilesOver(rows) * tilesOver(outSize))[0]!
  })
  registerWebGpuKernel(affineGradKernel, [gradShader], ({ inputs, attrs }, backend) => {
    const { x, w, dy, y } = inputs as { x: TensorInfo; w: TensorInfo; dy: TensorInfo; y: TensorInfo }
    const { activation, rate, weightsTransposed } = attrs as unknown as AffineAttrs
    const { rows, inSize, outSize } = sizes(x, w, weightsTransposed)
    const dxTiles = tilesOver(rows) * tilesOver(inSize)
    const [dwRows, dwColumns] = weightsTransposed ? [outSize, inSize] : [inSize, outSize]
    const dwTiles = tilesOver(dwRows) * tilesOver(dwColumns)
    const uniforms = [u32(rows), u32(inSize), u32(outSize), u32(dxTiles), u32(tilesOver(inSize)), u32(dwTiles), u32(tilesOver(dwColumns)), u32(activations[activation]), f32(Math.fround(1 / (1 - rate))), u32(weightsTransposed ? 1 : 0)]
    return runFused(backend, gradShader, [x, w, dy, y], [[rows, inSize], w.shape, [outSize]], uniforms, dxTiles + dwTiles)
  })
}

// Attention's projections of one input, P = 2 (keys and values) or 3 (queries, keys and values) maps side by side:
// y [rows, P·d] = x · [W₀ | W₁ | W₂] + [b₀ | b₁ | b₂], with the maps' own parameters bound separately (no
// concatenated copy). Backward: dx = dy · [W₀ | W₁ | W₂]ᵀ in one dispatch, each dW_p = xᵀ · dy_p and db_p in another.
const projectionParams = 'rows : u32, inSize : u32, partSize : u32, tileColumns : u32, tilesPerPart : u32'
const indices = (parts: number) => Array.from({ length: parts }, (_, i) => i)
/** A WGSL function picking binding `<prefix><part>` by part: read (`name(part, at)`) or write (`name(part, at, value)`). */
function wgslPerPart(parts: number, name: string, prefix: string, write: boolean): string {
  const access = (i: number) => (write ? `${prefix}${i}[at] = value; return;` : `return ${prefix}${i}[at];`)
  const branches = indices(parts - 1).map((i) => `if (part == ${i}u) { ${access(i)} }`).join('\n  ')
  return write
    ? `fn ${name}(part : u32, at : u32, value : f32) {\n  ${branches}\n  ${access(parts - 1)}\n}`
    : `fn ${name}(part : u32, at : u32) -> f32 {\n  ${branches}\n  ${access(parts - 1)}\n}`
}
function projectionShaders(parts: number): { forward: FusedShader; inputGrad: FusedShader; weightsGrad: FusedShader } {
  const w = indices(parts).map((i) => `w${i}`)
  const b = indices(parts).map((i) => `b${i}`)
  const width = `${parts}u * p.partSize` // P·d, the row width of y and dy
  const forward: FusedShader = {
    key: `kotoba_projections_${parts}`,
    code: `
${wgslBindings(['y'], ['x', ...w, ...b], projectionParams)}
${wgslPerPart(parts, 'weight', 'w', false)}
${wgslPerPart(parts, 'bias', 'b', false)}
${wgslOperands(
  { rowMajor: 'true', inside: 'row < p.rows && k < p.inSize', load: 'return x[row * p.inSize + k];' },
  { rowMajor: 'true', inside: `k < p.inSize && column < ${width}`, load: 'return weight(column / p.partSize, k * p.partSize + column % p.partSize);' },
)}
${wgslTileProduct}
${wgslTileEntry}
${wgslTileStart}
  if (row0 >= p.rows) { return; }
  let acc = tileProduct(0u, lid.x, row0, col0, p.inSize, false, false);
${wgslStoreTile('p.rows', width, `y[row * ${width} + column] = acc[i][j] + bias(column / p.partSize, column % p.partSize);`)}
}`,
  }
  // dx [rows, in] = dy [rows, P·d] · [W₀ | W₁ | …]ᵀ: B(k, c) = W_{k / d}[c, k mod d].
  const inputGrad: FusedShader = {
    key: `kotoba_projections_input_grad_${parts}`,
    code: `
${wgslBindings(['dx'], ['dy', ...w], projectionParams)}
${wgslPerPart(parts, 'weight', 'w', false)}
${wgslOperands(
  { rowMajor: 'true', inside: `row < p.rows && k < ${width}`, load: `return dy[row * ${width} + k];` },
  { rowMajor: 'false', inside: `k < ${width} && column < p.inSize`, load: 'return weight(k / p.partSize, column * p.partSize + k % p.partSize);' },
)}
${wgslTileProduct}
${wgslTileEntry}
${wgslTileStart}
  if (row0 >= p.rows) { return; }
  let acc = tileProduct(0u, lid.x, row0, col0, ${width}, false, false);
${wgslStoreTile('p.rows', 'p.inSize', 'dx[row * p.inSize + column] = acc[i][j];')}
}`,
  }
  // dW_p [in, d] = xᵀ · dy[:, p·d …], db_p = Σ_rows dy[:, p·d …]: the workgroups of part p follow those of p − 1.
  const weightsGrad: FusedShader = {
    key: `kotoba_projections_weights_grad_${parts}`,
    code: `
${wgslBindings([...w.map((n) => `d${n}`), ...b.map((n) => `d${n}`)], ['x', 'dy'], projectionParams)}
${wgslPerPart(parts, 'storeWeight', 'dw', true)}
${wgslPerPart(parts, 'storeBias', 'db', true)}
${wgslOperands(
  { rowMajor: 'false', inside: 'row < p.inSize && k < p.rows', load: 'return x[k * p.inSize + row];' },
  { rowMajor: 'true', inside: 'k < p.rows && column < p.partSize', load: `return dy[k * ${width} + job * p.partSize + column];` },
)}
${wgslTileProduct}
${wgslTileEntry}
  let part = group / p.tilesPerPart;
  if (part >= ${parts}u) { return; }
  group = group % p.tilesPerPart;
${wgslTileStart}
  let acc = tileProduct(part, lid.x, row0, col0, p.rows, false, row0 == 0u);
${wgslStoreTile('p.inSize', 'p.partSize', 'storeWeight(part, row * p.partSize + column, acc[i][j]);')}
  if (row0 == 0u && lid.x < TILE && col0 + lid.x < p.partSize) { storeBias(part, col0 + lid.x, edgeSum); }
}`,
  }
  return { forward, inputGrad, weightsGrad }
}

const projections = { 2: projectionShaders(2), 3: projectionShaders(3) }

export function registerWebGpuProjectionKernels(): void {
  const all = [...Object.values(projections)]
  const partsOf = (attrs: unknown) => {
    const parts = (attrs as { parts: number }).parts
    if (parts !== 2 && parts !== 3) throw new Error(`projections: 2 or 3 parts, got ${parts}`)
    return parts
  }
  const listed = (inputs: Record<string, TensorInfo>, prefix: string, parts: number) => indices(parts).map((i) => inputs[`${prefix}${i}`]!)
  registerWebGpuKernel(projectionsKernel, all.map((s) => s.forward), ({ inputs, attrs }, backend) => {
    const parts = partsOf(attrs)
    const named = inputs as Record<string, TensorInfo>
    const x = named['x']!
    const [rows, inSize] = x.shape as [number, number]
    const partSize = named['w0']!.shape[1]!
    const width = parts * partSize
    const uniforms = [u32(rows), u32(inSize), u32(partSize), u32(tilesOver(width)), u32(0)]
    return runFused(backend, projections[parts].forward, [x, ...listed(named, 'w', parts), ...listed(named, 'b', parts)], [[rows, width]], uniforms, tilesOver(rows) * tilesOver(width))[0]!
  })
  registerWebGpuKernel(projectionsGradKernel, all.flatMap((s) => [s.inputGrad, s.weightsGrad]), ({ inputs, attrs }, backend) => {
    const parts = partsOf(attrs)
    const named = inputs as Record<string, TensorInfo>
    const [dy, x] = [named['dy']!, named['x']!]
    const weights = listed(named, 'w', parts)
    const [rows, inSize] = x.shape as [number, number]
    const partSize = weights[0]!.shape[1]!
    const { inputGrad, weightsGrad } = projections[parts]
    const [dx] = runFused(backend, inputGrad, [dy, ...weights], [[rows, inSize]], [u32(rows), u32(inSize), u32(partSize), u32(tilesOver(inSize)), u32(0)], tilesOver(rows) * tilesOver(inSize))
    const tilesPerPart = tilesOver(inSize) * tilesOver(partSize)
    const grads = [...weights.map(() => backend.makeTensorInfo([inSize, partSize], 'float32')), ...weights.map(() => backend.makeTensorInfo([partSize], 'float32'))]
    dispatchInto(backend, weightsGrad, grads, [x, dy], [u32(rows), u32(inSize), u32(partSize), u32(tilesOver(partSize)), u32(tilesPerPart)], parts * tilesPerPart)
    return [dx!, ...grads]
  })
}
