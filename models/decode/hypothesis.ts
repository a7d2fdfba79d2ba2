// One decoded output: tokens without BOS/EOS, the log-probability of each emitted token (EOS included when
// emitted) and the attention row of each step.

export interface Hypothesis {
  tokens: number[]
  /** log p of each emitted token; one more than `tokens` when the hypothesis ended with EOS. */
  tokenLogProbs: number[]
  /** Σ tokenLogProbs. */
  logProb: number
  /** The score the search ranked by (length-normalised for beam search). */
  score: number
  /** Per target step, the attention over source positions (empty when the model has none). */
  attention: number[][]
  finished: boolean
}

/** Row-wise log-softmax of a flat [rows × vocab] array, in place; returns it. */
export function logSoftmaxRows(values: Float32Array, vocab: number): Float32Array {
  for (let start = 0; start < values.length; start += vocab) {
    let max = -Infinity
    for (let v = start; v < start + vocab; v++) if (values[v]! > max) max = values[v]!
    let sum = 0
    for (let v = start; v < start + vocab; v++) sum += Math.exp(values[v]! - max)
    const logSum = max + Math.log(sum)
    for (let v = start; v < start + vocab; v++) values[v] = values[v]! - logSum
  }
  return values
}
