// word2vec in models/: the WebAssembly kernel trains skip-gram and CBOW with negative sampling or hierarchical
// softmax so that words sharing contexts become neighbours, its exact loss falls, one thread is reproducible;
// Huffman codes, the noise table and subsampling against hand-computed values; queries, evaluation and file
// formats on hand-made vectors.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { test } from 'node:test'
import * as tf from '@tensorflow/tfjs'
import { Random } from '../models/core/random.ts'
import { nearestNeighbours } from '../models/projection/nn-descent.ts'
import { alignTo } from '../models/projection/procrustes.ts'
import { CorpusBuilder, encodeCountingVocabulary } from '../models/word2vec/corpus.ts'
import { evaluateAnalogies } from '../models/word2vec/analogy-evaluation.ts'
import { evaluateSimilarity, parseAnalogies, parseSimilarityPairs, ranks, spearman } from '../models/word2vec/evaluation.ts'
import { fromProjectorTsv, fromWord2VecBinary, fromWord2VecText, looksBinary, toProjectorTsv, toWord2VecBinary, toWord2VecText } from '../models/word2vec/formats.ts'
import { detectVectorFormat, VectorStreamReader, type VectorFileFormat } from '../models/word2vec/vector-stream.ts'
import { huffmanCodes } from '../models/word2vec/huffman.ts'
import { noiseProbabilities, noiseTable } from '../models/word2vec/negative-table.ts'
import { analogy, neighbours, oddOneOut, similarity } from '../models/word2vec/queries.ts'
import { sentenceChunks } from '../models/word2vec/schedule.ts'
import { prepareTraining, trainOnThisThread, trainedVectors, type Word2VecHyperparameters } from '../models/word2vec/training.ts'
import { buildVocabulary, keepProbabilities } from '../models/word2vec/vocabulary.ts'
import { WordVectors } from '../models/word2vec/word-vectors.ts'
import { textWords } from '../models/word2vec/words.ts'

// Four topics; each sentence draws its words from one topic, so words of a topic share their contexts.
const topics = [
  ['cat', 'dog', 'pet', 'fur', 'paw', 'tail'],
  ['car', 'road', 'wheel', 'drive', 'engine', 'fuel'],
  ['sun', 'moon', 'star', 'sky', 'night', 'orbit'],
  ['bread', 'milk', 'cheese', 'butter', 'meal', 'cook'],
]

function topicCorpus(sentences: number, seed: number): string[][] {
  const random = new Random(seed)
  return Array.from({ length: sentences }, () => {
    const topic = topics[random.integer(topics.length)]!
    return Array.from({ length: 8 }, () => topic[random.integer(topic.length)]!)
  })
}

function prepare(sentences: string[][], hyper: Partial<Word2VecHyperparameters>) {
  const counts = new Map<string, number>()
  for (const s of sentences) for (const w of s) counts.set(w, (counts.get(w) ?? 0) + 1)
  const vocabulary = buildVocabulary(counts, 1)
  const builder = new CorpusBuilder(new Map(vocabulary.words.map((w, i) => [w, i])))
  for (const s of sentences) builder.add(s)
  const full: Word2VecHyperparameters = { architecture: 'skipgram', hs: false, negative: 5, dim: 24, window: 3, sample: 0, alpha: 0.025, minAlpha: 0.0001, epochs: 5, seed: 7, ...hyper }
  return prepareTraining(vocabulary, builder.finish(), full, 1)
}

const topicOf = (word: string) => topics.findIndex((t) => t.includes(word))

for (const variant of [
  { label: 'skip-gram, negative sampling', hyper: {} },
  { label: 'CBOW, negative sampling', hyper: { architecture: 'cbow' as const, alpha: 0.05 } },
  { label: 'skip-gram, hierarchical softmax', hyper: { hs: true, negative: 0 } },
  { label: 'CBOW, hierarchical softmax + negative sampling', hyper: { architecture: 'cbow' as const, hs: true, alpha: 0.05 } },
]) {
  test(`${variant.label}: words sharing contexts become nearest neighbours and the loss falls`, async () => {
    const prepared = prepare(topicCorpus(1500, 1), variant.hyper)
    const reports = await trainOnThisThread(prepared, 0)
    assert.equal(reports.length, 5)
    const losses = reports.map((r) => r.meanLoss)
    if (variant.hyper.hs && !variant.hyper.architecture) {
      // Hierarchical softmax is a normalised −log p: within a topic the centre word is uniform over six words, so the
      // loss falls to the entropy ln 6 and no lower.
      assert.ok(losses.at(-1)! < losses[0]! && Math.abs(losses.at(-1)! - Math.log(6)) < 0.03 * Math.log(6), `loss falls to ln 6 = 1.792: ${losses.map((l) => l.toFixed(3))}`)
    } else assert.ok(losses.at(-1)! < losses[0]! * 0.9, `loss falls: ${losses.map((l) => l.toFixed(3))}`)
    assert.ok(reports.every((r) => r.predictions > 0 && Number.isFinite(r.loss)))
    const vectors = trainedVectors(prepared)
    for (const word of ['cat', 'wheel', 'moon', 'cheese']) {
      const near = neighbours(vectors, word, 3)
      assert.ok(near.every((n) => topicOf(n.word) === topicOf(word)), `${word}: ${near.map((n) => n.word)}`)
    }
  })
}

test('one-pass encoding equals counting first and encoding second, ties and dropped sentences included', () => {
  const random = new Random(3)
  // Rare words (count 1–2) fall below min-count 3, some sentences only have rare words, one is empty.
  const sentences = [...topicCorpus(300, 2).map((s) => (random.integer(4) === 0 ? [...s, `rare${random.integer(200)}`] : s)), [], ['rare1', 'rare2'], ['cat', 'zebra']]
  for (const [minCount, maxVocab] of [[1, null], [3, null], [3, 10], [1, 7]] as const) {
    const counts = new Map<string, number>()
    for (const s of sentences) for (const w of s) counts.set(w, (counts.get(w) ?? 0) + 1)
    const vocabulary = buildVocabulary(counts, minCount, maxVocab)
    const builder = new CorpusBuilder(new Map(vocabulary.words.map((w, i) => [w, i])))
    for (const s of sentences) builder.add(s)
    const encoded = encodeCountingVocabulary(sentences, minCount, maxVocab)
    assert.deepEqual(encoded.vocabulary, vocabulary, `vocabulary, min-count ${minCount}, max ${maxVocab}`)
    assert.deepEqual([...encoded.ids], [...builder.finish()], `ids, min-count ${minCount}, max ${maxVocab}`)
  }
})

test('one thread is exactly reproducible for a seed; another seed gives other vectors', async () => {
  const sentences = topicCorpus(300, 2)
  const run = async (seed: number) => {
    const prepared = prepare(sentences, { seed, epochs: 2, sample: 1e-2 })
    const reports = await trainOnThisThread(prepared, 0)
    return { vectors: trainedVectors(prepared).vectors, loss: reports.map((r) => r.loss) }
  }
  const first = await run(3)
  const again = await run(3)
  const other = await run(4)
  assert.deepEqual(again.vectors, first.vectors)
  assert.deepEqual(again.loss, first.loss)
  assert.notDeepEqual(other.vectors, first.vectors)
})

test('subsampling keeps fewer frequent words, as word2vec.c computes it', async () => {
  // t = 1e-3 · 1000 words = 1: P(keep) = (√(c / t) + 1) · t / c.
  const keep = keepProbabilities([900, 99, 1], 1e-3)
  assert.ok(Math.abs(keep[0]! - (Math.sqrt(900) + 1) / 900) < 1e-7)
  assert.ok(Math.abs(keep[1]! - (Math.sqrt(99) + 1) / 99) < 1e-7)
  assert.equal(keep[2], 1)
  assert.deepEqual([...keepProbabilities([900, 99, 1], 0)], [1, 1, 1])
  const sentences = topicCorpus(300, 5).map((s) => ['the', 'the', ...s])
  const prepared = prepare(sentences, { sample: 1e-3, epochs: 1 })
  const [report] = await trainOnThisThread(prepared, 0)
  assert.ok(report!.keptWords < prepared.words * 0.9, `kept ${report!.keptWords} of ${prepared.words}`)
})

test('Huffman codes: prefix-free, Kraft sum 1, the lengths of a hand-built tree; paths end at the root', () => {
  const { codes, points, lengths, maxCode } = huffmanCodes([5, 3, 1, 1])
  // Merges: 1+1 → 2, 2+3 → 5, 5+5 → 10: lengths 1, 2, 3, 3.
  assert.deepEqual([...lengths], [1, 2, 3, 3])
  assert.equal(maxCode, 3)
  const code = (w: number) => [...codes.subarray(w * maxCode, w * maxCode + lengths[w]!)].join('')
  const all = [0, 1, 2, 3].map(code)
  for (const a of all) for (const b of all) if (a !== b) assert.ok(!b.startsWith(a), `${a} is a prefix of ${b}`)
  assert.equal(new Set(all).size, 4)
  for (let w = 0; w < 4; w++) assert.equal(points[w * maxCode], 2, 'every path starts at the root (inner node vocab − 2)')
  const random = new Random(9)
  const counts = Array.from({ length: 200 }, () => 1 + random.integer(1000)).sort((a, b) => b - a)
  const big = huffmanCodes(counts)
  const kraft = [...big.lengths].reduce((sum, l) => sum + 2 ** -l, 0)
  assert.ok(Math.abs(kraft - 1) < 1e-12, `Kraft sum ${kraft}`)
  assert.ok(big.lengths[0]! <= big.lengths[199]!, 'the most frequent word has a code no longer than the rarest')
})

test('the noise table draws words in proportion to count^0.75', () => {
  const counts = [81, 16, 1]
  const total = 27 + 8 + 1
  const exact = noiseProbabilities(noiseTable(counts))
  for (const [w, expected] of [[0, 27 / total], [1, 8 / total], [2, 1 / total]] as const) assert.ok(Math.abs(exact[w]! - expected) < 1e-9, `word ${w}: ${exact[w]} vs ${expected}`)
  // Drawn as the kernel draws: a uniform slot, then its threshold or its alias.
  const random = new Random(4)
  const zipf = Array.from({ length: 500 }, (_, i) => Math.round(1e5 / (i + 1)))
  const table = noiseTable(zipf)
  const drawn = new Float64Array(zipf.length)
  const draws = 400_000
  for (let d = 0; d < draws; d++) {
    const slot = random.integer(zipf.length)
    drawn[random.next() * 2 ** 32 < table.thresholds[slot]! ? slot : table.aliases[slot]!]! += 1 / draws
  }
  const weights = zipf.map((c) => c ** 0.75)
  const sum = weights.reduce((a, b) => a + b, 0)
  const probabilities = noiseProbabilities(table)
  weights.forEach((w, i) => assert.ok(Math.abs(probabilities[i]! - w / sum) < 1e-9, `word ${i}: exact ${probabilities[i]} vs ${w / sum}`))
  for (const i of [0, 1, 10, 100, 499]) assert.ok(Math.abs(drawn[i]! - weights[i]! / sum) < 4 * Math.sqrt(weights[i]! / sum / draws) + 1e-6, `word ${i} drawn ${drawn[i]} vs ${weights[i]! / sum}`)
})

test('corpus chunks split at sentence ends; words are lower-cased letters and digits', () => {
  const corpus = Int32Array.from([0, 1, -1, 2, 3, 4, -1, 5, -1, 6, 7, -1])
  // Each chunk runs to the end of the sentence holding its 4th position.
  assert.deepEqual([...sentenceChunks(corpus, 4)], [0, 7, 12])
  assert.deepEqual([...sentenceChunks(corpus, 2)], [0, 3, 7, 9, 12])
  assert.deepEqual([...sentenceChunks(corpus.subarray(0, 5), 100)], [0, 5])
  assert.deepEqual([...sentenceChunks(new Int32Array(0))], [0])
  assert.deepEqual(textWords("The King's men — 12 of them, well-armed!", true), ["the", "king's", 'men', '12', 'of', 'them', 'well-armed'])
  assert.deepEqual(textWords('Paris', false), ['Paris'])
})

// Hand-made vectors: a square of king/queen/man/woman and two far words.
const handVectors = new WordVectors(
  ['king', 'queen', 'man', 'woman', 'apple', 'pear'],
  2,
  Float32Array.from([1, 1, 1, 2, 2, 0.9, 2, 2, -1, -0.2, -1, -0.3]),
)

test('queries: cosine neighbours, 3CosAdd and 3CosMul analogies, similarity, odd one out, unknown words named', () => {
  const near = neighbours(handVectors, 'apple', 1)
  assert.equal(near[0]!.word, 'pear')
  const cos = (a: number[], b: number[]) => (a[0]! * b[0]! + a[1]! * b[1]!) / Math.hypot(...a) / Math.hypot(...b)
  assert.ok(Math.abs(near[0]!.similarity - cos([-1, -0.2], [-1, -0.3])) < 1e-6)
  assert.ok(Math.abs(similarity(handVectors, 'king', 'man') - cos([1, 1], [2, 0.9])) < 1e-6)
  // man : woman :: king : ? → queen (the question words themselves are never answers).
  assert.equal(analogy(handVectors, 'man', 'woman', 'king', 1, 'add')[0]!.word, 'queen')
  assert.equal(analogy(handVectors, 'man', 'woman', 'king', 1, 'mul')[0]!.word, 'queen')
  // 3CosAdd score of queen by hand: cos(q, woman) − cos(q, man) + cos(q, king).
  const q = [1, 2]
  const expected = cos(q, [2, 2]) - cos(q, [2, 0.9]) + cos(q, [1, 1])
  assert.ok(Math.abs(analogy(handVectors, 'man', 'woman', 'king', 1, 'add')[0]!.similarity - expected) < 1e-5)
  const mul = (((cos(q, [2, 2]) + 1) / 2) * ((cos(q, [1, 1]) + 1) / 2)) / ((cos(q, [2, 0.9]) + 1) / 2 + 1e-3)
  assert.ok(Math.abs(analogy(handVectors, 'man', 'woman', 'king', 1, 'mul')[0]!.similarity - mul) < 1e-5)
  assert.equal(oddOneOut(handVectors, ['king', 'queen', 'woman', 'apple']).word, 'apple')
  assert.throws(() => neighbours(handVectors, 'banana', 3), /not in the vocabulary: banana/)
})

test('analogy evaluation counts per section, skips unknown words honestly, restricts only when asked; Spearman by hand', async () => {
  const sections = parseAnalogies(': royal\nman woman king queen\nman woman king apple\nman woman king unicorn\n: fruit\napple pear king queen\n')
  assert.deepEqual(sections.map((s) => [s.name, s.questions.length]), [['royal', 3], ['fruit', 1]])
  const before = tf.memory().numTensors
  const result = await evaluateAnalogies(handVectors, sections)
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind')
  assert.deepEqual(result.sections.map((s) => [s.section, s.correct, s.evaluated, s.skipped]), [['royal', 1, 2, 1], ['fruit', 0, 1, 0]])
  assert.equal(result.total.accuracy, 1 / 3)
  // Restricted to the first four words, 'apple' and 'pear' are unknown too.
  const restricted = await evaluateAnalogies(handVectors, sections, { restrictVocab: 4 })
  assert.deepEqual(restricted.sections.map((s) => [s.evaluated, s.skipped]), [[1, 2], [0, 1]])
  assert.throws(() => parseAnalogies(': a\nman woman king\n'), /line 2: expected four words/)

  assert.deepEqual(ranks([10, 20, 20, 5]), [2, 3.5, 3.5, 1])
  // ρ of x = [1, 2, 3, 4] and y = [1, 3, 2, 4]: 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/60 = 0.8.
  assert.ok(Math.abs(spearman([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-12)
  const pairs = parseSimilarityPairs('# comment\nWord1\tWord2\tScore\nking queen 9\nking apple 1\napple pear 8\nking unicorn 5\n')
  assert.equal(pairs.length, 4)
  const sim = evaluateSimilarity(handVectors, pairs)
  assert.equal(sim.evaluated, 3)
  assert.equal(sim.skipped, 1)
  assert.throws(() => parseSimilarityPairs('king queen 9\nking queen\n'), /line 2: expected 'word1 word2 rating'/)
})

test('word2vec text and binary files and projector TSV round-trip exactly; bad files name the line or word', () => {
  const random = new Random(4)
  const words = ['the', 'ünïcödé', '日本', 'x']
  const vectors = new WordVectors(words, 3, Float32Array.from({ length: 12 }, () => random.normal()), [10, 5, 3, 1])
  const text = toWord2VecText(vectors)
  assert.ok(text.startsWith('4 3\nthe '))
  const fromText = fromWord2VecText(text)
  assert.deepEqual(fromText.words, words)
  assert.deepEqual(fromText.vectors, vectors.vectors)
  const binary = toWord2VecBinary(vectors)
  assert.ok(looksBinary(binary))
  assert.ok(!looksBinary(new TextEncoder().encode(text)))
  const fromBinary = fromWord2VecBinary(binary)
  assert.deepEqual(fromBinary.words, words)
  assert.deepEqual(fromBinary.vectors, vectors.vectors)
  const tsv = toProjectorTsv(vectors)
  assert.equal(tsv.vectors.trim().split('\n').length, 4)
  assert.deepEqual(tsv.vectors.split('\n')[0]!.split('\t').map(Number).map(Math.fround), [...vectors.vectors.subarray(0, 3)])
  assert.deepEqual(tsv.metadata.trim().split('\n'), ['word\tcount', 'the\t10', 'ünïcödé\t5', '日本\t3', 'x\t1'])
  assert.throws(() => fromWord2VecText('2 3\na 1 2 3\nb 1 two 3\n'), /line 3: 'two' is not a number/)
  assert.throws(() => fromWord2VecText('3 2\na 1 2\n'), /announces 3 words but the file has 1/)
  assert.throws(() => fromWord2VecText('a b\n'), /line 1: expected a header/)
  assert.throws(() => fromWord2VecBinary(binary.subarray(0, binary.length - 6)), /word 4 of 4 \('x'\): the file ends inside its vector/)
  assert.throws(() => toWord2VecText(new WordVectors(['two words'], 1, Float32Array.from([1]))), /contains whitespace/)
})

test('vector files stream in chunks of any size: binary and text split mid-word and mid-float, GloVe without a header, and --max-vocab stops early', () => {
  const random = new Random(6)
  const words = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? `語${i}` : `w${i}`))
  const vectors = new WordVectors(words, 5, Float32Array.from({ length: 200 }, () => random.normal()))
  const binary = toWord2VecBinary(vectors)
  const text = new TextEncoder().encode(toWord2VecText(vectors))
  const glove = new TextEncoder().encode(toWord2VecText(vectors).split('\n').slice(1).join('\n')) // word2vec text less its header
  const streamed = (format: VectorFileFormat, bytes: Uint8Array, chunk: number, maxVocab?: number) => {
    const reader = new VectorStreamReader(format, maxVocab)
    let pushes = 0
    for (let at = 0; at < bytes.length; at += chunk) {
      pushes++
      if (!reader.push(bytes.subarray(at, at + chunk))) break
    }
    return { vectors: reader.end(), pushes }
  }
  for (const chunk of [1, 7, 64, 100_000]) {
    for (const [format, bytes] of [['word2vec-bin', binary], ['word2vec', text], ['glove', glove]] as const) {
      const { vectors: read } = streamed(format, bytes, chunk)
      assert.deepEqual([read.words, read.dim], [words, 5], `${format} in chunks of ${chunk}`)
      assert.deepEqual(read.vectors, vectors.vectors, `${format} in chunks of ${chunk}`)
    }
  }
  assert.deepEqual([detectVectorFormat(binary), detectVectorFormat(text), detectVectorFormat(glove)], ['word2vec-bin', 'word2vec', 'glove'])
  // The first 10 words only: reading stops once they are in, long before the end of the file.
  const first = streamed('word2vec-bin', binary, 16, 10)
  assert.deepEqual(first.vectors.words, words.slice(0, 10))
  assert.deepEqual(first.vectors.vectors, vectors.vectors.subarray(0, 50))
  assert.ok(first.pushes * 16 < binary.length / 2, `stopped after ${first.pushes} chunks`)
  assert.deepEqual(streamed('glove', glove, 9, 3).vectors.words, words.slice(0, 3))
  assert.throws(() => streamed('glove', new TextEncoder().encode('a 1 2\nb 1\n'), 4), /line 2: expected a word and 2 numbers, found 2 fields/)
  assert.throws(() => streamed('word2vec-bin', binary.subarray(0, 200), 7), /word \d+ of 40 \('.+'\): the file ends inside its vector/)
})

test('projector files with metadata columns (e.g. part of speech) read back: word, count and labels', () => {
  const random = new Random(5)
  const vectors = new WordVectors(['run', 'cat', 'blue'], 2, Float32Array.from({ length: 6 }, () => random.normal()), [9, 4, 2], { pos: ['VERB', 'NOUN', 'ADJ'] })
  const tsv = toProjectorTsv(vectors)
  assert.deepEqual(tsv.metadata.trim().split('\n'), ['word\tcount\tpos', 'run\t9\tVERB', 'cat\t4\tNOUN', 'blue\t2\tADJ'])
  const back = fromProjectorTsv(tsv.vectors, tsv.metadata)
  assert.deepEqual(back.words, vectors.words)
  assert.deepEqual(back.counts, [9, 4, 2])
  assert.deepEqual(back.labels, { pos: ['VERB', 'NOUN', 'ADJ'] })
  assert.deepEqual(back.vectors, vectors.vectors)
  // TensorBoard's own layout: one column without a header; or a header whose word column is not the first.
  assert.deepEqual(fromProjectorTsv('1\t2\n3\t4\n', 'a\nb\n').words, ['a', 'b'])
  const reordered = fromProjectorTsv('1\t2\n3\t4\n', 'POS\tWord\tgloss\nNOUN\ta\tfirst\nVERB\tb\tsecond\n')
  assert.deepEqual([reordered.words, reordered.counts, reordered.labels], [['a', 'b'], null, { POS: ['NOUN', 'VERB'], gloss: ['first', 'second'] }])
  assert.throws(() => fromProjectorTsv('1\t2\n3\tx\n', 'a\nb\n'), /vectors.tsv line 2: 'x' is not a number \(column 2\)/)
  assert.throws(() => fromProjectorTsv('1\t2\n3\n', 'a\nb\n'), /vectors.tsv line 2: 1 numbers, but line 1 has 2/)
  assert.throws(() => fromProjectorTsv('1\t2\n3\t4\n', 'a\n'), /metadata.tsv has 1 lines but vectors.tsv 2/)
  assert.throws(() => fromProjectorTsv('1\t2\n', 'word\tpos\na\n'), /metadata.tsv line 2: 1 columns, the header has 2/)
})

test('the committed WebAssembly kernels (word2vec, tensor kernels) are the compiled AssemblyScript sources', () => {
  const output = execFileSync(process.execPath, ['scripts/build-wasm-kernels.mjs', '--check'], { encoding: 'utf8' })
  assert.match(output, /models\/word2vec\/kernel-wasm.ts is up to date/)
  assert.match(output, /main\/engine\/compute\/tensor-kernels-wasm.ts is up to date/)
})

test('Procrustes alignment recovers a rotation or reflection, scale and shift of a projection (2-D and 3-D)', () => {
  const random = new Random(11)
  for (const dims of [2, 3] as const) {
    const n = 40
    const reference = Float32Array.from({ length: n * dims }, () => random.normal())
    // An orthogonal matrix from Gram–Schmidt on random vectors, with a reflection.
    const basis: number[][] = []
    for (let k = 0; k < dims; k++) {
      let v = Array.from({ length: dims }, () => random.normal())
      for (const b of basis) {
        const dot = v.reduce((s, x, i) => s + x * b[i]!, 0)
        v = v.map((x, i) => x - dot * b[i]!)
      }
      const norm = Math.hypot(...v)
      basis.push(v.map((x) => x / norm))
    }
    basis[0] = basis[0]!.map((x) => -x)
    const moved = new Float32Array(n * dims)
    for (let i = 0; i < n; i++) {
      for (let q = 0; q < dims; q++) {
        let sum = 0
        for (let p = 0; p < dims; p++) sum += reference[i * dims + p]! * basis[p]![q]!
        moved[i * dims + q] = 3.5 * sum + (q + 1) * 2
      }
    }
    const aligned = alignTo(moved, reference, dims)
    const worst = aligned.reduce((max, v, i) => Math.max(max, Math.abs(v - reference[i]!)), 0)
    assert.ok(worst < 1e-4, `${dims}-D: largest error ${worst}`)
  }
})

test('NN-Descent finds nearly every true nearest neighbour (against brute force), nearest first, itself first', () => {
  const random = new Random(12)
  const [n, d, k] = [1500, 20, 10]
  const centres = Array.from({ length: 15 }, () => Array.from({ length: d }, () => random.normal()))
  const rows = Float32Array.from({ length: n * d }, (_, at) => centres[Math.floor(at / d) % 15]![at % d]! + 0.5 * random.normal())
  const progress: number[] = []
  const graph = nearestNeighbours(rows, n, d, k, { random: () => random.next(), onProgress: (done, total) => progress.push(done / total) })
  assert.equal(progress.at(-1), 1)
  let found = 0
  for (let i = 0; i < n; i++) {
    const distance = (j: number) => {
      let sum = 0
      for (let c = 0; c < d; c++) sum += (rows[i * d + c]! - rows[j * d + c]!) ** 2
      return Math.sqrt(sum)
    }
    const distances = Array.from({ length: n }, (_, j) => distance(j)) // brute force, once per point
    const truth = Array.from({ length: n }, (_, j) => j).sort((a, b) => distances[a]! - distances[b]!).slice(0, k)
    const got = graph.indices.subarray(i * k, (i + 1) * k)
    const gotDistances = graph.distances.subarray(i * k, (i + 1) * k)
    assert.equal(got[0], i, 'a point is its own nearest neighbour')
    for (let t = 1; t < k; t++) assert.ok(gotDistances[t]! >= gotDistances[t - 1]!, 'nearest first')
    got.forEach((j, t) => assert.ok(Math.abs(gotDistances[t]! - distance(j)) < 1e-4, 'distances are the true distances'))
    found += truth.filter((j) => got.includes(j)).length
  }
  assert.ok(found / (n * k) > 0.97, `recall ${found / (n * k)}`)
})
