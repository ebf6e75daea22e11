import { describe, expect, it } from 'vitest'
import { DEFAULT_SITE, HomeModel, demoHomes } from '../../simulator/home-model.ts'

const pvHome = demoHomes(1)[0]!

/** One simulated day of a home at 15-minute steps from midnight: PV and load per step. */
function day(model: HomeModel) {
  return Array.from({ length: 96 }, (_, q) => model.step(q * 900, 900))
}

describe('HomeModel (live mode) on the study models', () => {
  it('makes PV with the sun of its site and date: none at night, more at noon in June than in December', () => {
    const june = day(new HomeModel(pvHome))
    const december = day(new HomeModel(pvHome, { ...DEFAULT_SITE, startDate: '2026-12-21', utcOffsetHours: 1 }))
    expect(june[8]!.pvW).toBe(0) // 02:00
    expect(june[48]!.pvW).toBeGreaterThan(june[32]!.pvW) // noon > 08:00
    const energy = (steps: { pvW: number }[]) => steps.reduce((n, s) => n + s.pvW, 0)
    expect(energy(june)).toBeGreaterThan(2 * energy(december))
    // Sunrise in Berlin: 04:43 in June, 08:16 in December.
    expect(june.findIndex((s) => s.pvW > 0)).toBeLessThan(24)
    expect(december.findIndex((s) => s.pvW > 0)).toBeGreaterThan(32)
  })

  it('follows the standard household profile: the evening peak above the small hours, scaled by the home’s base load', () => {
    const steps = day(new HomeModel(demoHomes(2)[1]!))
    const mean = (from: number, to: number) => steps.slice(from, to).reduce((n, s) => n + s.loadW, 0) / (to - from)
    expect(mean(72, 84)).toBeGreaterThan(2 * mean(8, 20)) // 18–21 h against 02–05 h
  })

  it('runs on into the next day when the time of day wraps, and is the same for the same seeds', () => {
    const a = new HomeModel(pvHome)
    const b = new HomeModel(pvHome)
    const first = [...day(a), ...day(a)]
    expect([...day(b), ...day(b)]).toEqual(first)
    // Day two has its own sky: not a copy of day one.
    expect(first.slice(96).map((s) => s.pvW)).not.toEqual(first.slice(0, 96).map((s) => s.pvW))
  })
})
