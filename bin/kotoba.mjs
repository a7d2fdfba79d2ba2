#!/usr/bin/env node
// The `kotoba` command: the built bundle when it is current, else the TypeScript source through tsx (cli-entry.mjs).
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { cliEntry } from './cli-entry.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
if (cliEntry(root) === 'bundle') {
  await import(pathToFileURL(join(root, 'out', 'main', 'cli.js')).href)
} else {
  const { register } = await import('tsx/esm/api')
  register()
  await import('../main/cli/index.ts')
}
