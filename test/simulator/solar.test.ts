import { describe, expect, it } from 'vitest'
import { clearSkyGhi, planeIrradiance, sunPosition } from '../../simulator/solar.ts'

describe('solar model', () => {
  it('puts the sun where it is: high at midsummer noon, low at midwinter, below the horizon at night', () => {
    // Berlin (52.5 N, 13.4 E): solar noon is about 11:07 UTC; the midsummer sun peaks at 90 − 52.5 + 23.44 ≈ 61°.
    const summer = sunPosition(new Date('2026-06-21T11:07:00Z'), 52.5, 13.4)
    expect(summer.elevationDeg).toBeGreaterThan(60)
    expect(summer.elevationDeg).toBeLessThan(62)
    expect(summer.azimuthDeg).toBeGreaterThan(170)
    expect(summer.azimuthDeg).toBeLessThan(190)
    const winter = sunPosition(new Date('2026-12-21T11:07:00Z'), 52.5, 13.4)
    expect(winter.elevationDeg).toBeGreaterThan(13)
    expect(winter.elevationDeg).toBeLessThan(15)
    expect(sunPosition(new Date('2026-06-21T23:00:00Z'), 52.5, 13.4).elevationDeg).toBeLessThan(0)
    // Morning sun in the east, evening sun in the west.
    expect(sunPosition(new Date('2026-06-21T05:00:00Z'), 52.5, 13.4).azimuthDeg).toBeLessThan(90)
    expect(sunPosition(new Date('2026-06-21T17:00:00Z'), 52.5, 13.4).azimuthDeg).toBeGreaterThan(270)
  })

  it('gives about 850 W/m² on a clear midsummer noon in Berlin and nothing at night', () => {
    const ghi = clearSkyGhi(sunPosition(new Date('2026-06-21T11:07:00Z'), 52.5, 13.4))
    expect(ghi).toBeGreaterThan(800)
    expect(ghi).toBeLessThan(950)
    expect(clearSkyGhi({ elevationDeg: -5, azimuthDeg: 0 })).toBe(0)
  })

  it('gives a south-facing tilted panel more than a flat one in winter, and a north-facing one less', () => {
    const sun = sunPosition(new Date('2026-12-21T11:07:00Z'), 52.5, 13.4)
    const ghi = clearSkyGhi(sun)
    const south = planeIrradiance(sun, ghi, 35, 180)
    const north = planeIrradiance(sun, ghi, 35, 0)
    expect(south).toBeGreaterThan(ghi * 1.5)
    expect(north).toBeLessThan(ghi)
    expect(planeIrradiance(sun, ghi, 0, 180)).toBeCloseTo(ghi, 0)
  })
})
