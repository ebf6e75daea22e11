import { describe, expect, it } from 'vitest'
import { IntervalMeter } from '../../edge-agent/interval-meter.ts'

const T = 1_800_000_000 // a multiple of 900

describe('IntervalMeter', () => {
  it('gives each whole interval the counter difference across it', () => {
    const meter = new IntervalMeter(900)
    expect(meter.observe(T - 100, 500, 3000)).toEqual([]) // started mid-interval: that one is not claimed
    expect(meter.observe(T + 2, 520, 3001)).toEqual([])
    expect(meter.observe(T + 450, 600, 3001)).toEqual([])
    expect(meter.observe(T + 901, 700, 3010)).toEqual([{ interval: T, exportedWh: 180, importedWh: 9 }])
    expect(meter.observe(T + 1801, 710, 3100)).toEqual([{ interval: T + 900, exportedWh: 10, importedWh: 90 }])
  })

  it('claims nothing for intervals it missed or when the counters went backwards', () => {
    const meter = new IntervalMeter(900)
    meter.observe(T - 1, 0, 0)
    meter.observe(T + 1, 10, 10)
    // Offline for two intervals: the energy cannot be placed in any one of them.
    expect(meter.observe(T + 2 * 900 + 5, 500, 40)).toEqual([])
    // A meter swap resets the counters.
    expect(meter.observe(T + 3 * 900 + 5, 3, 2)).toEqual([])
    expect(meter.observe(T + 4 * 900 + 5, 13, 2)).toEqual([{ interval: T + 3 * 900, exportedWh: 10, importedWh: 0 }])
  })
})
