// Writes a run's logged metrics for other tools: a TensorBoard event file in a folder, or one CSV file.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ApiError, type MetricPoint } from '../../api/contract.ts'
import { metricsCsv } from '../../api/metrics-csv.ts'
import { eventFileName, tensorboardEvents } from './tensorboard.ts'

/** Our event files' host part: a second export with --force replaces exactly these. */
const host = 'kotoba'
const ownEventFile = /^events\.out\.tfevents\.\d+\.kotoba$/

/** Writes next to the target, then renames: a full disk or a crash never leaves half a file under the real name. */
function writeWhole(path: string, parts: Uint8Array[] | string): void {
  const partial = `${path}.partial`
  try {
    writeFileSync(partial, typeof parts === 'string' ? parts : Buffer.concat(parts))
    renameSync(partial, path)
  } catch (error) {
    rmSync(partial, { force: true })
    throw error
  }
}

export function writeMetricsCsv(path: string, series: Record<string, MetricPoint[]>): void {
  writeWhole(path, metricsCsv(series))
}

/** An event file in `folder` (created if missing); an earlier export's file there is replaced only with `force`. */
export function writeTensorboardFolder(folder: string, series: Record<string, MetricPoint[]>, force: boolean, now = Date.now() / 1000): string {
  const dir = resolve(folder)
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ApiError({ code: 'bad_request', message: `${dir} is a file; TensorBoard reads a folder of event files` })
  mkdirSync(dir, { recursive: true })
  const earlier = readdirSync(dir).filter((name) => ownEventFile.test(name))
  if (earlier.length > 0 && !force) {
    throw new ApiError({ code: 'conflict', message: `${dir} already holds an exported event file (${earlier[0]}); TensorBoard would show both: replace it with --force (force: true), or choose another folder` })
  }
  for (const name of earlier) rmSync(join(dir, name))
  const path = join(dir, eventFileName(now, host))
  writeWhole(path, tensorboardEvents(series, now))
  return path
}
