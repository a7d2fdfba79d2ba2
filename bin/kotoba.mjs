#!/usr/bin/env node
// The `kotoba` command: the built bundle while it is current, else the TypeScript source through tsx.
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { bundleIsCurrent } from '../main/bundle-freshness.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (bundleIsCurrent(root, 'cli.js')) {
  await import(pathToFileURL(join(root, 'out', 'main', 'cli.js')).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../main/cli/index.ts')
}
