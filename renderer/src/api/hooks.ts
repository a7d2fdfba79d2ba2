import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react'
import type { EventData, EventName, KotobaClient, MethodName, Params, Result } from '../../../main/api/contract.ts'

export const ClientContext = createContext<KotobaClient | null>(null)

export function useClient(): KotobaClient {
  const client = useContext(ClientContext)
  if (!client) throw new Error('useClient outside <ClientContext.Provider>')
  return client
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
  return { ...state, reload }
}

export function useEvent<E extends EventName>(name: E, listener: (data: EventData<E>) => void): void {
  const client = useClient()
  const ref = useRef(listener)
  ref.current = listener
  useEffect(() => client.on(name, (data) => ref.current(data)), [client, name])
}
