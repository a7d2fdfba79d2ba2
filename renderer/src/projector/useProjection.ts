// Runs projections in a web worker, one at a time; a new request or cancel ends the one in flight (the worker is
// replaced, so a long t-SNE stops at once).
import { useCallback, useEffect, useRef, useState } from 'react'
import type { ProjectionReply, ProjectionRequest } from './protocol.ts'

export interface ProjectionProgress {
  phase: string
  done: number
  total: number
}

export interface ProjectionOutput {
  coords: Float32Array
  clusters: Int32Array | null
  seconds: number
}

function newWorker(): Worker {
  return new Worker(new URL('./projection.worker.ts', import.meta.url), { type: 'module' })
}

export function useProjection() {
  const worker = useRef<Worker | null>(null)
  const pending = useRef<{ id: number; resolve: (output: ProjectionOutput) => void; reject: (error: Error) => void } | null>(null)
  const nextId = useRef(1)
  const [progress, setProgress] = useState<ProjectionProgress | null>(null)

  const stop = useCallback(() => {
    worker.current?.terminate()
    worker.current = null
    pending.current?.reject(new Error('cancelled'))
    pending.current = null
    setProgress(null)
  }, [])
  useEffect(() => stop, [stop])

  const project = useCallback(
    (request: Omit<ProjectionRequest, 'id'>): Promise<ProjectionOutput> => {
      stop()
      const id = nextId.current++
      const current = newWorker()
      worker.current = current
      setProgress({ phase: 'start', done: 0, total: 1 })
      return new Promise<ProjectionOutput>((resolve, reject) => {
        pending.current = { id, resolve, reject }
        current.onmessage = (event: MessageEvent<ProjectionReply>) => {
          const reply = event.data
          if (reply.id !== id) return
          if (reply.type === 'progress') setProgress({ phase: reply.phase, done: reply.done, total: reply.total })
          else {
            pending.current = null
            setProgress(null)
            if (reply.type === 'done') resolve({ coords: reply.coords, clusters: reply.clusters, seconds: reply.seconds })
            else reject(new Error(reply.message))
          }
        }
        current.onerror = (event) => {
          pending.current = null
          setProgress(null)
          reject(new Error(event.message || 'the projection worker failed'))
        }
        current.postMessage({ ...request, id } satisfies ProjectionRequest, [request.rows.buffer])
      })
    },
    [stop],
  )

  return { project, progress, cancel: stop }
}
