// HRED (Serban et al. 2016): an utterance encoder reads each turn, a context RNN reads the turn vectors, and the
// decoder is conditioned on the context state. With a latent size > 0 it is VHRED (Serban et al. 2017): a Gaussian
// z per response from a prior p(z | context) and, in training, a posterior q(z | context, response); the decoder
// is conditioned on [context; z] and the loss is −log p(response | z, context) + β·KL(q ‖ p).
import * as tf from '@tensorflow/tfjs'
import { dropout, nextRandomSeed } from '../layers/dropout.ts'
import { ParameterStore } from '../core/params.ts'
import { Random } from '../core/random.ts'
import { tidyResult } from '../core/tidy.ts'
import { Embedding } from '../layers/embedding.ts'
import { Linear } from '../layers/linear.ts'
import { smoothedCrossEntropy } from '../losses/cross-entropy.ts'
import type { CellType, RecurrentCell, RecurrentState } from '../rnn/cell.ts'
import { StackedRnn, createCell } from '../rnn/stacked-rnn.ts'
import { unroll, unrollProjected } from '../rnn/unroll.ts'
import type { DialogueBatch } from './batch.ts'
import { BagOfWordsHead } from './bag-of-words.ts'
import { freeBitsKl } from './free-bits.ts'
import { gaussianKlPerDimension, reparameterise, type DiagonalGaussian } from './gaussian.ts'

export interface DialogueModelConfig {
  vocab: number
  cell: Exclude<CellType, 'rnn'>
  embeddingSize: number
  utteranceHidden: number
  bidirectional: boolean
  contextHidden: number
  decoderHidden: number
  /** 0: HRED; > 0: VHRED with a latent Gaussian of this size. */
  latentSize: number
  dropout: number
  seed: number
  /** VHRED: a bag-of-words head predicting the response from [context; z] (Zhao et al. 2017), trained by `bowWeight`. */
  bagOfWords?: boolean
}

/** The VHRED loss's remedies against posterior collapse (each 0: off). */
export interface CollapseRemedies {
  /** Free bits λ: nats per latent dimension the KL term never goes below (Kingma et al. 2016). */
  freeBits?: number
  /** Weight of the bag-of-words loss (needs `bagOfWords` in the model). */
  bowWeight?: number
}

/** The teacher-forced pass with what the loss needs besides the public parts. */
interface ForwardParts extends DialogueForward {
  klPerDimension: tf.Tensor2D | null
  condition: tf.Tensor2D
}

export interface DialogueForward {
  logits: tf.Tensor3D // [B, T, vocab]
  context: tf.Tensor2D // [B, contextHidden]
  /** VHRED only: KL(q ‖ p) per example [B] and the posterior means [B, Z]. */
  kl: tf.Tensor1D | null
  posteriorMean: tf.Tensor2D | null
}

export interface DialogueLosses {
  /** (Σ cross-entropy + β·Σ KL) / target tokens: what is minimised. */
  total: tf.Scalar
  /** Cross-entropy per target token. */
  reconstruction: tf.Scalar
  /** Mean KL per response (0 for HRED). */
  kl: tf.Scalar
  /** Bag-of-words loss per target token (0 without it). */
  bagOfWords: tf.Scalar
}

/** A two-layer MLP to the mean and log-variance of a diagonal Gaussian (the VHRED prior and posterior nets). */
class GaussianHead {
  private readonly hidden: Linear
  private readonly out: Linear
  constructor(params: ParameterStore, name: string, inSize: number, hiddenSize: number, latentSize: number) {
    this.hidden = new Linear(params, `${name}/hidden`, inSize, hiddenSize)
    this.out = new Linear(params, `${name}/out`, hiddenSize, 2 * latentSize)
  }
  apply(x: tf.Tensor2D): DiagonalGaussian {
    return tidyResult(() => {
      const [mean, logVariance] = tf.split(this.out.apply(tf.tanh(this.hidden.apply(x))), 2, 1) as [tf.Tensor2D, tf.Tensor2D] // each [B, Z]
      return { mean, logVariance }
    })
  }
}

export class DialogueModel {
  readonly params: ParameterStore
  private readonly embedding: Embedding
  private readonly utteranceEncoder: StackedRnn
  private readonly contextCell: RecurrentCell
  private readonly prior: GaussianHead | null
  private readonly posterior: GaussianHead | null
  private readonly bridge: Linear
  private readonly decoderCell: RecurrentCell
  private readonly output: Linear
  private readonly bagOfWords: BagOfWordsHead | null

  constructor(readonly config: DialogueModelConfig) {
    this.params = new ParameterStore(new Random(config.seed))
    const p = this.params
    this.embedding = new Embedding(p, 'embedding', config.vocab, config.embeddingSize)
    this.utteranceEncoder = new StackedRnn(p, 'utterance_encoder', { cell: config.cell, layers: 1, inputSize: config.embeddingSize, hiddenSize: config.utteranceHidden, bidirectional: config.bidirectional, dropout: 0 })
    this.contextCell = createCell(config.cell, p, 'context_encoder', this.utteranceEncoder.outputSize, config.contextHidden)
    const latent = config.latentSize
    this.prior = latent > 0 ? new GaussianHead(p, 'prior', config.contextHidden, config.contextHidden, latent) : null
    this.posterior = latent > 0 ? new GaussianHead(p, 'posterior', config.contextHidden + this.utteranceEncoder.outputSize, config.contextHidden, latent) : null
    this.bridge = new Linear(p, 'bridge', this.conditionSize, config.decoderHidden)
    this.decoderCell = createCell(config.cell, p, 'decoder', config.embeddingSize + this.conditionSize, config.decoderHidden)
    this.output = new Linear(p, 'output', config.decoderHidden, config.vocab)
    if (config.bagOfWords && latent === 0) throw new Error('the bag-of-words loss is for VHRED (a latent size > 0)')
    this.bagOfWords = config.bagOfWords ? new BagOfWordsHead(p, this.conditionSize, config.decoderHidden, config.vocab) : null
  }

  /** The decoder's conditioning vector: the context state, plus z for VHRED. */
  get conditionSize(): number {
    return this.config.contextHidden + this.config.latentSize
  }

  /** Each utterance's vector (the utterance encoder's final state, no dropout): ids [N, L], mask [N, L] → [N, dirs·H]. */
  utteranceVectors(ids: tf.Tensor2D, mask: tf.Tensor2D): tf.Tensor2D {
    return this.encodeUtterances(ids, mask, false)
  }

  /**
   * The policy a reply is sampled from, teacher-forced over the batch's responses without dropout: logits
   * [B, T, vocab] given the context alone — VHRED's z at the prior mean, as when replying without a latent seed.
   */
  policyLogits(batch: DialogueBatch): tf.Tensor3D {
    return tidyResult(() => {
      const out = this.forwardParts(batch, false, { fromPrior: true })
      return out.logits
    })
  }

  /** ids [N, L], mask [N, L] → each utterance's final encoder state [N, directions·hidden]. */
  private encodeUtterances(ids: tf.Tensor2D, mask: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      let x = this.embedding.apply(ids) // [N, L, E]
      if (training && this.config.dropout > 0) x = dropout(x, this.config.dropout) as tf.Tensor3D
      return this.utteranceEncoder.apply(x, mask, training).finals[0]![0]! // [N, dirs·H]
    })
  }

  /** The context state after each example's last real turn [B, contextHidden]. */
  encodeContext(utterances: tf.Tensor2D, utteranceMask: tf.Tensor2D, turnMask: tf.Tensor2D, training = false): tf.Tensor2D {
    return tf.tidy(() => {
      const [batch, turns] = turnMask.shape
      const vectors = this.encodeUtterances(utterances, utteranceMask, training).reshape([batch, turns, this.utteranceEncoder.outputSize]) as tf.Tensor3D // [B, K, U]
      return unroll(this.contextCell, vectors, turnMask).final[0]! // [B, C]
    })
  }

  /** The context state after every turn [B, K, C] (padded turns repeat the last real state's zeros). */
  contextStates(utterances: tf.Tensor2D, utteranceMask: tf.Tensor2D, turnMask: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [batch, turns] = turnMask.shape
      const vectors = this.encodeUtterances(utterances, utteranceMask, false).reshape([batch, turns, this.utteranceEncoder.outputSize]) as tf.Tensor3D
      return unroll(this.contextCell, vectors, turnMask).outputs // [B, K, C]
    })
  }

  /** The prior over z for a context [B, C] (VHRED). */
  priorOf(context: tf.Tensor2D): DiagonalGaussian {
    if (!this.prior) throw new Error('HRED has no latent variable')
    return this.prior.apply(context)
  }

  /** Conditioning [B, C + Z] for a context and (VHRED) a latent sample. */
  condition(context: tf.Tensor2D, z: tf.Tensor2D | null): tf.Tensor2D {
    return z ? (tf.concat([context, z], 1) as tf.Tensor2D) : context.clone()
  }

  /** The decoder's first state from the conditioning vector. */
  initialState(condition: tf.Tensor2D): RecurrentState {
    return tf.tidy(() => {
      const h = tf.tanh(this.bridge.apply(condition)) as tf.Tensor2D // [B, D]
      return this.config.cell === 'lstm' ? [h, tf.zerosLike(h)] : [h]
    })
  }

  /** One decoder step: previous [B] int32 → logits [B, vocab] and the next state. */
  step(previous: tf.Tensor1D, condition: tf.Tensor2D, state: RecurrentState): { logits: tf.Tensor2D; state: RecurrentState } {
    return tidyResult(() => {
      const embedded = this.embedding.apply(previous.expandDims(1) as tf.Tensor2D).squeeze([1]) as tf.Tensor2D // [B, E]
      const next = this.decoderCell.step(tf.concat([embedded, condition], 1) as tf.Tensor2D, state)
      return { logits: this.output.apply(next[0]!), state: next }
    })
  }

  /**
   * Teacher-forced pass. `epsilon` [B, Z] is the noise for z (VHRED; zeros give the posterior mean); `wordDrop`
   * replaces that share of decoder inputs (not BOS) with `unk`, so the decoder must lean on the context and z.
   */
  forward(batch: DialogueBatch, training: boolean, options: { epsilon?: tf.Tensor2D; wordDrop?: number; unk?: number } = {}): DialogueForward {
    return tidyResult(() => {
      const { logits, context, kl, posteriorMean } = this.forwardParts(batch, training, options)
      return { logits, context, kl, posteriorMean }
    })
  }

  private forwardParts(batch: DialogueBatch, training: boolean, options: { epsilon?: tf.Tensor2D; wordDrop?: number; unk?: number; fromPrior?: boolean }): ForwardParts {
    return tidyResult(() => {
      const context = this.encodeContext(batch.utterances, batch.utteranceMask, batch.turnMask, training) // [B, C]
      let z: tf.Tensor2D | null = null
      let kl: tf.Tensor1D | null = null
      let klPerDimension: tf.Tensor2D | null = null
      let posteriorMean: tf.Tensor2D | null = null
      if (this.prior && options.fromPrior) z = this.prior.apply(context).mean // [B, Z]
      else if (this.prior && this.posterior) {
        const response = this.encodeUtterances(batch.tgtIn, batch.tgtInMask, training) // [B, U] (BOS + response)
        const q = this.posterior.apply(tf.concat([context, response], 1) as tf.Tensor2D)
        const p = this.prior.apply(context)
        const epsilon = options.epsilon ?? tf.zerosLike(q.mean)
        z = reparameterise(q, epsilon) // [B, Z]
        klPerDimension = gaussianKlPerDimension(q, p) // [B, Z]
        kl = klPerDimension.sum(1) as tf.Tensor1D // [B]
        posteriorMean = q.mean
      }
      const condition = this.condition(context, z) // [B, C + Z]
      let inputs = batch.tgtIn
      const drop = training ? (options.wordDrop ?? 0) : 0
      if (drop > 0) {
        if (options.unk === undefined) throw new Error('word drop needs the <unk> id')
        const [rows, length] = inputs.shape
        const keepFirst = tf.concat([tf.ones([rows, 1]), tf.zeros([rows, length - 1])], 1) // never drop BOS
        const dropped = tf.randomUniform([rows, length], 0, 1, 'float32', nextRandomSeed(rows * length)).less(drop).logicalAnd(keepFirst.equal(0))
        inputs = tf.where(dropped, tf.fill([rows, length], options.unk, 'int32'), inputs) as tf.Tensor2D
      }
      const [rows, length] = inputs.shape
      let embedded = this.embedding.apply(inputs) // [B, T, E]
      if (training && this.config.dropout > 0) embedded = dropout(embedded, this.config.dropout) as tf.Tensor3D
      // The decoder reads [embedding; condition] at every step: projected without tiling the condition T times.
      const projected = this.decoderCell.projectWithConstant(embedded as tf.Tensor3D, condition) // [B, T, gates·D]
      let outputs = unrollProjected(this.decoderCell, projected, batch.tgtInMask, this.initialState(condition)).outputs // [B, T, D]
      if (training && this.config.dropout > 0) outputs = dropout(outputs, this.config.dropout) as tf.Tensor3D
      const logits = this.output.apply(outputs).reshape([rows, length, this.config.vocab]) as tf.Tensor3D
      return { logits, context, kl, posteriorMean, klPerDimension, condition }
    })
  }

  /**
   * The loss with KL weight β (annealed by the trainer), and its parts for logging:
   * (Σ cross-entropy + β·KL term + w·Σ bag-of-words) / target tokens, the KL term with free bits when asked.
   */
  losses(
    batch: DialogueBatch,
    training: boolean,
    klWeight: number,
    options: { epsilon?: tf.Tensor2D; wordDrop?: number; unk?: number; smoothing?: number } & CollapseRemedies = {},
  ): DialogueLosses {
    return tidyResult(() => {
      const out = this.forwardParts(batch, training, options)
      const reconstruction = smoothedCrossEntropy(out.logits.reshape([-1, this.config.vocab]) as tf.Tensor2D, batch.tgtOut, batch.tgtOutMask, options.smoothing ?? 0)
      const freeBits = options.freeBits ?? 0
      const klTerm = !out.klPerDimension ? tf.scalar(0) : freeBits > 0 && training ? freeBitsKl(out.klPerDimension, freeBits) : out.kl!.sum()
      let total = reconstruction.add(klTerm.mul(klWeight / batch.targetTokens)) as tf.Scalar
      let bagOfWords = tf.scalar(0)
      const bowWeight = options.bowWeight ?? 0
      if (bowWeight > 0) {
        if (!this.bagOfWords) throw new Error('a bag-of-words weight needs a model built with bagOfWords')
        bagOfWords = this.bagOfWords.loss(out.condition, batch.tgtOut, batch.tgtOutMask).div(batch.targetTokens) as tf.Scalar
        total = total.add(bagOfWords.mul(bowWeight)) as tf.Scalar
      }
      const kl = (out.kl ? out.kl.mean() : tf.scalar(0)) as tf.Scalar
      return { total, reconstruction, kl, bagOfWords }
    })
  }

  parameterCount(): number {
    return this.params.count()
  }

  dispose(): void {
    this.params.dispose()
  }
}
