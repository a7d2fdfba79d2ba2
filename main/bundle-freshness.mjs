// Whether a built bundle (out/main/*.js, from `npm run build`) can stand in for the TypeScript source: it can while it
// was built after the last change to anything it is built from. A bundle starts ~0.5 s sooner than the source through
// tsx (no loader thread); the source works straight after `npm ci` and is never stale. Plain JavaScript: `kotoba`
// asks before tsx is registered.
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** What the bundles are built from: a change to any of these after the build makes them stale. */
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
 * True when `root`/out/main/`bundle` exists and is newer than everything it is built from; false with
 * KOTOBA_SOURCE=1, which always runs the source.
 * @param {string} root the package folder
 * @param {string} bundle a file name in out/main, e.g. cli.js
 * @param {NodeJS.ProcessEnv} env
 * @returns {boolean}
 */
export function bundleIsCurrent(root, bundle, env = process.env) {
  if (env.KOTOBA_SOURCE === '1') return false
  const built = statSync(join(root, 'out', 'main', bundle), { throwIfNoEntry: false })
  if (!built) return false
  return bundleInputs.every((input) => latestChangeMs(join(root, input)) < built.mtimeMs)
}
