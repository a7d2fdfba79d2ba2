// Numeric command-line flags: parsed where they arrive, with an error that names the flag.

export function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n)) throw new Error(`${flag} must be an integer, got '${value}'`)
  return n
}

export function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n)) throw new Error(`${flag} must be a number, got '${value}'`)
  return n
}

/** --checkpoint best|latest|<step>, as runs.prune, runs.finetune and runs.quantize take it. */
export function checkpointChoice(value: string): 'best' | 'latest' | number {
  return value === 'best' || value === 'latest' ? value : integer('--checkpoint', value)!
}
