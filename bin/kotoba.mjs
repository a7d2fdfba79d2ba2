#!/usr/bin/env node
// The `kotoba` CLI runs its TypeScript source through tsx, so it works straight after `npm ci`.
import { register } from 'tsx/esm/api'

register()
await import('../main/cli/index.ts')
