import { StrictMode, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import i18next from 'i18next'
import type { KotobaClient } from '../../main/api/contract.ts'
import { connect, MissingTokenError, type ConnectionState } from './api/client.ts'
import { ClientContext } from './api/hooks.ts'
import { App } from './App.tsx'
import { initI18n } from './i18n/index.ts'
import { applyTheme, initialTheme } from './theme.ts'
import './styles.css'

function Root({ client, onState }: { client: KotobaClient; onState: (listener: (state: ConnectionState) => void) => void }) {
  const [state, setState] = useState<ConnectionState>('connecting')
  useEffect(() => onState(setState), [onState])
  return (
    <ClientContext.Provider value={client}>
      <App connection={state} />
    </ClientContext.Provider>
  )
}

async function start(): Promise<void> {
  applyTheme(initialTheme())
  await initI18n()
  const root = createRoot(document.getElementById('root')!)
  let current: ConnectionState = 'connecting'
  let listener: ((state: ConnectionState) => void) | null = null
  let client: KotobaClient
  try {
    client = connect((state) => {
      current = state
      listener?.(state)
    })
  } catch (error) {
    if (!(error instanceof MissingTokenError)) throw error
    root.render(<p className="fatal">{i18next.t('app.connection.noToken')}</p>)
    return
  }
  const onState = (fn: (state: ConnectionState) => void) => {
    listener = fn
    fn(current)
  }
  root.render(
    <StrictMode>
      <Root client={client} onState={onState} />
    </StrictMode>,
  )
}

void start()
