import type { Scenario } from './scenario.ts'
import { checkCoverage, readMeasuredCsv, type MeasuredSeries } from './measured-csv.ts'
import { utcOffsetMinutes } from './study-calendar.ts'

/**
 * The scenario's measured load and PV (`homes.measured`, the operator's own CSV files), read once
 * per thread and checked to cover the study's `days`; null where the scenario models them.
 */
export function measuredInputs(scenario: Scenario, days: number): { load: MeasuredSeries | null; pv: MeasuredSeries | null } {
  const measured = scenario.homes.measured
  const start = Date.parse(`${scenario.start}T00:00:00Z`)
  const offset = utcOffsetMinutes(scenario.location.timeZone)
  const firstMs = start - offset(start) * 60_000
  const end = start + days * 86_400_000
  const endMs = end - offset(end) * 60_000
  const read = (input: { file: string; unit: 'Wh' | 'W' } | undefined) => {
    if (!input) return null
    const series = readMeasuredCsv(input.file, input.unit)
    checkCoverage(series, firstMs, endMs, scenario.market.intervalMinutes)
    return series
  }
  return { load: read(measured?.load), pv: read(measured?.pv) }
}
