// Which code the `kotoba` command runs: the electron-vite bundle (out/main/cli.js) when it was built after the last
// change to anything it is built from, else the TypeScript source through tsx. The bundle starts ~0.5 s sooner and
// its job workers ~1.5 s sooner; the source works straight after `npm ci` and is never stale.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** What the bundle is built from: a change to any of these after the build makes it stale. */
const bundleInputs = ['main', 'models', 'package.json', 'electron.vite.config.ts']

/** The latest modification under `path`; a folder's own time counts, since deleting or renaming a file changes it. */
function latestChangeMs(path) {
  const stat = statSync(path, { throwIfNoEntry: false })
  if (!stat) return 0
  if (!stat.isDirectory()) return stat.mtimeMs
  let latest = stat.mtimeMs
  for (const entry of readdirSync(path)) latest = Math.max(latest, latestChangeMs(join(path, entry)))
  return latest
}

/**
 * 'bundle' when `root`/out/main/cli.js is newer than everything it is built from, else 'source'; always 'source'
 * with KOTOBA_CLI_SOURCE=1.
 * @param {string} root the package folder
 * @param {NodeJS.ProcessEnv} env
 * @returns {'bundle' | 'source'}
 */
export function cliEntry(root, env = process.env) {
  if (env.KOTOBA_CLI_SOURCE === '1') return 'source'
  const bundle = statSync(join(root, 'out', 'main', 'cli.js'), { throwIfNoEntry: false })
  if (!bundle) return 'source'
  return bundleInputs.every((input) => latestChangeMs(join(root, input)) < bundle.mtimeMs) ? 'bundle' : 'source'
}
