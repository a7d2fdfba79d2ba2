// Starts the multi-threaded (pthreads + SIMD) build of @tensorflow/tfjs-backend-wasm under Node.
// Stock 4.22 never uses threads in Node (WASM_HAS_MULTITHREAD_SUPPORT is false there, tfjs#3830); forcing
// the flag fails because Emscripten starts its pthread workers from blob: URLs, which worker_threads
// rejects. This writes the worker script to a real file that loads the threaded module by path, and lets
// the pool use every core (the C++ side caps it at half the logical cores, assuming SMT).
// Relies on the 4.22 worker script's layout: it throws, and the caller falls back to one thread, if that changes.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os, { availableParallelism } from 'node:os'
import { dirname, join } from 'node:path'
import type { Worker as NodeWorker } from 'node:worker_threads'

const workerLoadPattern = /if\(typeof e\.data\.urlOrBlob=="string"\)\{importScripts\(e\.data\.urlOrBlob\)\}else\{[^}]*\}/

interface WasmModule {
  setThreadsCount(count: number): void
}
interface FlagSetter {
  env(): { set(flag: string, value: boolean): void }
}

/**
 * The patched worker script as a file, named by its content: every process and every thread shares one file, which
 * is never removed (it is needed whenever Emscripten starts a thread). A file per process, removed at exit, left one
 * behind for every killed or terminated worker — thousands in a temp folder.
 */
function pthreadScript(source: string): string {
  const dir = join(os.tmpdir(), 'kotoba-wasm')
  const file = join(dir, `pthread-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cjs`)
  if (existsSync(file)) return file
  mkdirSync(dir, { recursive: true })
  const partial = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`
  writeFileSync(partial, source)
  renameSync(partial, file) // whole or absent: another process may be writing the same file at the same moment
  return file
}

/** Call before tf.setBackend('wasm'); call the returned function once the backend is ready. */
export function enableWasmThreads(tf: FlagSetter, wasm: WasmModule, threads: number): () => void {
  const require = createRequire(import.meta.url)
  const packageDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'))
  const threadedScript = join(packageDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js')
  const OriginalBlob = globalThis.Blob
  const originalCreateObjectURL = URL.createObjectURL.bind(URL)
  const originalCpus = os.cpus
  // Emscripten keeps its pool threads ref'd while they run, and XNNPACK's pool threads never stop running,
  // so a process that used wasm threads would never exit. Its workers are made daemons instead: Emscripten
  // copies worker_threads.Worker into global.Worker while the module loads, so only its workers are affected.
  const workerThreads = require('node:worker_threads') as { Worker: typeof NodeWorker }
  const OriginalWorker = workerThreads.Worker
  class DaemonWorker extends OriginalWorker {
    constructor(...args: ConstructorParameters<typeof NodeWorker>) {
      super(...args)
      this.unref()
    }
    override ref(): void {}
  }
  workerThreads.Worker = DaemonWorker

  class RecordingBlob extends OriginalBlob {
    readonly sourceText: string | null
    constructor(parts: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options)
      this.sourceText = parts.every((part) => typeof part === 'string') ? parts.join('') : null
    }
  }
  globalThis.Blob = RecordingBlob as typeof Blob
  URL.createObjectURL = (blob: Blob) => {
    const text = blob instanceof RecordingBlob ? blob.sourceText : null
    if (text?.includes('urlOrBlob')) {
      const patched = text.replace(workerLoadPattern, `importScripts(${JSON.stringify(threadedScript)});`)
      if (patched === text) throw new Error('wasm threads: the worker script of tfjs-backend-wasm changed layout')
      return pthreadScript(patched)
    }
    return originalCreateObjectURL(blob)
  }
  os.cpus = () => {
    const cpus = originalCpus.call(os)
    while (cpus.length < 2 * threads && cpus[0]) cpus.push(cpus[0])
    return cpus
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true)
  wasm.setThreadsCount(threads)
  return () => {
    workerThreads.Worker = OriginalWorker
    globalThis.Blob = OriginalBlob
    URL.createObjectURL = originalCreateObjectURL
    os.cpus = originalCpus
  }
}

/** Threads for the wasm backend: KOTOBA_WASM_THREADS, else every core (at most 8). */
export function wasmThreadCount(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.KOTOBA_WASM_THREADS)
  if (Number.isInteger(fromEnv) && fromEnv >= 1) return fromEnv
  return Math.max(1, Math.min(8, availableParallelism()))
}
