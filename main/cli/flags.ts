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
