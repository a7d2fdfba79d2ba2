// Translating lines and replying in a dialogue with an already-loaded model: shared by the warm inference worker and
// the translate job (many lines, with progress).
import { methods, SearchOptions, type ChatReplyResult, type Result } from '../../api/contract.ts'
import { checkSourceLength } from '../../api/limits.ts'
import { inspectSentence } from '../training/attention.ts'
import { replyTo, type LoadedDialogue } from '../training/chat.ts'
import { describeHypothesis, searchOne, type LoadedRun } from '../training/inference.ts'

export const TranslateParams = methods.translate.params
export const ChatReplyParams = methods['chat.reply'].params

/** Every line's n-best (and, with `inspect`, every attention map of the best hypothesis). */
export async function translateLines(
  loaded: LoadedRun,
  params: ReturnType<typeof TranslateParams.parse>,
  onLine: (done: number, total: number) => void = () => {},
  /** Throws to end early (the translate job's cancel). */
  throwIfCancelled: () => void = () => {},
): Promise<Result<'translate'>> {
  const { run, checkpoint: _checkpoint, average: _average, lines, attention, inspect, ...search } = params
  const options = SearchOptions.parse(search)
  const results: Result<'translate'>['results'] = []
  for (const [i, line] of lines.entries()) {
    throwIfCancelled()
    const srcIds = loaded.src.encode(line)
    checkSourceLength(lines.length > 1 ? `line ${i + 1}` : 'the sentence', srcIds.length, loaded.model.maxPositions)
    const hypotheses = await searchOne(loaded.model, loaded.tgt, srcIds, options)
    const best = hypotheses[0]
    const maps =
      inspect && best
        ? (await inspectSentence(loaded.model, loaded.src, loaded.tgt, srcIds, best.tokens, best.finished)).map((map) => ({ ...map, step: loaded.checkpointStep, probe: i }))
        : undefined
    results.push({ source: line, srcPieces: loaded.src.piecesOf(srcIds), hypotheses: hypotheses.map((h) => describeHypothesis(loaded.tgt, h, attention)), maps })
    onLine(i + 1, lines.length)
  }
  return { run, checkpointStep: loaded.checkpointStep, results }
}

export async function chatReply(loaded: LoadedDialogue, params: ReturnType<typeof ChatReplyParams.parse>): Promise<ChatReplyResult> {
  const { run: _run, checkpoint: _checkpoint, turns, latentSeed, ...search } = params
  return await replyTo(loaded, turns, SearchOptions.parse(search), latentSeed)
}
