// OpenBLAS picks its kernels from the CPU's model, and a virtual machine that hides the model ("Intel(R) Xeon(R)
// Processor") gets the oldest ones (Core: Prescott, SSE3): PyTorch then ran the LSTM reference 2.4× slower than
// with the AVX-512 kernels the CPU has. The twins run with the kernels the CPU's feature flags allow, so the
// reference is the fast one.
import { readFileSync } from 'node:fs'

/** OPENBLAS_CORETYPE for this CPU's flags (AVX-512 → SkylakeX, AVX2 + FMA → Haswell), or nothing to force. */
export function openblasEnv(): Record<string, string> {
  if (process.env.OPENBLAS_CORETYPE) return {}
  let flags: Set<string>
  try {
    flags = new Set(/^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [])
  } catch {
    return {}
  }
  if (flags.has('avx512f') && flags.has('avx512bw') && flags.has('avx512vl')) return { OPENBLAS_CORETYPE: 'SkylakeX' }
  if (flags.has('avx2') && flags.has('fma')) return { OPENBLAS_CORETYPE: 'Haswell' }
  return {}
}
