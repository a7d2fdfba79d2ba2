// Electron main process: a thin shell. It starts the engine with the system Node (native modules such
// as better-sqlite3 are built for Node's ABI, not Electron's) and bridges it to one sandboxed window.
import { app, BrowserWindow, dialog, ipcMain, session, shell } from 'electron'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bridgeChannels, type KotobaBridge } from '../api/bridge.ts'
import { ApiError } from '../api/contract.ts'
import { startEngineProcess, type EngineProcess } from '../engine/host.ts'

const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url))
let engine: EngineProcess | null = null

async function createWindow(): Promise<void> {
  const window = new BrowserWindow({
    width: 1280,
    height: 820,
    show: false,
    title: 'Kotoba Workbench',
    webPreferences: {
      preload: here('../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  })
  window.once('ready-to-show', () => window.show())
  // The window shows only our renderer: links open in the system browser, navigation is refused.
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  window.webContents.on('will-navigate', (event) => event.preventDefault())
  const devUrl = process.env.ELECTRON_RENDERER_URL
  if (devUrl) await window.loadURL(devUrl)
  else await window.loadFile(here('../renderer/index.html'))
}

async function main(): Promise<void> {
  await app.whenReady()
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false))
  // The same precedence as the CLI: --db PATH (or --db=PATH), then KOTOBA_DB, then the user-data folder.
  const dbFlagIndex = process.argv.indexOf('--db')
  const dbPath =
    (dbFlagIndex !== -1 ? process.argv[dbFlagIndex + 1] : undefined) ??
    process.argv.find((arg) => arg.startsWith('--db='))?.slice('--db='.length) ??
    process.env.KOTOBA_DB ??
    join(app.getPath('userData'), 'kotoba.db')
  try {
    engine = await startEngineProcess({
      script: here('./engine.js'),
      nodePath: process.env.KOTOBA_NODE ?? 'node',
      args: ['--db', dbPath],
    })
  } catch (error) {
    dialog.showErrorBox(
      'Kotoba Workbench cannot start its engine',
      `${(error as Error).message}\n\nThe engine runs on Node.js 20 or newer: install it, or set KOTOBA_NODE to its path.`,
    )
    app.exit(1)
    return
  }
  const running = engine
  ipcMain.handle(bridgeChannels.call, async (event, method: unknown, params: unknown): ReturnType<KotobaBridge['call']> => {
    if (event.senderFrame?.url && !event.senderFrame.url.startsWith('file:') && !process.env.ELECTRON_RENDERER_URL) {
      return { ok: false, error: { code: 'bad_request', message: 'calls are accepted only from the app window' } }
    }
    if (typeof method !== 'string') return { ok: false, error: { code: 'bad_request', message: 'method must be a string' } }
    try {
      return { ok: true, result: await running.call(method, params) }
    } catch (error) {
      const body = error instanceof ApiError ? error.toBody() : { code: 'internal' as const, message: String(error) }
      return { ok: false, error: body }
    }
  })
  running.onEvent((message) => {
    for (const window of BrowserWindow.getAllWindows()) window.webContents.send(bridgeChannels.event, message)
  })
  void running.exited.then((code) => {
    if (!app.isReady() || code === 0) return
    dialog.showErrorBox('Kotoba Workbench', `The engine stopped unexpectedly (code ${code}). Restart the app; your data is safe in SQLite.`)
  })
  await createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow()
  })
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
app.on('will-quit', () => {
  void engine?.close()
})

void main()
