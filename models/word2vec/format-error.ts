/** A vector file that cannot be read or written, with where and why. */
export class VectorFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'VectorFileError'
  }
}
