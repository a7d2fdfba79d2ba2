// A trained run's metrics leave the workbench: a TensorBoard event file (read back by a reader of the documented
// format, every CRC checked) and a CSV file, from the CLI, agreeing point for point.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { crc32c, maskedCrc32c } from '../main/engine/export/tensorboard.ts'
import { readEventFile } from './support/tfevents.ts'
import { parseJsonOutput, runCli, tempDir } from './helpers.ts'

test('CRC-32C gives the standard check value', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283)
  assert.equal(maskedCrc32c(new Uint8Array(0)), 0xa282ead8)
})

test('kotoba export tensorboard and csv write the same points of a trained run; a second export needs --force', (t) => {
  const dir = tempDir(t)
  const db = join(dir, 'k.db')
  const file = join(dir, 'pairs.tsv')
  writeFileSync(file, `${Array.from({ length: 60 }, (_, i) => `word ${i} here\tpalabra ${i} aquí`).join('\n')}\n`)
  const config = join(dir, 'run.json')
  writeFileSync(config, JSON.stringify({ training: { logEvery: 1 } }))
  for (const args of [
    ['corpus', 'import', file, '--name', 'u', '--format', 'tsv', '--src', 'en', '--tgt', 'es'],
    ['corpus', 'split', 'u', '--dev', '3', '--test', '3'],
    ['tokenizer', 'train', '--corpus', 'u', '--name', 'tok', '--type', 'bpe', '--vocab-size', '60'],
    ['--backend', 'wasm', 'train', '--model', 'seq2seq', '--preset', 'tiny', '--corpus', 'u', '--tokenizer', 'tok', '--name', 'r', '--max-steps', '4', '--valid-every', '2', '--config', config],
  ]) {
    const result = runCli(['--db', db, '--no-sample', '--json', ...args])
    assert.equal(result.status, 0, result.stderr || result.stdout)
  }

  const logdir = join(dir, 'logs', 'r')
  const board = parseJsonOutput<{ path: string; format: string; metrics: number; points: number }>(runCli(['--db', db, '--no-sample', '--json', 'export', 'tensorboard', '--run', 'r', '--out', logdir]))
  assert.equal(board.format, 'tensorboard')
  assert.match(board.path, /events\.out\.tfevents\.\d+\.kotoba$/)
  const [version, ...events] = readEventFile(board.path)
  assert.equal(version!.fileVersion, 'brain.Event:2')
  assert.equal(events.length, board.points)
  assert.ok(events.every((e) => e.scalars.length === 1 && e.wallTime > 1.7e9))
  const trainLoss = events.filter((e) => e.scalars[0]!.tag === 'train/loss')
  assert.deepEqual(trainLoss.map((e) => e.step), [1, 2, 3, 4], 'train/loss at every step (logEvery 1)')
  assert.ok(trainLoss.every((e) => Number.isFinite(e.scalars[0]!.value) && e.scalars[0]!.value > 0))
  assert.deepEqual(events.filter((e) => e.scalars[0]!.tag === 'dev/bleu').map((e) => e.step), [2, 4])

  const csvPath = join(dir, 'r.csv')
  const csv = parseJsonOutput<{ points: number; metrics: number }>(runCli(['--db', db, '--no-sample', '--json', 'export', 'csv', '--run', 'r', '--out', csvPath]))
  assert.deepEqual([csv.points, csv.metrics], [board.points, board.metrics])
  const [header, ...rows] = readFileSync(csvPath, 'utf8').trimEnd().split('\n')
  assert.equal(header, 'metric,step,value,wall_time')
  assert.equal(rows.length, events.length)
  rows.forEach((row, i) => {
    const [metric, step, value] = row.split(',')
    const event = events[i]!
    assert.deepEqual([metric, Number(step)], [event.scalars[0]!.tag, event.step])
    assert.equal(Math.fround(Number(value)), event.scalars[0]!.value, 'the event holds the value as a 32-bit float')
  })

  // Exporting again into the same folder would make TensorBoard show the run twice: refused, then replaced.
  const again = runCli(['--db', db, '--no-sample', '--json', 'export', 'tensorboard', '--run', 'r', '--out', logdir])
  assert.equal(again.status, 1)
  assert.match(parseJsonOutput<{ error: string }>(again).error, /already holds an exported event file .* --force/)
  assert.equal(runCli(['--db', db, '--no-sample', '--json', 'export', 'tensorboard', '--run', 'r', '--out', logdir, '--force']).status, 0)
  assert.equal(readdirSync(logdir).length, 1, 'the earlier event file was replaced, no partial file left')
  const csvAgain = runCli(['--db', db, '--no-sample', '--json', 'export', 'csv', '--run', 'r', '--out', csvPath])
  assert.match(parseJsonOutput<{ error: string }>(csvAgain).error, /exists; overwrite it with --force/)
  assert.match(parseJsonOutput<{ error: string }>(runCli(['--db', db, '--no-sample', '--json', 'export', 'csv', '--run', 'nope', '--out', join(dir, 'x.csv')])).error, /no run named 'nope'/)
})
