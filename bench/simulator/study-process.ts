/**
 * One study in a process of its own, so its peak RSS is its own: `tsx study-process.ts SCENARIO HOMES DAYS MODE [no-grid]`
 * prints `{ seconds, homeIntervals, peakRssMb }` (peak RSS of the process, worker threads included), on a worker thread per core. Homes per transformer stay as in the scenario's town
 * (100), so the tree grows with the homes.
 */
import { performance } from 'node:perf_hooks'
import { loadScenario, type Scenario } from '../../simulator/scenario.ts'
import type { StudyMode } from '../../simulator/study-run.ts'
import { runStudyOnThreads } from '../../simulator/study-threads.ts'

const [path, homesArg, daysArg, mode, grid] = process.argv.slice(2)
const base = loadScenario(path!)
const homes = Number(homesArg)
const transformers = Math.max(1, Math.round(homes / 100))
const feeders = Math.max(1, Math.round(transformers / 10))
const scenario: Scenario = { ...base, homes: { ...base.homes, count: homes }, grid: { ...base.grid, feeders, transformersPerFeeder: Math.max(1, Math.round(transformers / feeders)), ...(grid === 'no-grid' ? { lowVoltage: undefined } : {}) } }
const days = Number(daysArg)
const start = performance.now()
const run = await runStudyOnThreads(scenario, { days, mode: mode as StudyMode })
const seconds = (performance.now() - start) / 1000
console.log(JSON.stringify({ seconds, homeIntervals: run.homes.ids.length * run.intervalStartMs.length, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }))
