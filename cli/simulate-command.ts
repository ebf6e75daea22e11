import { mkdirSync, writeFileSync } from 'node:fs'
import { basename, extname, join, resolve } from 'node:path'
import { SingleBar } from 'cli-progress'
import { z } from 'zod'
import { loadScenario } from '../simulator/scenario.ts'
import { studyModes, type StudyRun } from '../simulator/study-run.ts'
import { runStudyOnThreads } from '../simulator/study-threads.ts'
import { studyKpis } from '../simulator/study-kpis.ts'
import { homesCsv, studyCsv } from '../simulator/study-csv.ts'
import { studyReport } from '../simulator/study-report.ts'
import { parseOptions } from './parse-options.ts'

const simulateOptionsSchema = z.object({
  days: z.coerce.number().int('must be a whole number of days').min(1).max(3660).default(365),
  out: z.string().min(1).optional(),
  compare: z.boolean().default(false),
})

/**
 * `vpp simulate SCENARIO.yaml [--days 365] [--out DIR] [--compare]`: a headless study through the real
 * market engine, on a worker thread per core; writes report.html, kpis.json, timeseries.csv and homes.csv to DIR (default `study-NAME`).
 * With `--compare` the same weather and load run four ways: no trading, P2P, P2P with batteries
 * selling to neighbours in the evening, P2P with perfect foresight (what forecast error costs) and, with
 * the scenario's cables, P2P with the voltage limit in clearing.
 */
export async function simulateCommand(scenarioPath: string, raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(simulateOptionsSchema, raw)
  const scenario = loadScenario(scenarioPath)
  const out = resolve(options.out ?? `study-${basename(scenarioPath, extname(scenarioPath))}`)
  // The voltage limit needs the cables: without them the comparison leaves that mode out.
  const modes = options.compare ? studyModes.filter((m) => m !== 'p2p-voltage-limit' || scenario.grid.lowVoltage) : (['p2p'] as const)

  const bar = new SingleBar({
    format: 'simulating {mode} {bar} {percentage}% | day {day}/{days} | ETA {eta_formatted}',
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 10_000,
    etaBuffer: 50,
    hideCursor: true,
  })
  bar.start(options.days * modes.length, 0, { mode: modes[0], day: 0, days: options.days })
  const runs: StudyRun[] = []
  for (const [m, mode] of modes.entries()) {
    runs.push(await runStudyOnThreads(scenario, { days: options.days, mode, onDay: (day) => bar.update(m * options.days + day, { mode, day, days: options.days }) }))
  }
  bar.stop()

  const kpis = runs.map((r) => studyKpis(r))
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'kpis.json'), `${JSON.stringify({ scenario: scenario.name, scenarioFile: resolve(scenarioPath), days: options.days, seed: scenario.seed, modes: kpis }, null, 2)}\n`)
  writeFileSync(join(out, 'timeseries.csv'), studyCsv(runs))
  writeFileSync(join(out, 'homes.csv'), homesCsv(runs))
  writeFileSync(join(out, 'report.html'), studyReport(runs, kpis))
  for (const k of kpis) {
    console.log(`${k.mode}: self-sufficiency ${(k.selfSufficiency * 100).toFixed(1)} %, self-consumption ${(k.selfConsumption * 100).toFixed(1)} %, traded ${k.tradedKwh} kWh (${k.shortfallKwh} kWh not delivered, imbalance ${(k.imbalanceChargesBaseUnits / 1e6).toFixed(2)}), savings ${(k.savingsBaseUnits / 1e6).toFixed(2)}, peak transformer import ${k.peakTransformerImportKw} kW${k.lowVoltage ? `, voltage ${(k.lowVoltage.minVoltagePu * 100).toFixed(1)}–${(k.lowVoltage.maxVoltagePu * 100).toFixed(1)} %, ${k.lowVoltage.hoursRiseOver3Pct} h above 3 % rise, losses ${k.lowVoltage.lossesKwh} kWh` : ''}`)
  }
  for (const k of kpis) {
    if (k.lowVoltage?.powerFlowsNotConverged) {
      console.error(`warning: in ${k.mode}, ${k.lowVoltage.powerFlowsNotConverged} transformer-intervals' power flow did not converge: the cables cannot carry what those homes ask of them, so their voltages are not physical. Check grid.lowVoltage (fewer homes per line, heavier cable, shorter spacing).`)
    }
  }
  console.log(`wrote ${join(out, 'report.html')}, kpis.json, timeseries.csv and homes.csv`)
}
