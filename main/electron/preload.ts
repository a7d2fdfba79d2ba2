// Sandboxed preload: exposes only the typed engine bridge, nothing of Node or Electron.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import { bridgeChannels, type KotobaBridge } from '../api/bridge.ts'
import type { EngineEvent } from '../api/contract.ts'

const bridge: KotobaBridge = {
  call: (method, params) => ipcRenderer.invoke(bridgeChannels.call, method, params),
  onEvent: (listener) => {
    const handler = (_event: IpcRendererEvent, message: EngineEvent): void => listener(message)
    ipcRenderer.on(bridgeChannels.event, handler)
    return () => ipcRenderer.removeListener(bridgeChannels.event, handler)
  },
}

contextBridge.exposeInMainWorld('kotoba', bridge)
