import { intervalStart } from '../protocol/units.ts'

export interface IntervalEnergy {
  interval: number
  exportedWh: number
  importedWh: number
}

/**
 * Turns the grid meter's lifetime counters into the energy exported and imported in each market
 * interval: the counter difference between the first reading at or after the interval's start and the
 * first at or after its end. Pure: times and counters are passed in.
 *
 * An interval the meter was not read at both ends of (the agent started or was offline in between)
 * gives no reading: energy that cannot be placed in one interval is never claimed for it.
 *
 * @example
 * const meter = new IntervalMeter(900)
 * meter.observe(1_800_000_000, 500, 3000) // [] (first reading)
 * meter.observe(1_800_000_901, 620, 3000) // [] (the first interval began before the agent)
 * meter.observe(1_800_001_801, 700, 3010) // [{ interval: 1_800_000_900, exportedWh: 80, importedWh: 10 }]
 */
export class IntervalMeter {
  private start: { interval: number; exportWh: number; importWh: number; complete: boolean } | undefined

  constructor(private readonly intervalSeconds: number) {}

  /**
   * Energy exported and imported so far in the current interval, from the counters now; undefined
   * when the meter has not seen this interval's start.
   */
  sinceStart(unixSeconds: number, exportWh: number, importWh: number): IntervalEnergy | undefined {
    const s = this.start
    if (!s || !s.complete || intervalStart(unixSeconds, this.intervalSeconds) !== s.interval) return undefined
    return { interval: s.interval, exportedWh: exportWh - s.exportWh, importedWh: importWh - s.importWh }
  }

  /** Feeds one reading of the counters; returns the interval it completes, if any. */
  observe(unixSeconds: number, exportWh: number, importWh: number): IntervalEnergy[] {
    const interval = intervalStart(unixSeconds, this.intervalSeconds)
    if (!this.start) {
      this.start = { interval, exportWh, importWh, complete: false }
      return []
    }
    if (interval === this.start.interval) return []
    const done = this.start
    this.start = { interval, exportWh, importWh, complete: true }
    // Counters that went backwards (a meter swap or reset) say nothing about the interval.
    if (!done.complete || interval !== done.interval + this.intervalSeconds || exportWh < done.exportWh || importWh < done.importWh) return []
    return [{ interval: done.interval, exportedWh: exportWh - done.exportWh, importedWh: importWh - done.importWh }]
  }
}
