import { createContext, useCallback, useContext, useEffect, useLayoutEffect, useRef, useState } from 'react'
import type { EventData, EventName, KotobaClient, MethodName, Params, Result } from '../../../main/api/contract.ts'

export const ClientContext = createContext<KotobaClient | null>(null)

export function useClient(): KotobaClient {
  const client = useContext(ClientContext)
  if (!client) throw new Error('useClient outside <ClientContext.Provider>')
  return client
}

/**
 * Counts the loads in progress inside a region (a provider's subtree), so the region can say it is still filling in
 * (`aria-busy`): assistive technology and tests then wait for it instead of acting on a layout that is about to move.
 */
const LoadReportContext = createContext<((delta: 1 | -1) => void) | null>(null)
export const LoadReportProvider = LoadReportContext.Provider

/** The number of loads in progress inside a region, and the reporter its provider hands down. */
export function useLoadCount(): [count: number, report: (delta: 1 | -1) => void] {
  const [count, setCount] = useState(0)
  const report = useCallback((delta: 1 | -1) => setCount((c) => c + delta), [])
  return [count, report]
}

/** Counts this component as loading in the enclosing region while `loading` holds. */
export function useReportLoading(loading: boolean): void {
  const report = useContext(LoadReportContext)
  // A layout effect: the count changes in the same commit as the content, never a frame later.
  useLayoutEffect(() => {
    if (!loading || !report) return
    report(1)
    return () => report(-1)
  }, [loading, report])
}

export interface Query<T> {
  data: T | undefined
  error: string | null
  loading: boolean
  reload: () => void
}

/** Calls a method when the component mounts and whenever `key` changes (not at all while `enabled` is false). */
export function useQuery<M extends MethodName>(method: M, params: Params<M>, key = '', enabled = true): Query<Result<M>> {
  const client = useClient()
  const [state, setState] = useState<{ data: Result<M> | undefined; error: string | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  })
  const [generation, setGeneration] = useState(0)
  const paramsRef = useRef(params)
  paramsRef.current = params
  useEffect(() => {
    if (!enabled) return
    let live = true
    setState((previous) => ({ ...previous, loading: true }))
    const call = client.call.bind(client) as (method: M, params: Params<M>) => Promise<Result<M>>
    call(method, paramsRef.current).then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState({ data: undefined, error: (error as Error).message, loading: false }),
    )
    return () => {
      live = false
    }
  }, [client, method, key, generation, enabled])
  const reload = useCallback(() => setGeneration((g) => g + 1), [])
  useReportLoading(enabled && state.loading)
  return { ...state, reload }
}

export function useEvent<E extends EventName>(name: E, listener: (data: EventData<E>) => void): void {
  const client = useClient()
  const ref = useRef(listener)
  ref.current = listener
  useEffect(() => client.on(name, (data) => ref.current(data)), [client, name])
}
