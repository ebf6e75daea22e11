import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Benchmark } from '../bench-result.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const town = 'simulator/scenarios/suburb-10000.yaml'

interface StudyTiming {
  seconds: number
  homeIntervals: number
  peakRssMb: number
}

function study(homes: number, days: number, mode: string, grid: 'grid' | 'no-grid' = 'grid'): Promise<StudyTiming> {
  return new Promise((resolve, reject) =>
    execFile(`${root}node_modules/.bin/tsx`, ['bench/simulator/study-process.ts', town, String(homes), String(days), mode, grid], { cwd: root, maxBuffer: 1 << 20 }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout.trim().split('\n').pop()!) as StudyTiming),
    ),
  )
}

/**
 * A year of the 10,000-home town at 15-minute intervals with every home's agent (forecast, step-curve
 * orders, battery steering), P2P clearing, settlement with imbalance and the low-voltage power flow of
 * its 100 transformers at every interval, in one process (issue 18 asks ≤ 120 s on 2 cores); the same year with no trading is
 * the baseline (the household models and the power flow, no market), so the market's share of the
 * time shows, and the year without the power flow shows its share. Scaling: four weeks at 100, 1,000
 * and 10,000 homes.
 */
export const simulatorBenchmark: Benchmark = {
  name: 'simulator',
  description: 'vpp simulate: 10,000 homes × 365 days with agents, clearing, imbalance settlement and the low-voltage power flow every interval; no trading as baseline; without the power flow beside it; scaling 100 → 10,000 homes',
  async run() {
    const scaling: Record<string, number> = {}
    for (const homes of [100, 1000, 10_000]) {
      const t = await study(homes, 28, 'p2p')
      scaling[`home_intervals_per_s_${homes}_homes`] = Math.round(t.homeIntervals / t.seconds)
    }
    const year = await study(10_000, 365, 'p2p')
    const modelsOnly = await study(10_000, 365, 'no-trading')
    const withoutGrid = await study(10_000, 365, 'p2p', 'no-grid')
    return {
      name: 'simulator',
      metrics: {
        suburb_10000_year_s: Math.round(year.seconds * 10) / 10,
        suburb_10000_year_without_power_flow_s: Math.round(withoutGrid.seconds * 10) / 10,
        home_intervals_per_s: Math.round(year.homeIntervals / year.seconds),
        times_real_time: Math.round((365 * 86_400) / year.seconds),
        peak_rss_mb: year.peakRssMb,
        ...scaling,
      },
      baseline: { name: 'the same year with no trading (household models, no market)', suburb_10000_year_s: Math.round(modelsOnly.seconds * 10) / 10, peak_rss_mb: modelsOnly.peakRssMb },
    }
  },
}
