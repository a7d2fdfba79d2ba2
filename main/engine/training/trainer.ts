// The training loop of a run, inside a job's worker thread: batches, updates, live metrics, validation
// (loss, perplexity, BLEU/chrF/TER, probe hypotheses and attention), checkpoints, keep-best, early stopping,
// and pause/stop/crash-safe resumption from the last checkpoint.
import type * as tf from '@tensorflow/tfjs'
import type { AttentionMap, EngineEvent, RunConfig, RunStatus, ValidationMetric } from '../../api/contract.ts'
import type { ParameterStore } from '../../../models/core/params.ts'
import { Adam } from '../../../models/train/adam.ts'
import { epochBatches, splitExamples, type Example } from '../../../models/train/batching.ts'
import { initialPlateau, learningRate, observePlateau, type PlateauState } from '../../../models/train/schedules.ts'
import { seedTrainingStep } from '../../../models/layers/dropout.ts'
import { trainUpdate, UpdateNotAppliedError, type BatchSize, type UpdateResult } from '../../../models/train/train-step.ts'
import { targetLogPrior } from '../../../models/train/output-prior.ts'
import { isMaskUpdate, MagnitudePruner, overallSparsity, scheduledSparsity } from '../../../models/train/magnitude-pruning.ts'
import { disposeTranslationBatch, makeTranslationBatch, type TranslationBatch } from '../../../models/translation/batch.ts'
import type { TranslationModel } from '../../../models/translation/model.ts'
import type { Database } from '../store/database.ts'
import { DiskFullError, isBusy, isDiskFull, retryWhileBusy } from '../store/conditions.ts'
import { formatBytes, isOutOfMemory } from '../compute/out-of-memory.ts'
import { memoryPeakBytes, resetMemoryPeak } from '../compute/memory-usage.ts'
import { explainGpuLoss, GpuLostError } from '../compute/gpu-loss.ts'
import { deviceUpdateWatch, takeDeviceErrors, watchedOnDevice } from '../compute/webgpu-memory.ts'
import { dialogueScoreEntries } from '../../../models/metrics/dialogue.ts'
import { encodePairs, isDialogueCorpus, loadRunTokenizer, requireSplits, splitPairs, type ParallelText, type RunTokenizer } from './data.ts'
import { dialogueTask } from './dialogue-task.ts'
import { SelfCriticalTrainer, type SelfCriticalBatch } from './self-critical.ts'
import { greedyMany, loadRun, meanLoss, scoreTexts, validationBatch } from './inference.ts'
import { distillationLoss } from '../../../models/losses/word-distillation.ts'
import { inspectSentence } from './attention.ts'
import { buildModel, encodeOptimizer, encodeWeights, restoreOptimizer, restoreWeights } from './model-state.ts'
import {
  findRun,
  latestCheckpointStep,
  loadCheckpoint,
  markBestCheckpoint,
  pruneCheckpoints,
  recordMetrics,
  saveAttentionMaps,
  saveCheckpoint,
  requestRunControl,
  runControl,
  samplesStored,
  saveSamples,
  setRunProcess,
  truncateAfter,
  updateRun,
  recordDeviceSpeed,
  type TrainingDevice,
  type MetricRecord,
  type StoredRun,
} from './repository.ts'

export type ControlRequest = 'pause' | 'stop' | null

export interface TrainerContext {
  db: Database
  /** A cancel (jobs.cancel) or a pause/stop request from the run controls. */
  request: () => ControlRequest
  progress: (step: number, maxSteps: number) => void
  emit: (event: EngineEvent) => void
  /** What this job's backend computes on; its training speed is kept per device (null: not known). */
  device?: TrainingDevice | null
}

/** Where training stands: saved with every checkpoint so a resume continues exactly there. */
interface TrainerState {
  step: number
  epoch: number
  batchInEpoch: number
  plateau: PlateauState
  best: number | null
  badValidations: number
}

const higherIsBetter: Record<ValidationMetric, boolean> = { 'dev/bleu': true, 'dev/chrf': true, 'dev/ter': false, 'dev/loss': false }

/** What one validation measured: the points to record and the values keep-best and early stopping read. */
export interface Validation {
  points: MetricRecord[]
  values: Record<ValidationMetric, number>
  /** Stores what else it made (samples, probes' attention maps), once its results are known to be whole. */
  store(): void
}

/** What the loop trains: the model's parameters, examples to batch, and the parts that depend on the kind of model. */
export interface TrainingTask<B extends BatchSize> {
  readonly params: ParameterStore
  readonly examples: Example[]
  /** The tensors of micro-batch `part` of update `step` (1-based); policy-gradient tasks roll out the model here. */
  makeBatch(examples: Example[], step: number, part: number): B | Promise<B>
  disposeBatch(batch: B): void
  /** The training loss of one micro-batch at this update (1-based step). */
  loss(batch: B, step: number): tf.Scalar
  /** Values logged beside train/loss for the last update (e.g. a KL term); read once after each update. */
  updateExtras(): Promise<Record<string, number>>
  /** Validates at `step`, its batches `split` times smaller than by default (to fit in memory). */
  validate(step: number, split: number): Promise<Validation>
  parameterCount(): number
  dispose(): void
}

/** Setup shared by every kind of run: tokenizers, splits and the model, restored from a checkpoint when there is one. */
export interface TaskSetup {
  db: Database
  run: StoredRun
  config: RunConfig
  /** True when training starts from scratch (initialise, e.g. the output bias from the target prior). */
  fresh: boolean
}

async function translationTask({ db, run, config, fresh }: TaskSetup): Promise<TrainingTask<TranslationBatch> | TrainingTask<SelfCriticalBatch>> {
  const training = config.training
  const src = await loadRunTokenizer(db, config.tokenizer)
  const tgt = await loadRunTokenizer(db, config.tgtTokenizer)
  const model = buildModel(config, { src: src.vocabSize, tgt: tgt.vocabSize })
  // A Transformer's position table bounds both sides; the decoder input also holds <s>.
  const longest = Math.min(training.maxTokens, model.maxPositions - 1)
  const train = encodePairs(splitPairs(db, config.corpus, 'train'), src, tgt, longest)
  if (train.examples.length === 0) {
    model.dispose()
    throw new Error(`no usable training pairs (all ${train.skipped} were empty or longer than ${longest} pieces)`)
  }
  const devPairs = splitPairs(db, config.corpus, 'dev').slice(0, training.validSentences)
  const dev = encodePairs(devPairs, src, tgt, model.maxPositions - 1).examples
  if (fresh) model.setOutputBias(targetLogPrior(train.examples, tgt.vocabSize, tgt.eos))
  const validator = new TranslationValidator(db, run, model, src, tgt, devPairs, dev)
  const shared = {
    params: model.params,
    examples: train.examples,
    validate: (step: number, split: number) => validator.validate(step, split),
    parameterCount: () => model.parameterCount(),
  }
  if (config.reinforcement) {
    const scst = new SelfCriticalTrainer(model, tgt, config.reinforcement, training.seed, training.labelSmoothing)
    const task: TrainingTask<SelfCriticalBatch> = {
      ...shared,
      makeBatch: (examples, step, part) => scst.makeBatch(examples, step, part),
      disposeBatch: (batch) => scst.disposeBatch(batch),
      loss: (batch) => scst.loss(batch),
      updateExtras: () => scst.takeExtras(),
      dispose: () => {
        scst.dispose()
        model.dispose()
      },
    }
    return task
  }
  // Word-level distillation (not in a reinforced phase): the frozen teacher's distribution mixed into every target (it replaces label smoothing).
  const distillation = config.distillation
  const teacher = distillation
    ? await loadRun(db, distillation.teacher, distillation.checkpointStep).catch((error: unknown) => {
        model.dispose()
        throw new Error(`the distillation teacher cannot be loaded: ${(error as Error).message}`)
      })
    : null
  const loss = (batch: TranslationBatch): tf.Scalar => {
    if (!teacher || !distillation) return model.loss(batch, true, training.labelSmoothing)
    return distillationLoss(model, teacher.model, batch, distillation.weight)
  }
  return {
    ...shared,
    makeBatch: (examples) => makeTranslationBatch(examples, tgt),
    disposeBatch: disposeTranslationBatch,
    loss,
    updateExtras: async () => ({}),
    dispose: () => {
      model.dispose()
      teacher?.model.dispose()
    },
  }
}

export async function trainRun(name: string, context: TrainerContext): Promise<{ status: RunStatus; step: number }> {
  const { db } = context
  const run = findRun(db, name)
  if (!run) throw new Error(`no run named '${name}'`)
  const config = run.config
  const training = config.training
  const setStatus = (status: RunStatus, step: number, error: string | null = null) => {
    retryWhileBusy(() => updateRun(db, run.id, { status, step, error }))
    context.emit({ event: 'run.changed', data: { name, status, step } })
  }
  let task: TrainingTask<BatchSize> | null = null
  const optimizer = new Adam({ beta1: training.beta1, beta2: training.beta2, epsilon: 1e-8, weightDecay: training.optimizer === 'adamw' ? training.weightDecay : 0 })
  let state: TrainerState = { step: 0, epoch: 0, batchInEpoch: 0, plateau: initialPlateau, best: null, badValidations: 0 }
  try {
    requireSplits(db, config)
    const checkpoint = loadCheckpoint(db, run.id, 'latest')
    const setup: TaskSetup = { db, run, config, fresh: !checkpoint }
    task = (config.model === 'hred' || config.model === 'vhred' ? await dialogueTask(setup) : await translationTask(setup)) as TrainingTask<BatchSize>
    if (checkpoint) {
      restoreWeights(task, checkpoint.weights)
      state = checkpoint.meta['trainer'] as TrainerState
      if (checkpoint.optimizer) restoreOptimizer(optimizer, checkpoint.optimizer, state.step)
    }
    retryWhileBusy(() => truncateAfter(db, run.id, state.step)) // anything logged after the checkpoint belongs to a lost attempt
    if (state.step >= training.maxSteps) {
      setStatus('done', state.step)
      return { status: 'done', step: state.step }
    }
    retryWhileBusy(() => {
      setRunProcess(db, run.id, process.pid)
      requestRunControl(db, run.id, null)
    })
    // Recorded before the run reads as running, so the dashboard has the count when it reloads on that event.
    recordMetrics(db, run.id, [{ metric: 'model/parameters', step: 0, value: task.parameterCount() }])
    setStatus('running', state.step)
    context.progress(state.step, training.maxSteps)
    const outcome = await new Trainer(db, run, task, optimizer, context).loop(state)
    setStatus(outcome.status, outcome.step)
    return outcome
  } catch (caught) {
    const error = await explainGpuLoss(caught)
    if (isDiskFull(error) || isBusy(error) || error instanceof GpuLostError) {
      // Expected conditions, not a broken run: the last checkpoint is whole (its transaction rolled back), so the
      // run pauses there and `runs resume` continues once there is space, the other writer is done or the GPU is back.
      const fault = isDiskFull(error) ? new DiskFullError('a checkpoint or metrics of the run', error) : error
      const step = latestCheckpointStep(db, run.id) ?? 0
      try {
        setStatus('paused', step, `paused at the last checkpoint (step ${step}): ${fault instanceof Error ? fault.message : String(fault)}`)
      } catch {
        // The disk is still full: the next engine start marks the run paused (its process is gone by then).
      }
      throw fault
    }
    setStatus('failed', findRun(db, name)?.step ?? state.step, error instanceof Error ? error.message : String(error))
    throw error
  } finally {
    try {
      retryWhileBusy(() => {
        setRunProcess(db, run.id, null)
        requestRunControl(db, run.id, null)
      })
    } catch {
      // as above: a dead process's pid is cleared at the next start
    }
    task?.dispose()
    optimizer.dispose()
  }
}

class Trainer<B extends BatchSize> {
  private window = { loss: 0, tokens: 0, sourceTokens: 0, gradNorm: 0, updates: 0, extras: new Map<string, number>(), peakBytes: 0, started: performance.now() }
  /** Into how many parts each batch is split to fit in memory (doubled at each out-of-memory update). */
  private memorySplit = 1
  /** Into how many parts validation's batches are split (doubled at each out-of-memory validation). */
  private validationSplit = 1

  constructor(
    private readonly db: Database,
    private readonly run: StoredRun,
    private readonly task: TrainingTask<B>,
    private readonly optimizer: Adam,
    private readonly context: TrainerContext,
  ) {}

  private get training() {
    return this.run.config.training
  }

  /** Pruned runs: the masks, set before the first update and re-applied after each. */
  private pruner: MagnitudePruner | null = null

  async loop(initial: TrainerState): Promise<{ status: RunStatus; step: number }> {
    const pruning = this.run.config.pruning
    if (!pruning) return this.train(initial)
    this.pruner = new MagnitudePruner(this.task.params, pruning.scope)
    try {
      // A resumed run's pruned weights were saved as zeros: they are its masks. At the start, one-shot pruning prunes all at once.
      if (initial.step > pruning.startStep) await this.pruner.keepNonZero()
      else if (scheduledSparsity(pruning, initial.step) > 0) await this.pruner.prune(scheduledSparsity(pruning, initial.step))
      return await this.train(initial)
    } finally {
      this.pruner.dispose()
      this.pruner = null
    }
  }

  /** After an update: new masks on the schedule's steps, otherwise the pruned weights back to zero. */
  private async keepPruned(step: number): Promise<void> {
    const pruning = this.run.config.pruning
    if (!this.pruner || !pruning) return
    if (isMaskUpdate(pruning, step)) await this.pruner.prune(scheduledSparsity(pruning, step))
    else this.pruner.apply()
  }

  private async train(initial: TrainerState): Promise<{ status: RunStatus; step: number }> {
    let state = { ...initial }
    const training = { ...this.training }
    const examples = this.task.examples
    let batches = epochBatches(examples, training.tokenBudget, training.seed, state.epoch)
    while (state.step < training.maxSteps) {
      const micro: Example[][] = []
      while (micro.length < training.accumulate) {
        if (state.batchInEpoch >= batches.length) {
          state = { ...state, epoch: state.epoch + 1, batchInEpoch: 0 }
          batches = epochBatches(examples, training.tokenBudget, training.seed, state.epoch)
        }
        micro.push(batches[state.batchInEpoch]!.map((i) => examples[i]!))
        state.batchInEpoch++
      }
      const lr = learningRate(training.schedule, training.lr, state.step + 1, state.plateau)
      const step = state.step + 1
      const update = await this.updateWithinMemory(micro, step, lr)
      state.step++
      await this.keepPruned(state.step)
      this.observe(update.loss, update.targetTokens, update.sourceTokens, update.gradNorm, await this.task.updateExtras())
      if (state.step % training.logEvery === 0 || state.step === training.maxSteps) {
        this.logWindow(state.step, lr)
        training.maxSteps = findRun(this.db, this.run.name)?.config.training.maxSteps ?? training.maxSteps // `runs extend` while running
      }
      this.context.progress(state.step, training.maxSteps)

      let validated: { improved: boolean } | null = null
      if (state.step % training.validEvery === 0 || state.step === training.maxSteps) {
        const result = await this.validate(state)
        state = result.state
        validated = { improved: result.improved }
      }
      const request = this.context.request() ?? runControl(this.db, this.run.id)
      const finished = state.step >= training.maxSteps
      const early = training.patience > 0 && state.badValidations >= training.patience
      if (validated || finished || early || request || state.step % training.checkpointEvery === 0) {
        await this.checkpoint(state, validated?.improved ?? false)
      }
      if (request) return { status: request === 'stop' ? 'stopped' : 'paused', step: state.step }
      if (early) return { status: 'done', step: state.step }
    }
    return { status: 'done', step: state.step }
  }

  /** One update over these micro-batches. When it runs out of memory before anything changed (after one retry where
   *  a GPU's pooled buffers were freed), every micro-batch is split in two and the update runs again, accumulating the
   *  parts' gradients: the same update in more, smaller pieces. The split stays for the rest of the run (the next
   *  batches are as big). */
  private async updateWithinMemory(micro: Example[][], step: number, lr: number): Promise<UpdateResult> {
    let retriedAfterPool = false
    for (;;) {
      const parts = micro.flatMap((examples) => splitExamples(examples, this.memorySplit))
      const tensors: B[] = []
      resetMemoryPeak()
      try {
        for (const [part, batch] of parts.entries()) tensors.push(await this.makeBatchRetryingLostThreads(batch, step, part))
        const update = await this.updateRetryingLostThreads(tensors, step, lr)
        // A GPU that failed asynchronously after the gradients (a lost device, memory while the optimizer ran) has
        // applied an update of garbage; a failure before them was an UpdateNotAppliedError.
        const [deviceError] = takeDeviceErrors()
        if (deviceError) throw new Error(`the GPU reported an error by update ${step}, so the model may have trained on garbage; the run stops, its last checkpoint is whole: ${deviceError}`)
        this.window.peakBytes = Math.max(this.window.peakBytes, memoryPeakBytes() ?? 0)
        return update
      } catch (error) {
        const failure = error instanceof UpdateNotAppliedError ? error.cause : error
        const notApplied = error instanceof UpdateNotAppliedError || tensors.length < parts.length ? failure : null
        if (!isOutOfMemory(notApplied)) throw failure
        if (!retriedAfterPool && this.retriesAfterPool(notApplied, `step ${step}`)) {
          retriedAfterPool = true
          continue
        }
        if (parts.every((examples) => examples.length === 1)) throw failure
        this.memorySplit *= 2
        process.stderr.write(`kotoba: run ${this.run.name}, step ${step}: ${(notApplied as Error).message.split(';')[0]}; splitting each batch into ${this.memorySplit} parts\n`)
        this.record([{ metric: 'train/memory_split', step, value: this.memorySplit }])
      } finally {
        tensors.forEach((batch) => this.task.disposeBatch(batch))
      }
    }
  }

  /** Whether work that ran out of GPU memory runs again at the same size first: the device reported it only after
   *  the work, and the pool of released buffers (sized for earlier batches) that held room has been freed since. */
  private retriesAfterPool(failure: unknown, where: string): boolean {
    const pooledBytesFreed = (failure as { pooledBytesFreed?: number } | null)?.pooledBytesFreed ?? 0
    if (pooledBytesFreed === 0) return false
    const message = (failure as Error).message.split(';')[0]
    process.stderr.write(`kotoba: run ${this.run.name}, ${where}: ${message}; ${formatBytes(pooledBytesFreed)} of pooled GPU buffers freed, retrying at the same size\n`)
    return true
  }

  /** A batch (with a reinforced phase, its rollouts); when a compute thread was lost while it was made (the pool has
   *  restarted), it is made again: rollouts are seeded by (seed, step, part), so the retry samples the same ones. */
  private async makeBatchRetryingLostThreads(examples: Example[], step: number, part: number): Promise<B> {
    const maxAttempts = 3
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.task.makeBatch(examples, step, part)
      } catch (error) {
        if ((error as { retryable?: unknown } | null)?.retryable !== true || attempt >= maxAttempts) throw error
        process.stderr.write(`kotoba: run ${this.run.name}, step ${step}: ${(error as Error).message}; retrying the batch (attempt ${attempt + 1} of ${maxAttempts})\n`)
        this.record([{ metric: 'train/retried_steps', step, value: attempt }])
      }
    }
  }

  /** One update; when a compute thread was lost before anything changed (the pool has restarted), the same update
   *  runs again: a dead helper costs a retried step, not the run. */
  private async updateRetryingLostThreads(tensors: B[], step: number, lr: number): Promise<UpdateResult> {
    const maxAttempts = 3
    for (let attempt = 1; ; attempt++) {
      try {
        seedTrainingStep(this.training.seed, step)
        const lossOf = (batch: B) => this.task.loss(batch, step)
        return await trainUpdate(this.task.params, lossOf, tensors, this.optimizer, lr, this.training.clipNorm, deviceUpdateWatch())
      } catch (error) {
        const retryable = error instanceof UpdateNotAppliedError && (error.cause as { retryable?: unknown } | null)?.retryable === true
        // Out of memory before anything changed stays wrapped: updateWithinMemory splits the batch.
        if (error instanceof UpdateNotAppliedError && isOutOfMemory(error.cause)) throw error
        if (!retryable || attempt >= maxAttempts) throw error instanceof UpdateNotAppliedError ? error.cause : error
        process.stderr.write(`kotoba: run ${this.run.name}, step ${step}: ${error.message}; retrying the step (attempt ${attempt + 1} of ${maxAttempts})\n`)
        this.record([{ metric: 'train/retried_steps', step, value: attempt }])
      }
    }
  }

  private observe(loss: number, tokens: number, sourceTokens: number, gradNorm: number, extras: Record<string, number>): void {
    if (!Number.isFinite(loss)) throw new Error(`the training loss became ${loss}; lower the learning rate or clip gradients harder`)
    this.window.loss += loss * tokens
    this.window.tokens += tokens
    this.window.sourceTokens += sourceTokens
    this.window.gradNorm += gradNorm
    this.window.updates++
    for (const [metric, value] of Object.entries(extras)) this.window.extras.set(metric, (this.window.extras.get(metric) ?? 0) + value)
  }

  private logWindow(step: number, lr: number): void {
    const w = this.window
    if (w.updates === 0) return
    const seconds = (performance.now() - w.started) / 1000
    const loss = w.loss / w.tokens
    const tokensPerSecond = (w.tokens + w.sourceTokens) / Math.max(seconds, 1e-6)
    const points: MetricRecord[] = [
      { metric: 'train/loss', step, value: loss },
      { metric: 'train/ppl', step, value: Math.exp(loss) },
      { metric: 'train/lr', step, value: lr },
      { metric: 'train/grad_norm', step, value: w.gradNorm / w.updates },
      { metric: 'train/tokens_per_s', step, value: tokensPerSecond },
      ...[...w.extras].map(([metric, total]) => ({ metric, step, value: total / w.updates })),
      ...(this.run.config.pruning ? [{ metric: 'prune/target_sparsity', step, value: scheduledSparsity(this.run.config.pruning, step) }] : []),
      // The most memory tensors held during the window's updates (wasm backend).
      ...(w.peakBytes > 0 ? [{ metric: 'train/memory_mib', step, value: w.peakBytes / 2 ** 20 }] : []),
    ]
    this.record(points)
    retryWhileBusy(() => updateRun(this.db, this.run.id, { step }))
    const device = this.context.device
    if (device) retryWhileBusy(() => recordDeviceSpeed(this.db, this.run.id, device, tokensPerSecond, step))
    this.window = { loss: 0, tokens: 0, sourceTokens: 0, gradNorm: 0, updates: 0, extras: new Map(), peakBytes: 0, started: performance.now() }
  }

  private record(points: MetricRecord[]): void {
    recordMetrics(this.db, this.run.id, points)
    this.context.emit({ event: 'run.metrics', data: { name: this.run.name, points: points.map(({ metric, step, value }) => ({ metric, step, value })) } })
  }

  private async validate(state: TrainerState): Promise<{ state: TrainerState; improved: boolean }> {
    const { training } = this
    const started = performance.now()
    const { points, values } = await this.validateWithinMemory(state.step)
    this.record([...points, { metric: 'dev/seconds', step: state.step, value: (performance.now() - started) / 1000 }])
    const value = values[training.bestMetric]
    const better = higherIsBetter[training.bestMetric]
    const improved = state.best === null || (better ? value > state.best : value < state.best)
    return {
      improved,
      state: {
        ...state,
        best: improved ? value : state.best,
        badValidations: improved ? 0 : state.badValidations + 1,
        plateau: observePlateau(training.schedule, state.plateau, value, !better),
      },
    }
  }

  /** A validation in batches that fit in memory: as small as the updates' at least, and halved while it runs out of
   *  memory (on the GPU also when the device says so only after the work: its results were garbage). Nothing is stored
   *  from a validation that failed. */
  private async validateWithinMemory(step: number): Promise<Validation> {
    let retriedAfterPool = false
    for (;;) {
      const split = Math.max(this.memorySplit, this.validationSplit)
      resetMemoryPeak()
      try {
        const validation = await watchedOnDevice("the validation's work", () => this.task.validate(step, split))
        const peak = memoryPeakBytes()
        validation.store()
        return peak !== null ? { ...validation, points: [...validation.points, { metric: 'dev/memory_mib', step, value: peak / 2 ** 20 }] } : validation
      } catch (failure) {
        if (!isOutOfMemory(failure)) throw failure
        if (!retriedAfterPool && this.retriesAfterPool(failure, `validation at step ${step}`)) {
          retriedAfterPool = true
          continue
        }
        if (split >= validationBatch) throw failure
        this.validationSplit = split * 2
        process.stderr.write(`kotoba: run ${this.run.name}, validation at step ${step}: ${(failure as Error).message.split(';')[0]}; splitting its batches into ${this.validationSplit} parts\n`)
        this.record([{ metric: 'dev/memory_split', step, value: this.validationSplit }])
      }
    }
  }

  private async checkpoint(state: TrainerState, best: boolean): Promise<void> {
    const weights = await encodeWeights(this.task)
    const optimizerState = await encodeOptimizer(this.optimizer)
    const layers = this.pruner ? await this.pruner.sparsityByLayer() : null
    if (layers) this.record([{ metric: 'prune/sparsity', step: state.step, value: overallSparsity(layers) }])
    // One transaction: the checkpoint, its best flag and the run's step move together. Taken IMMEDIATE and retried
    // whole while another process writes (an import's chunk), so SQLITE_BUSY never fails the run.
    const save = this.db.transaction(() => {
      const checkpointId = saveCheckpoint(this.db, this.run.id, state.step, { weights, optimizer: optimizerState, meta: { trainer: state, ...(layers ? { sparsity: layers } : {}) } })
      if (best) markBestCheckpoint(this.db, this.run.id, checkpointId)
      pruneCheckpoints(this.db, this.run.id, this.training.keepCheckpoints)
      updateRun(this.db, this.run.id, { step: state.step })
      this.db.prepare('UPDATE attention_maps SET checkpoint_id = ? WHERE run_id = ? AND step = ?').run(checkpointId, this.run.id, state.step)
    })
    retryWhileBusy(() => save.immediate())
    this.context.emit({ event: 'run.changed', data: { name: this.run.name, status: 'running', step: state.step } })
  }
}

/** Translation validation: dev loss and perplexity, greedy BLEU/chrF/TER, samples, and the probes' attention maps. */
class TranslationValidator {
  /** The dev sources as piece ids, encoded once for every validation. */
  private readonly devSources: number[][]
  /** The dev references as piece ids (probes' forced outputs), truncated like training targets. */
  private readonly devReferences: number[][]
  /** A seq2seq baseline on a dialogue corpus is scored like HRED/VHRED too (F1, distinct-n, length). */
  private readonly dialogueCorpus: boolean

  constructor(
    private readonly db: Database,
    private readonly run: StoredRun,
    private readonly model: TranslationModel,
    private readonly src: RunTokenizer,
    private readonly tgt: RunTokenizer,
    private readonly devPairs: ParallelText[],
    private readonly dev: Example[],
  ) {
    this.devSources = devPairs.map((p) => src.encode(p.src).slice(0, model.maxPositions)) // cut to what the model can read, like JoeyNMT's max_src_length
    this.devReferences = devPairs.slice(0, run.config.training.probes).map((p) => tgt.encode(p.tgt).slice(0, Math.min(run.config.training.maxTokens, model.maxPositions - 1)))
    this.dialogueCorpus = isDialogueCorpus(db, run.config.corpus)
  }

  async validate(step: number, split: number): Promise<Validation> {
    const training = this.run.config.training
    const devLoss = await meanLoss(this.model, this.dev, this.tgt, Math.max(1, Math.floor(training.tokenBudget / split)))
    const sources = this.devSources
    const decoded = await greedyMany(this.model, this.tgt, sources, Math.max(1, Math.floor(validationBatch / split)))
    const hypotheses = decoded.map((h) => this.tgt.decode(h.tokens))
    const scores = scoreTexts(hypotheses, this.devPairs.map((p) => p.tgt))
    const maps: AttentionMap[] = []
    const referenceMaps: AttentionMap[] = []
    for (let probe = 0; probe < Math.min(training.probes, decoded.length); probe++) {
      const hyp = decoded[probe]!
      const sentence = await inspectSentence(this.model, this.src, this.tgt, sources[probe]!, hyp.tokens, hyp.finished)
      maps.push(...sentence.map((map) => ({ ...map, step, probe })))
      // The reference forced through the same model: a fixed output, so steps can be compared cell by cell.
      const forced = await inspectSentence(this.model, this.src, this.tgt, sources[probe]!, this.devReferences[probe]!, true)
      referenceMaps.push(...forced.map((map) => ({ ...map, step, probe })))
    }
    return {
      store: () => {
        const samples = this.devPairs.slice(0, samplesStored).map((p, index) => ({ index, source: p.src, reference: p.tgt, hypothesis: hypotheses[index]! }))
        saveSamples(this.db, this.run.id, step, samples)
        saveAttentionMaps(this.db, this.run.id, null, maps)
        saveAttentionMaps(this.db, this.run.id, null, referenceMaps, 'reference')
      },
      points: [
        { metric: 'dev/loss', step, value: devLoss },
        { metric: 'dev/ppl', step, value: Math.exp(devLoss) },
        { metric: 'dev/bleu', step, value: scores.bleu.score, signature: scores.bleu.signature },
        { metric: 'dev/chrf', step, value: scores.chrf.score, signature: scores.chrf.signature },
        { metric: 'dev/ter', step, value: scores.ter.score, signature: scores.ter.signature },
        ...(this.dialogueCorpus ? dialogueScoreEntries(hypotheses, this.devPairs.map((p) => p.tgt)).map((e) => ({ metric: `dev/${e.metric}`, step, value: e.score })) : []),
      ],
      values: { 'dev/loss': devLoss, 'dev/bleu': scores.bleu.score, 'dev/chrf': scores.chrf.score, 'dev/ter': scores.ter.score },
    }
  }
}
