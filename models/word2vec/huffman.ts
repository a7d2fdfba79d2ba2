// The Huffman tree behind hierarchical softmax (Morin & Bengio 2005; Mikolov et al. 2013, §2.1, eq. 3): frequent
// words get short codes. Built as word2vec.c's CreateBinaryTree: inner node n is row n of the inner-node vectors.

export interface HuffmanCodes {
  /** Longest code. */
  maxCode: number
  /** [vocab, maxCode] bits of each word's code, root first. */
  codes: Uint8Array
  /** [vocab, maxCode] inner nodes on each word's path, root first (indices into the [vocab − 1] inner-node rows). */
  points: Int32Array
  /** [vocab] code length of each word. */
  lengths: Int32Array
}

export function huffmanCodes(counts: readonly number[]): HuffmanCodes {
  const vocab = counts.length
  if (vocab < 2) return { maxCode: 1, codes: new Uint8Array(vocab), points: new Int32Array(vocab), lengths: new Int32Array(vocab) }
  // Leaves 0..vocab−1 (sorted by falling count, as the vocabulary is), inner nodes vocab..2·vocab−2.
  const order = counts.map((_, i) => i).sort((a, b) => counts[b]! - counts[a]!)
  const weight = new Float64Array(2 * vocab - 1)
  order.forEach((word, i) => (weight[i] = counts[word]!))
  for (let i = vocab; i < weight.length; i++) weight[i] = Infinity
  const parent = new Int32Array(2 * vocab - 1)
  const bit = new Uint8Array(2 * vocab - 1)
  // Two pointers: leaves from the rarest up, inner nodes in creation order (already ascending).
  let leaf = vocab - 1
  let inner = vocab
  const smallest = (): number => (leaf >= 0 && weight[leaf]! < weight[inner]! ? leaf-- : inner++)
  for (let node = vocab; node < 2 * vocab - 1; node++) {
    const first = smallest()
    const second = smallest()
    weight[node] = weight[first]! + weight[second]!
    parent[first] = node
    parent[second] = node
    bit[second] = 1
  }
  const root = 2 * vocab - 2
  const paths: { code: number[]; point: number[] }[] = []
  let maxCode = 1
  for (let i = 0; i < vocab; i++) {
    const code: number[] = []
    const point: number[] = []
    for (let node = i; node !== root; node = parent[node]!) {
      code.push(bit[node]!)
      point.push(parent[node]! - vocab)
    }
    code.reverse()
    point.reverse()
    paths.push({ code, point })
    maxCode = Math.max(maxCode, code.length)
  }
  const codes = new Uint8Array(vocab * maxCode)
  const points = new Int32Array(vocab * maxCode)
  const lengths = new Int32Array(vocab)
  paths.forEach(({ code, point }, i) => {
    const word = order[i]!
    codes.set(code, word * maxCode)
    points.set(point, word * maxCode)
    lengths[word] = code.length
  })
  return { maxCode, codes, points, lengths }
}
