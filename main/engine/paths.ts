// Where the workbench keeps its data: the same folder Electron's app.getPath('userData') gives,
// so the desktop app, browser mode and the CLI share one database by default.
import { homedir } from 'node:os'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const productName = 'Kotoba Workbench'

export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.KOTOBA_HOME) return resolve(env.KOTOBA_HOME)
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), productName)
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', productName)
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), productName)
}

/** `--db PATH` wins, then `KOTOBA_DB`, then the user-data folder. */
export function resolveDbPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag)
  if (env.KOTOBA_DB) return resolve(env.KOTOBA_DB)
  return join(userDataDir(env), 'kotoba.db')
}

/** The folder holding this app's package.json, found from any file in the source tree or the bundle. */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from))
  for (;;) {
    const candidate = join(dir, 'package.json')
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }
      if (pkg.name === 'kotoba-workbench') return dir
    }
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`cannot find the kotoba-workbench package above ${from}`)
    dir = parent
  }
}
