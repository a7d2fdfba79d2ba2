// Messages the engine shows in the UI (job titles, sample descriptions, backend choices): written once here in
// English (i18next {{value}} syntax). The engine sends the English text, for the CLI and logs, with the key and
// values, so the UI shows the message in its own language (renderer/src/i18n: en uses this table, ja translates it).
import { z } from 'zod'

export const engineMessages = {
  // Job titles (the jobs tray).
  jobImport: 'Import {{files}} as {{name}}',
  jobIndex: 'Index {{name}} for search',
  jobClean: 'Clean {{name}}',
  jobTokenizer: 'Train {{type}} tokenizer {{name}} ({{vocabSize}}) on {{corpus}}',
  jobTrain: 'Train {{name}}',
  jobWord2vec: 'Train word2vec {{name}}',
  jobEval: 'Evaluate {{run}} on {{split}}',
  jobTranslate: 'Translate {{lines}} lines with {{run}}',
  jobChat: 'Reply with {{run}}',
  jobWord2vecEval: 'Evaluate word2vec {{name}}',
  jobDistil: 'Translate the training split of {{run}} into {{corpus}}',
  // Model families and their presets (the Training form).
  familySeq2seq: 'RNN/LSTM/GRU encoder-decoder with Bahdanau or Luong attention (Bahdanau et al. 2015; Luong et al. 2015)',
  familyTransformer: 'encoder-decoder with multi-head attention (Vaswani et al. 2017)',
  familyHred: 'hierarchical encoder-decoder over the turns of a dialogue (Serban et al. 2016)',
  familyVhred: 'HRED with a latent variable per reply, for more varied replies (Serban et al. 2017)',
  presetSeq2seqTiny: 'GRU 64/128 with Luong attention: trains in minutes on a CPU',
  presetSeq2seqSmall: 'bidirectional LSTM 256 with Luong attention (the compute benchmark configuration)',
  presetTransformerTiny: 'd_model 64, 4 heads, 2+2 layers: trains in minutes on a CPU',
  presetTransformerBaseSmall: 'd_model 256, 4 heads, 3+3 layers',
  presetTransformerBench: 'd_model 256, 4 heads, ff 1024, 2+2 layers (the compute benchmark configuration)',
  presetHredTiny: 'GRU 64/128, three turns of context: trains in minutes on a CPU',
  presetHredSmall: 'GRU 256 (bidirectional utterance encoder), three turns of context',
  presetVhredTiny: 'GRU 64/128 with a 32-dimensional latent z, KL annealed over 300 steps, word drop 0.25',
  presetVhredSmall: 'GRU 256 with a 64-dimensional latent z, KL annealed over 2,000 steps, word drop 0.25',
  // Where a tokenizer came from (Tokenizers: source).
  tokenizerImported: 'imported from {{file}}',
  tokenizerTrained: 'trained on {{corpus}} ({{side}})',
  // The bundled samples (Corpora: source).
  sampleBible: 'sample: World English Bible ↔ Reina-Valera 1909 (public domain)',
  sampleHamlet: "sample: Shakespeare's Hamlet, scene dialogues (public domain)",
  // A corpus made by sequence-level distillation (Corpora: source).
  corpusDistilled: '{{run}} (step {{step}}, {{search}}) translating the training split of {{corpus}}',
  // Choosing a compute backend (Devices).
  reasonNone: 'no backend could start',
  reasonForced: "'{{active}}' was forced (--backend / KOTOBA_BACKEND)",
  reasonBest: "'{{active}}' is the best backend that started on this machine",
  forcedUnusable: "the forced backend '{{name}}' is not usable here: {{detail}}",
  notTriedForced: "not tried: '{{forced}}' was forced",
  notTriedBetter: 'not tried: a better backend works',
  notInstalled: '{{module}}: not installed ({{why}})',
  whyLibtensorflow: 'optional dependency; its install step downloads libtensorflow, which failed or was skipped here',
  whyWebgpu: 'the Dawn bindings for Node; install the webgpu package to try it',
  whyWasm: 'dependency missing: run npm ci',
  moduleFailed: '{{module}}: {{error}}',
  initFailed: "backend '{{name}}' failed to initialise: {{error}}",
  initRefused: "backend '{{name}}' failed to initialise",
  wrongProbe: "backend '{{name}}' computed a wrong probe result ({{value}})",
  failed: '{{error}}',
  tensorflowGpu: 'libtensorflow with CUDA (tfjs-node-gpu)',
  tensorflowCpu: 'libtensorflow on the CPU (tfjs-node)',
  webgpuNoCreate: 'webgpu: package has no create() export',
  webgpuNoVulkan: 'webgpu: no Vulkan loader (libvulkan.so.1) on this machine; install libvulkan1 and a GPU driver',
  webgpuNoAdapter: 'webgpu: no WebGPU adapter on this machine',
  webgpuSoftwareOnly: 'webgpu: only a software adapter ({{adapter}}), slower than wasm',
  webgpu: 'WebGPU on {{adapter}}{{note}}',
  webgpuSoftware: 'WebGPU on {{adapter}} (software adapter){{note}}',
  webgpuKernelsFallback: ' (fused kernels that failed to compile, run as stock ops: {{kernels}})',
  wasm: 'WebAssembly, {{simd}}, {{threads}}{{note}}, matrix products on {{products}}',
  simdOn: 'SIMD on',
  simdOff: 'SIMD off',
  oneThread: '1 thread',
  threads: '{{count}} threads',
  threadsUnavailable: ' (threads unavailable: {{error}})',
  withFusedMultiplyAdd: '{{threads}} with fused multiply-add',
  cpu: 'plain JavaScript (slowest: 100× and more behind wasm for training)',
} as const

export type MessageKey = keyof typeof engineMessages
const messageKeys = Object.keys(engineMessages) as [MessageKey, ...MessageKey[]]

/** A message by key; a value may itself be a message (e.g. "1 thread" inside a backend's detail). */
export interface LocalText {
  key: MessageKey
  values?: Record<string, string | number | LocalText>
}
export const LocalText: z.ZodType<LocalText> = z.lazy(() =>
  z.object({
    key: z.enum(messageKeys),
    values: z.record(z.string(), z.union([z.string(), z.number(), LocalText])).optional(),
  }),
)

export function message(key: MessageKey, values?: LocalText['values']): LocalText {
  return values ? { key, values } : { key }
}

/** "1 thread" or "N threads". */
export const threadCount = (count: number): LocalText => (count === 1 ? message('oneThread') : message('threads', { count }))

/** Fills a message's template, each nested message by `lookup` first (English: this table). */
export function formatMessage(text: LocalText, lookup: (key: MessageKey) => string = (key) => engineMessages[key]): string {
  const values = text.values ?? {}
  return lookup(text.key).replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
    const value = values[name]
    if (value === undefined) return whole
    return typeof value === 'object' ? formatMessage(value, lookup) : String(value)
  })
}

/** The English text of a message. */
export const english = (text: LocalText): string => formatMessage(text)
