// Writes a run's logged metrics for other tools: a TensorBoard event file in a folder, or one CSV file.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { ApiError, type MetricPoint } from '../../api/contract.ts'
import { metricsCsv } from '../../api/metrics-csv.ts'
import { eventFileName, tensorboardEvents } from './tensorboard.ts'
import { writeWhole } from './write-whole.ts'

/** Our event files' host part: a second export with --force replaces exactly these. */
const host = 'kotoba'
const ownEventFile = /^events\.out\.tfevents\.\d+\.kotoba$/

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
