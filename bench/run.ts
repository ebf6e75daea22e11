/**
 * `npm run bench [-- NAME…]`: runs the named benchmarks (all when none is named), each against its
 * own baseline in the same run, and writes bench/results/NAME.json. Speed is measured here, never
 * asserted in tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { benchEnv, type Benchmark, type BenchResult } from './bench-result.ts'
import { clearingBenchmark } from './benchmarks/clearing.ts'
import { brokerBenchmark } from './benchmarks/broker.ts'
import { marketBenchmark } from './benchmarks/market.ts'
import { settlementBenchmark } from './benchmarks/settlement.ts'
import { dashboardBenchmark } from './benchmarks/dashboard.ts'
import { agentBenchmark } from './benchmarks/agent.ts'
import { simulatorBenchmark } from './benchmarks/simulator.ts'

const benchmarks: Benchmark[] = [clearingBenchmark, marketBenchmark, settlementBenchmark, dashboardBenchmark, agentBenchmark, brokerBenchmark, simulatorBenchmark]

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const unknown = requested.filter((name) => !benchmarks.some((b) => b.name === name))
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${benchmarks.map((b) => b.name).join(', ')}`)
  process.exit(1)
}
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
mkdirSync(resultsDir, { recursive: true })

for (const bench of benchmarks.filter((b) => requested.length === 0 || requested.includes(b.name))) {
  console.log(`bench ${bench.name}: ${bench.description}`)
  const outcome = await bench.run()
  const ratio: Record<string, number> = { ...outcome.ratio }
  for (const [metric, value] of Object.entries(outcome.metrics)) {
    const base = outcome.baseline[metric]
    if (typeof base === 'number' && base !== 0 && ratio[metric] === undefined) ratio[metric] = Math.round((value / base) * 1000) / 1000
  }
  const result: BenchResult = { ...outcome, ratio, env: benchEnv() }
  const file = `${resultsDir}${bench.name}.json`
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`)
  for (const [metric, value] of Object.entries(result.metrics)) {
    console.log(`  ${metric}: ${value}  (baseline ${result.baseline.name}: ${result.baseline[metric] ?? 'n/a'}, ratio ${result.ratio[metric] ?? 'n/a'})`)
  }
  console.log(`  wrote ${file}`)
}
