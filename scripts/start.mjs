// `npm start`: opens the desktop app; where Electron cannot start (no binary, no display) it says so
// in one line and falls back to browser mode, which prints the URL to open.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)

/** Why Electron cannot start here, or null when it can. Never triggers Electron's download. */
function electronBlocker() {
  const pkg = join(root, 'node_modules', 'electron')
  if (!existsSync(pkg)) return 'the electron package is not installed'
  const pathFile = join(pkg, 'path.txt')
  if (!existsSync(pathFile)) return 'the Electron binary was never downloaded (node_modules/electron/dist is missing)'
  const binary = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim())
  if (!existsSync(binary)) return `the Electron binary is missing (${binary})`
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'there is no display (DISPLAY is not set)'
  return null
}

function run(command, commandArgs) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit' })
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
  return child
}

const blocker = electronBlocker()
if (blocker === null) {
  const binary = join(root, 'node_modules', 'electron', 'dist', readFileSync(join(root, 'node_modules', 'electron', 'path.txt'), 'utf8').trim())
  run(binary, [root, ...args])
} else {
  console.error(`kotoba: the desktop window cannot open here (${blocker}); starting browser mode instead.`)
  run(process.execPath, [join(root, 'bin', 'kotoba.mjs'), ...args, 'serve'])
}
