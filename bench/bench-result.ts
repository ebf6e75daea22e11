import { cpus, totalmem } from 'node:os'

/** One benchmark's output, as docs/architecture.md "Benchmarks" specifies for bench/results/NAME.json. */
export interface BenchResult {
  name: string
  metrics: Record<string, number>
  /** The named baseline measured in the same run, e.g. `{ name: 'mosquitto', ... }`. */
  baseline: { name: string } & Record<string, number | string>
  /** metric / baseline metric, for every metric the baseline also has. */
  ratio: Record<string, number>
  env: Record<string, string | number>
}

export interface Benchmark {
  name: string
  description: string
  run(): Promise<Omit<BenchResult, 'env' | 'ratio'> & { ratio?: Record<string, number> }>
}

export function benchEnv(): Record<string, string | number> {
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memory_gb: Math.round(totalmem() / 2 ** 30),
    date: new Date().toISOString(),
  }
}

/** Median wall time in ms of `fn` over `runs` runs, after `warmup` unmeasured runs. */
export function medianMs(fn: () => void, runs = 15, warmup = 3): number {
  for (let i = 0; i < warmup; i++) fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    fn()
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return Math.round(times[Math.floor(times.length / 2)]! * 1000) / 1000
}
