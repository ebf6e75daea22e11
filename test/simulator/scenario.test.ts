import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { topologySchema } from '../../market/engine/topology.ts'
import { loadScenario, scenarioHomes, scenarioTopology } from '../../simulator/scenario.ts'

const shipped = (name: string) => fileURLToPath(new URL(`../../simulator/scenarios/${name}.yaml`, import.meta.url))

describe('study scenarios', () => {
  it('ships a 10-home street, a 200-home suburb on two transformers and a town of 10,000 on 100 transformers and 10 feeders', () => {
    const street = loadScenario(shipped('street-10'))
    const suburb = loadScenario(shipped('suburb-200'))
    const town = loadScenario(shipped('suburb-10000'))
    expect([street.homes.count, suburb.homes.count, town.homes.count]).toEqual([10, 200, 10_000])
    const count = (s: typeof town, level: string) => scenarioTopology(s).filter((n) => n.level === level).length
    expect([count(suburb, 'transformer'), count(suburb, 'feeder')]).toEqual([2, 1])
    expect([count(town, 'transformer'), count(town, 'feeder'), count(town, 'substation')]).toEqual([100, 10, 1])
    // The tree is one the market engine takes.
    expect(topologySchema.safeParse(scenarioTopology(town)).success).toBe(true)
  })

  it('draws the same homes from the same seed, with the mix it asks for, spread evenly over the transformers', () => {
    const town = loadScenario(shipped('suburb-10000'))
    const homes = scenarioHomes(town)
    expect(scenarioHomes(town)).toEqual(homes)
    const share = (has: (h: (typeof homes)[number]) => boolean) => homes.filter(has).length / homes.length
    expect(share((h) => h.pv !== null)).toBeCloseTo(0.4, 1)
    expect(share((h) => h.battery !== null)).toBeCloseTo(0.2, 1)
    expect(share((h) => h.evKwhPerDay > 0)).toBeCloseTo(0.25, 1)
    const perTransformer = new Map<string, number>()
    for (const h of homes) perTransformer.set(h.transformer, (perTransformer.get(h.transformer) ?? 0) + 1)
    expect([...perTransformer.values()].every((n) => n === 100)).toBe(true)
    for (const h of homes.filter((x) => x.pv)) expect(h.pv!.kWp).toBeGreaterThanOrEqual(3)
    expect(scenarioHomes({ ...town, seed: town.seed + 1 })).not.toEqual(homes)
  })

  it('names the key, the bad value and what it expects for a broken scenario', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vpp-scenario-')), 'broken.yaml')
    writeFileSync(file, 'name: x\nlocation: { lat: 95, lon: 13, timeZone: Europe/Berlin }\nstart: 2026-01-01\nhomes: { count: 10, annualLoadKwh: [5000, 2000], pv: { share: 0.5, kWp: [3, 8], tiltDeg: 30, azimuthDeg: [90, 270] }, battery: { share: 0, kWh: [5, 10], kW: [2, 5], efficiency: 0.9 } }\ngrid: { feeders: 1, transformersPerFeeder: 1, transformerKw: null, feederKw: null }\ntariffs: { retailPerKwh: 300000, feedInPerKwh: 80000, fees: { transformer: 0, feeder: 0, substation: 0 } }\nmarket: {}\nseed: 1\nweather: sunny\n')
    expect(() => loadScenario(file)).toThrow(/location\.lat: .*(95)/)
    expect(() => loadScenario(file)).toThrow(/homes\.annualLoadKwh: must be \[low, high\]/)
    expect(() => loadScenario(file)).toThrow(/weather: unknown key/)
  })
})
