// Runs the TypeScript word2vec thread from source (CLI and tests): registers tsx inside the worker thread,
// since Node 20 does not apply --import loaders to workers.
import { register } from 'tsx/esm/api'

register()
await import('./thread.ts')
