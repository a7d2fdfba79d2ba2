// `kotoba export model`: a run's checkpoint as two graphs that run without the workbench, the encoder and one decoder
// step — ONNX (onnxruntime in any language) or TensorFlow.js graph models (tf.loadGraphModel, converted from the same
// ONNX graphs) — with the SentencePiece models and model.json, which names each graph's inputs and outputs, the
// special ids and the greedy loop that chains them. An int8 run is exported with its dequantised weights.
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { ApiError } from '../../api/contract.ts'
import { decodeTensors } from '../../../models/train/checkpoint-codec.ts'
import { readModelProto } from '../../../models/tokenizer/model-proto.ts'
import type { Database } from '../store/database.ts'
import { findTokenizer, tokenizerModel } from '../tokenizers/repository.ts'
import { loadRunTokenizer } from '../training/data.ts'
import { loadCheckpoint, type StoredRun } from '../training/repository.ts'
import { appVersion } from '../version.ts'
import type { OnnxGraph, ValueInfo } from './onnx-graph.ts'
import { onnxToTfjs, tfDtype } from './onnx-to-tfjs.ts'
import { seq2seqDecoderStep, seq2seqEncoder, seq2seqShapes } from './onnx-seq2seq.ts'
import { transformerDecoderStep, transformerEncoder, transformerShapes } from './onnx-transformer.ts'
import { writeWhole } from './write-whole.ts'

export type ModelExportFormat = 'onnx' | 'tfjs'

export interface ExportedModel {
  path: string
  files: string[]
  checkpointStep: number
}

interface GraphDescription {
  file: string
  inputs: { name: string; type: string; shape: (number | string)[] }[]
  outputs: { name: string; type: string; shape: (number | string)[] }[]
}

export interface ModelExportOptions {
  checkpoint?: number | undefined
  format: ModelExportFormat
  /** tfjs seq2seq: the longest source (pieces) the encoder's unrolled recurrent layers read; default: the run's training maxTokens. */
  maxSourceLength?: number | undefined
  out: string
  force: boolean
}

export async function exportModel(db: Database, run: StoredRun, options: ModelExportOptions): Promise<ExportedModel> {
  const config = run.config
  if (options.maxSourceLength !== undefined && !(options.format === 'tfjs' && config.model === 'seq2seq')) {
    throw new ApiError({ code: 'bad_request', message: 'maxSourceLength applies to tfjs exports of seq2seq runs (their unrolled recurrent encoder); Transformer and ONNX graphs read any length' })
  }
  if (config.model !== 'seq2seq' && config.model !== 'transformer') {
    throw new ApiError({ code: 'bad_request', message: `run '${run.name}' is a ${config.model} dialogue model; model export covers translation runs (seq2seq, transformer)` })
  }
  const checkpoint = loadCheckpoint(db, run.id, options.checkpoint === undefined ? 'best' : { step: options.checkpoint })
  if (!checkpoint) throw new ApiError({ code: 'bad_request', message: options.checkpoint === undefined ? `run '${run.name}' has no checkpoint yet` : `run '${run.name}' has no checkpoint at step ${options.checkpoint}` })
  const dir = resolve(options.out)
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ApiError({ code: 'bad_request', message: `${dir} is a file; a model export is a folder` })
  if (existsSync(dir) && readdirSync(dir).length > 0 && !options.force) {
    throw new ApiError({ code: 'conflict', message: `${dir} is not empty; choose another folder, or replace the export's files there with --force (force: true)` })
  }
  mkdirSync(dir, { recursive: true })
  const weights = new Map(decodeTensors(checkpoint.weights).map((array) => [array.name, array]))
  const src = await loadRunTokenizer(db, config.tokenizer)
  const tgt = await loadRunTokenizer(db, config.tgtTokenizer)
  const files: string[] = []
  const write = (relative: string, contents: string | Uint8Array) => {
    mkdirSync(dirname(join(dir, relative)), { recursive: true })
    writeWhole(join(dir, relative), contents)
    files.push(relative)
  }

  let encoder: OnnxGraph
  let step: OnnxGraph
  let loop: Record<string, unknown>
  if (config.model === 'seq2seq') {
    const seq2seq = config.seq2seq!
    encoder = seq2seqEncoder(seq2seq, weights)
    step = seq2seqDecoderStep(seq2seq, weights, tgt.vocabSize)
    const shapes = seq2seqShapes(seq2seq)
    const carried = [...shapes.states.flat(), ...(shapes.inputFeeding ? ['feed'] : [])]
    loop = {
      kind: 'seq2seq',
      encoderToStep: Object.fromEntries([...carried, ...(shapes.attention ? ['memory', 'keys'] : [])].map((name) => [name, name])),
      passThrough: shapes.attention ? { src_mask: 'src_mask' } : {},
      stepToStep: Object.fromEntries(carried.map((name) => [`next_${name}`, name])),
    }
  } else {
    const transformer = config.transformer!
    encoder = transformerEncoder(transformer, weights)
    step = transformerDecoderStep(transformer, weights, tgt.vocabSize)
    const shapes = transformerShapes(transformer)
    loop = {
      kind: 'transformer',
      encoderToStep: Object.fromEntries(shapes.crossCaches.map((name) => [name, name])),
      passThrough: { src_mask: 'src_mask' },
      stepToStep: Object.fromEntries(shapes.selfCaches.map((name) => [`next_${name}`, name])),
      initialSelfCaches: { names: shapes.selfCaches, shape: ['batch', transformer.heads, 0, transformer.dModel / transformer.heads] },
      positionInput: 'position',
      maxLength: transformer.maxLength,
    }
  }
  const producer = { name: 'kotoba-workbench', version: appVersion }
  const onnx = options.format === 'onnx'
  // tfjs has no recurrent operator: a seq2seq encoder is unrolled this far.
  const maxSourceLength = !onnx && config.model === 'seq2seq' ? (options.maxSourceLength ?? config.training.maxTokens) : undefined
  const checkpointStep = checkpoint.step
  const writeGraph = (graph: OnnxGraph, name: string, what: string): GraphDescription => {
    if (onnx) {
      write(`${name}.onnx`, graph.encode(producer, `Kotoba Workbench run '${run.name}' (${config.model}), checkpoint ${checkpointStep}: ${what}`))
      return { file: `${name}.onnx`, ...graph.signature() }
    }
    // Only the seq2seq encoder has sequence_lens; the decoder step's recurrent layers run one step.
    const converted = onnxToTfjs(graph, { recurrentSteps: maxSourceLength ?? 1, weightsPath: 'weights.bin', producer: `Kotoba Workbench ${appVersion}` })
    write(`${name}/model.json`, `${JSON.stringify(converted.json)}\n`)
    write(`${name}/weights.bin`, converted.weights)
    const asTfjs = (values: ValueInfo[]) => values.map((v) => ({ ...v, type: tfDtype(v.type) }))
    const { inputs, outputs } = graph.signature()
    return { file: `${name}/model.json`, inputs: asTfjs(inputs), outputs: asTfjs(outputs) }
  }
  const graphs = { encoder: writeGraph(encoder, 'encoder', 'encoder'), decoderStep: writeGraph(step, 'decoder_step', 'one decoder step') }

  // The tokenizers as they are (spm_encode and sentencepiece in any language load them).
  const joint = config.tokenizer === config.tgtTokenizer
  const tokenizerFile = (name: string, label: string) => {
    const file = joint ? `${name}.model` : `${label}-${name}.model`
    const bytes = tokenizerModel(db, findTokenizer(db, name)!.id)
    readModelProto(bytes) // refuse to write a model we cannot read back
    write(file, bytes)
    return file
  }
  const srcModel = tokenizerFile(config.tokenizer, 'src')
  const tgtModel = joint ? srcModel : tokenizerFile(config.tgtTokenizer, 'tgt')

  const description = {
    format: options.format,
    ...(onnx ? { opset: 17 } : { tfjs: 'graph-model: tf.loadGraphModel(url of encoder/model.json), or tf.io.fromMemory with the file and weights.bin; int64 ids are int32' }),
    exportedBy: `Kotoba Workbench ${appVersion}`,
    run: run.name,
    model: config.model,
    checkpointStep: checkpoint.step,
    quantization: config.quantization ? 'int8 weights, exported dequantised (float32)' : null,
    tokenizers: { source: srcModel, target: tgtModel },
    special: { source: { bos: src.bos, eos: src.eos, pad: src.pad, unk: src.unk }, target: { bos: tgt.bos, eos: tgt.eos, pad: tgt.pad, unk: tgt.unk } },
    vocab: { source: src.vocabSize, target: tgt.vocabSize },
    ...graphs,
    ...(maxSourceLength !== undefined ? { maxSourceLength } : {}),
    greedy: [
      `ids = SentencePiece(source model).encode(text); src = [ids] (${onnx ? 'int64' : 'int32'}), src_mask = ones (float32, 1 = token, 0 = padding)${maxSourceLength !== undefined ? `; at most maxSourceLength (${maxSourceLength}) ids: the encoder's recurrent layers are unrolled that far and refuse longer sources` : ''}`,
      'outputs = encoder(src, src_mask)',
      'prev = [target bos]; feed the step graph with `encoderToStep` outputs, `passThrough` inputs and the loop state',
      'repeat: logits = step(...); next = argmax(logits) (the first on ties); stop at target eos or after maxOutput tokens; carry `stepToStep` outputs into the next step',
      'text = SentencePiece(target model).decode(tokens)',
    ],
    maxOutput: config.model === 'transformer' ? `min(2·len(ids) + 10, ${config.transformer!.maxLength - 1})` : '2·len(ids) + 10',
    loop,
  }
  write('model.json', `${JSON.stringify(description, null, 2)}\n`)
  return { path: dir, files, checkpointStep: checkpoint.step }
}
