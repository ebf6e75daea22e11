import { readFileSync } from 'node:fs'
import { VppError } from '../protocol/errors.ts'

/** Measured energy per home per step, as read from an operator's CSV file. */
export interface MeasuredSeries {
  file: string
  /** The first row's time, ms since the epoch. */
  startMs: number
  /** 15 or 60. */
  stepMinutes: number
  /** The homes' column names, in file order; column k is the scenario's home k. */
  homes: string[]
  rows: number
  /** Wh per home per step, [row * homes.length + home]. */
  wh: Float64Array
}

// ISO 8601 with a time zone: a smart-meter export without one is ambiguous twice a year.
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

const fail = (file: string, where: string, message: string): never => {
  throw new VppError('VPP_ERR_CONFIG', `${file}${where}: ${message}`)
}

/**
 * Reads household load or PV per home from a CSV file: a header `timestamp,<home>,<home>,…`, then one
 * row per step, 15 minutes or an hour apart without gaps, the time in ISO 8601 with its zone
 * (`2026-01-01T00:00:00Z`, `2026-01-01T01:00+01:00`), and each home's energy in the step (`Wh`) or its
 * mean power (`W`), not negative. A bad cell is named by file, line and column.
 *
 * @example parseMeasuredCsv('timestamp,a,b\n2026-01-01T00:00Z,120,80\n2026-01-01T00:15Z,95,70\n', 'load.csv', 'Wh').wh // [120, 80, 95, 70]
 */
export function parseMeasuredCsv(text: string, file: string, unit: 'Wh' | 'W'): MeasuredSeries {
  const lines = text.split(/\r?\n/)
  while (lines.length > 0 && lines[lines.length - 1]!.trim() === '') lines.pop()
  if (lines.length < 3) fail(file, '', 'needs a header line and at least two rows (timestamp,home,home,…)')
  const header = lines[0]!.split(',').map((c) => c.trim())
  const homes = header.slice(1)
  if (homes.length === 0) fail(file, ' line 1', 'the header names no home columns after the timestamp column')
  homes.forEach((name, k) => {
    if (name === '') fail(file, ` line 1, column ${k + 2}`, 'a home column needs a name')
  })
  const rows = lines.length - 1
  const wh = new Float64Array(rows * homes.length)
  let startMs = 0
  let stepMs = 0
  for (let r = 0; r < rows; r++) {
    const line = r + 2
    const cells = lines[r + 1]!.split(',')
    if (cells.length !== header.length) fail(file, ` line ${line}`, `has ${cells.length} columns, the header ${header.length}`)
    const stamp = cells[0]!.trim()
    const at = TIMESTAMP.test(stamp) ? Date.parse(stamp) : Number.NaN
    if (Number.isNaN(at)) fail(file, ` line ${line}, column 1`, `"${stamp}" is not an ISO 8601 time with a zone, e.g. 2026-01-01T00:00:00Z`)
    if (r === 0) startMs = at
    else if (r === 1) {
      stepMs = at - startMs
      if (stepMs !== 15 * 60_000 && stepMs !== 60 * 60_000) fail(file, ` line ${line}, column 1`, `rows must be 15 minutes or an hour apart (this one is ${stepMs / 60_000} minutes after the first)`)
    } else if (at !== startMs + r * stepMs) {
      fail(file, ` line ${line}, column 1`, `expected ${new Date(startMs + r * stepMs).toISOString()} (rows ${stepMs / 60_000} minutes apart, no gaps or repeats), got ${stamp}`)
    }
    for (let k = 0; k < homes.length; k++) {
      const cell = cells[k + 1]!.trim()
      const value = NUMBER.test(cell) ? Number(cell) : Number.NaN
      if (!Number.isFinite(value) || value < 0) fail(file, ` line ${line}, column ${k + 2} (${homes[k]})`, `"${cell}" is not a number of ${unit} ≥ 0`)
      wh[r * homes.length + k] = value
    }
  }
  // Mean power over a step is its energy once the step is known (from the second row).
  if (unit === 'W') for (let i = 0; i < wh.length; i++) wh[i] = (wh[i]! * stepMs) / 3_600_000
  return { file, startMs, stepMinutes: stepMs / 60_000, homes, rows, wh }
}

const cache = new Map<string, MeasuredSeries>()

/** Reads and parses a measured CSV file once per thread. */
export function readMeasuredCsv(path: string, unit: 'Wh' | 'W'): MeasuredSeries {
  const key = `${unit}:${path}`
  let series = cache.get(key)
  if (!series) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw new VppError('VPP_ERR_CONFIG', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
    }
    series = parseMeasuredCsv(text, path, unit)
    cache.set(key, series)
  }
  return series
}

/**
 * Each measured home's energy in the study interval starting at `startMs` of `intervalMinutes`, Wh,
 * into `out` (homes beyond the file's columns are left alone): an hourly row is spread evenly over
 * its quarter hours, quarter-hour rows summed into an hour.
 */
export function measuredInterval(series: MeasuredSeries, startMs: number, intervalMinutes: number, out: Float64Array): void {
  const n = Math.min(series.homes.length, out.length)
  const stepMs = series.stepMinutes * 60_000
  const intervalMs = intervalMinutes * 60_000
  for (let k = 0; k < n; k++) out[k] = 0
  for (let at = startMs; at < startMs + intervalMs; at += Math.min(stepMs, intervalMs)) {
    const row = Math.floor((at - series.startMs) / stepMs)
    const share = Math.min(stepMs, intervalMs) / stepMs
    for (let k = 0; k < n; k++) out[k]! += series.wh[row * series.homes.length + k]! * share
  }
}

/** Checks that `series` covers the study's days and fits its interval length; an error says what to change. */
export function checkCoverage(series: MeasuredSeries, firstMs: number, endMs: number, intervalMinutes: number): void {
  if (intervalMinutes % series.stepMinutes !== 0 && series.stepMinutes % intervalMinutes !== 0) {
    fail(series.file, '', `rows every ${series.stepMinutes} minutes do not fit the study's ${intervalMinutes}-minute intervals`)
  }
  if ((firstMs - series.startMs) % Math.min(series.stepMinutes * 60_000, intervalMinutes * 60_000) !== 0) {
    fail(series.file, '', `rows start at ${new Date(series.startMs).toISOString()}, not on the study's interval grid`)
  }
  const lastMs = series.startMs + series.rows * series.stepMinutes * 60_000
  if (firstMs < series.startMs || endMs > lastMs) {
    fail(series.file, '', `covers ${new Date(series.startMs).toISOString()} to ${new Date(lastMs).toISOString()}; the study needs ${new Date(firstMs).toISOString()} to ${new Date(endMs).toISOString()} (change start or --days, or give more rows)`)
  }
}
