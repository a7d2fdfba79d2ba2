// The output layer's bias starts at the log unigram distribution of the training targets (the "init the
// final bias well" practice). With a large vocabulary and Adam, a network started at a zero bias spends its
// hidden state pushing the many unseen pieces down — every output column gets a full-size normalised update —
// and an RNN decoder then stalls at the unigram loss (measured: 1000 pieces, 100 steps, stuck at 4.1 nats;
// with this prior 0.6). The Transformer's layer norm hid the problem; seq2seq on real vocabularies needs this.
import type { Example } from './batching.ts'

/** log p(v) over target pieces (with EOS once per sentence), add-α smoothed so unseen pieces stay finite. */
export function targetLogPrior(examples: readonly Example[], vocabSize: number, eos: number, alpha = 0.1): Float32Array {
  const counts = new Float64Array(vocabSize).fill(alpha)
  for (const example of examples) {
    for (const id of example.tgt) counts[id]! += 1
    counts[eos]! += 1
  }
  const total = counts.reduce((sum, c) => sum + c, 0)
  return Float32Array.from(counts, (c) => Math.log(c / total))
}
