import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadScenario } from '../../simulator/scenario.ts'
import { measuredInterval, parseMeasuredCsv } from '../../simulator/measured-csv.ts'
import { runStudy } from '../../simulator/study.ts'

const STREET = fileURLToPath(new URL('../../simulator/scenarios/street-10.yaml', import.meta.url))

describe('measured load and PV from CSV', () => {
  it('reads Wh per step, or mean W (an hour of 400 W is 400 Wh)', () => {
    expect(Array.from(parseMeasuredCsv('timestamp,a,b\n2026-01-01T00:00Z,120,80\n2026-01-01T00:15Z,95,70.5\n', 'load.csv', 'Wh').wh)).toEqual([120, 80, 95, 70.5])
    const hourly = parseMeasuredCsv('timestamp,a\n2026-01-01T01:00+01:00,400\n2026-01-01T02:00+01:00,1000\n', 'pv.csv', 'W')
    expect(hourly).toMatchObject({ stepMinutes: 60, startMs: Date.parse('2026-01-01T00:00:00Z'), homes: ['a'] })
    expect(Array.from(hourly.wh)).toEqual([400, 1000])
  })

  it('spreads an hourly row over its quarter hours, and sums quarter hours into an hour', () => {
    const hourly = parseMeasuredCsv('timestamp,a,b\n2026-01-01T00:00Z,400,80\n2026-01-01T01:00Z,1000,0\n', 'x.csv', 'Wh')
    const out = new Float64Array(2)
    measuredInterval(hourly, Date.parse('2026-01-01T00:45Z'), 15, out)
    expect(Array.from(out)).toEqual([100, 20])
    const quarters = parseMeasuredCsv('timestamp,a\n2026-01-01T00:00Z,1\n2026-01-01T00:15Z,2\n2026-01-01T00:30Z,3\n2026-01-01T00:45Z,4\n2026-01-01T01:00Z,5\n', 'y.csv', 'Wh')
    const one = new Float64Array(1)
    measuredInterval(quarters, Date.parse('2026-01-01T00:00Z'), 60, one)
    expect(one[0]).toBe(10)
  })

  it('names the file, line and column of a bad cell', () => {
    const bad = (text: string) => () => parseMeasuredCsv(text, 'load.csv', 'Wh')
    const header = 'timestamp,home-1,home-2\n2026-01-01T00:00Z,1,2\n'
    expect(bad(`${header}2026-01-01T00:15Z,3,abc\n`)).toThrow('load.csv line 3, column 3 (home-2): "abc" is not a number of Wh ≥ 0')
    expect(bad(`${header}2026-01-01T00:15Z,-3,4\n`)).toThrow('load.csv line 3, column 2 (home-1): "-3" is not a number of Wh ≥ 0')
    expect(bad(`${header}2026-01-01T00:15Z,3\n`)).toThrow('load.csv line 3: has 2 columns, the header 3')
    expect(bad(`${header}2026-01-01 00:15,3,4\n`)).toThrow(/load.csv line 3, column 1: "2026-01-01 00:15" is not an ISO 8601 time with a zone/)
    expect(bad(`${header}2026-01-01T00:15Z,3,4\n2026-01-01T00:45Z,3,4\n`)).toThrow(/load.csv line 4, column 1: expected 2026-01-01T00:30:00.000Z/)
    expect(bad(`${header}2026-01-01T00:05Z,3,4\n`)).toThrow(/line 3, column 1: rows must be 15 minutes or an hour apart/)
  })

  it('runs the study on the measured homes and models the others as before', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpp-measured-'))
    // Two measured homes over the study's two days (Berlin, winter: local midnight is 23:00 UTC): a
    // flat 100 Wh and 50 Wh a quarter hour of load, and 30 Wh of PV by the first home at every step.
    const rows = ['timestamp,m1,m2']
    const pvRows = ['timestamp,m1']
    for (let q = 0; q < 2 * 96; q++) {
      const at = new Date(Date.parse('2025-12-31T23:00:00Z') + q * 900_000).toISOString()
      rows.push(`${at},100,50`)
      pvRows.push(`${at},30`)
    }
    writeFileSync(join(dir, 'load.csv'), `${rows.join('\n')}\n`)
    writeFileSync(join(dir, 'pv.csv'), `${pvRows.join('\n')}\n`)
    const scenario = loadScenario(STREET)
    writeFileSync(join(dir, 'street.yaml'), stringify({ ...scenario, homes: { ...scenario.homes, measured: { load: { file: 'load.csv', unit: 'Wh' }, pv: { file: 'pv.csv', unit: 'Wh' } } } }))
    const measured = runStudy(loadScenario(join(dir, 'street.yaml')), { days: 2, mode: 'p2p' })
    const modelled = runStudy(scenario, { days: 2, mode: 'p2p' })
    expect(measured.homes.loadWh[0]).toBe(2 * 96 * 100)
    expect(measured.homes.loadWh[1]).toBe(2 * 96 * 50)
    expect(measured.homes.pvWh[0]).toBe(2 * 96 * 30)
    // The second home's PV and every other home are modelled, with the same draws as without files.
    expect(measured.homes.pvWh[1]).toBe(modelled.homes.pvWh[1])
    for (let h = 2; h < 10; h++) {
      expect(measured.homes.loadWh[h], `home ${h}`).toBe(modelled.homes.loadWh[h])
      expect(measured.homes.pvWh[h], `home ${h}`).toBe(modelled.homes.pvWh[h])
    }
    // Three days need a third day of rows.
    expect(() => runStudy(loadScenario(join(dir, 'street.yaml')), { days: 3, mode: 'p2p' })).toThrow(/load.csv: covers 2025-12-31T23:00:00.000Z to 2026-01-02T23:00:00.000Z; the study needs 2025-12-31T23:00:00.000Z to 2026-01-03T23:00:00.000Z/)
  })

  it('says which line of a scenario’s CSV file is wrong when the scenario loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpp-measured-'))
    writeFileSync(join(dir, 'load.csv'), 'timestamp,a\n2026-01-01T00:00Z,1\n2026-01-01T00:15Z,x\n')
    const scenario = loadScenario(STREET)
    writeFileSync(join(dir, 'street.yaml'), stringify({ ...scenario, homes: { ...scenario.homes, measured: { load: { file: 'load.csv', unit: 'Wh' } } } }))
    expect(() => loadScenario(join(dir, 'street.yaml'))).toThrow(`${join(dir, 'load.csv')} line 3, column 2 (a): "x" is not a number of Wh ≥ 0`)
  })
})
