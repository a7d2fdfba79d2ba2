// Seeded pseudo-random numbers, so initialisation and sampling are reproducible on every backend.

/** mulberry32: a small, fast 32-bit generator with a good spread for initialisation. */
export class Random {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  uniform(low: number, high: number): number {
    return low + (high - low) * this.next()
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0
    while (u === 0) u = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next())
  }

  integer(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive)
  }

  /** A new generator whose stream does not overlap this one's in practice. */
  fork(): Random {
    return new Random(Math.floor(this.next() * 4294967296) ^ 0x9e3779b9)
  }
}
