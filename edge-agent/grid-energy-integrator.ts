import type { Snapshot } from '../protocol/snapshot.ts'

/** Longest gap between two polls that is still integrated; across a longer one the power is unknown. */
const MAX_GAP_MS = 60_000

/**
 * Grid energy counters for a product that keeps none (a Victron GX's system service): import and
 * export integrated from `grid_w` between polls (trapezoid rule, split where the power crosses zero), so that awards can be metered and
 * meter readings signed. The counters start at 0 with the agent; awards and readings only ever use
 * their differences. A snapshot with its own counters passes through untouched.
 *
 * @example
 * const integrator = new GridEnergyIntegrator()
 * integrator.fill(snapshot).energy.grid_import_wh // Wh imported since the agent started
 */
export class GridEnergyIntegrator {
  private importWh = 0
  private exportWh = 0
  private last: { ts: number; gridW: number } | undefined

  fill(snapshot: Snapshot): Snapshot {
    const { grid_import_wh: imported, grid_export_wh: exported } = snapshot.energy
    if ((imported !== null && exported !== null) || snapshot.grid_w === null) return snapshot
    const ts = Date.parse(snapshot.ts)
    if (this.last && ts > this.last.ts && ts - this.last.ts <= MAX_GAP_MS) {
      const hours = (ts - this.last.ts) / 3_600_000
      const [a, b] = [this.last.gridW, snapshot.grid_w]
      if (a >= 0 && b >= 0) this.importWh += ((a + b) / 2) * hours
      else if (a <= 0 && b <= 0) this.exportWh -= ((a + b) / 2) * hours
      else {
        // The power crossed zero: import and export each take their triangle of the step.
        const f = a / (a - b)
        const positive = a > 0 ? a * f : b * (1 - f)
        const negative = a < 0 ? -a * f : -b * (1 - f)
        this.importWh += (positive / 2) * hours
        this.exportWh += (negative / 2) * hours
      }
    }
    this.last = { ts, gridW: snapshot.grid_w }
    return { ...snapshot, energy: { ...snapshot.energy, grid_import_wh: imported ?? Math.floor(this.importWh), grid_export_wh: exported ?? Math.floor(this.exportWh) } }
  }
}
