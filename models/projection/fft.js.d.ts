// The part of fft.js (which ships no types) that the t-SNE grid convolution uses: complex arrays interleave re, im.
declare module 'fft.js' {
  export default class FFT {
    constructor(size: number)
    readonly size: number
    createComplexArray(): number[]
    /** out = DFT(data); out and data must differ. */
    transform(out: Float64Array, data: Float64Array): void
    /** out = DFT⁻¹(data), scaled by 1/size. */
    inverseTransform(out: Float64Array, data: Float64Array): void
  }
}
