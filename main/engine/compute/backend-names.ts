// The TensorFlow.js backends the engine knows, best first — without loading TensorFlow.js, so the CLI and the
// engine process can parse a --backend flag and start before any model code runs.
import { BackendName } from '../../api/contract.ts'

export const backendOrder: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu']

export function parseBackendName(value: string): BackendName {
  const parsed = BackendName.safeParse(value)
  if (!parsed.success) throw new Error(`unknown backend '${value}': expected one of ${backendOrder.join(', ')}`)
  return parsed.data
}
