import { describe, expect, it } from 'vitest'
import { GridEnergyIntegrator } from '../../edge-agent/grid-energy-integrator.ts'
import type { Snapshot } from '../../protocol/snapshot.ts'

const at = (seconds: number, gridW: number | null, counters: { grid_import_wh: number | null; grid_export_wh: number | null } = { grid_import_wh: null, grid_export_wh: null }): Snapshot => ({
  device: { manufacturer: null, model: null, serial: null, version: null },
  inverter_ac_w: null,
  pv_w: null,
  grid_w: gridW,
  battery_w: null,
  battery_soc_pct: null,
  load_w: null,
  energy: { pv_total_wh: null, ...counters },
  models: [],
  ts: new Date(Date.UTC(2026, 5, 21, 12, 0, seconds)).toISOString(),
})

describe('GridEnergyIntegrator', () => {
  it('integrates import and export from grid power for a product without counters (trapezoid rule)', () => {
    const meter = new GridEnergyIntegrator()
    expect(meter.fill(at(0, 3600)).energy).toMatchObject({ grid_import_wh: 0, grid_export_wh: 0 })
    // 10 s at 3,600 W = 10 Wh imported.
    expect(meter.fill(at(10, 3600)).energy).toMatchObject({ grid_import_wh: 10, grid_export_wh: 0 })
    // A ramp from 3,600 W to −1,800 W over 10 s crosses zero after 6⅔ s: 3⅓ Wh in, ⅚ Wh out; then 20 s at −1,800 W.
    meter.fill(at(20, -1800))
    expect(meter.fill(at(40, -1800)).energy).toMatchObject({ grid_import_wh: 13, grid_export_wh: 10 })
  })

  it('leaves a product’s own counters alone, and does not guess across a long gap in the polls', () => {
    const meter = new GridEnergyIntegrator()
    const own = at(0, 500, { grid_import_wh: 123, grid_export_wh: 45 })
    expect(meter.fill(own)).toBe(own)
    meter.fill(at(0, 3600))
    expect(meter.fill(at(120, 3600)).energy.grid_import_wh).toBe(0)
  })
})
