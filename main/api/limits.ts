// Input limits and the schema of names, shared by every part of the API contract.
import { z } from 'zod'

/** Input limits every transport applies (IPC, browser mode, CLI): docs/reliability.md lists and explains them. */
export const limits = {
  /** Characters in a name of a corpus, tokenizer, run or embedding set. */
  nameChars: 200,
  /** Characters in one line to translate or one chat turn. */
  textChars: 20_000,
  /** Pieces of one source sentence for translate and chat (what attention and beam search can afford). */
  sourceTokens: 1024,
  /** Characters in one line (one row) of an imported text corpus. */
  importLineChars: 1 << 20,
  /** Training steps of a run. */
  maxSteps: 10_000_000,
} as const

/** C0/C1 controls and bidi overrides: never part of a name, never echoed to a terminal. */
const controlCharacters = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

/** A name users type, lists show and terminals print. Error messages never repeat a refused name. */
export const Name = z
  .string()
  .min(1, 'a name cannot be empty')
  .max(limits.nameChars, `a name has at most ${limits.nameChars} characters`)
  .refine((name) => name.trim().length > 0, 'a name needs a visible character')
  .refine((name) => !controlCharacters.test(name), 'a name cannot contain control characters')

/** One line to translate or one chat turn. */
export const Text = z.string().max(limits.textChars, `a line has at most ${limits.textChars.toLocaleString('en-US')} characters`)

/** An input over one of the limits above: the client shortens it (code `too_large`). */
export class InputTooLargeError extends Error {
  readonly code = 'too_large'
  constructor(message: string) {
    super(message)
    this.name = 'InputTooLargeError'
  }
}

/** Refuses a source sentence longer than `limits.sourceTokens` pieces, or than the model reads (`what` names it, e.g. "line 3"). */
export function checkSourceLength(what: string, pieces: number, modelPositions = Number.POSITIVE_INFINITY): void {
  if (pieces > limits.sourceTokens) {
    throw new InputTooLargeError(`${what} is ${pieces.toLocaleString('en-US')} pieces long; at most ${limits.sourceTokens} are translated at once: split it into sentences`)
  }
  if (pieces > modelPositions) {
    throw new InputTooLargeError(`${what} is ${pieces.toLocaleString('en-US')} pieces long; this model reads at most ${modelPositions} (its maxLength): split it into sentences`)
  }
}
