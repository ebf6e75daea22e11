import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runVpp } from '../helpers/run-vpp.ts'

describe('vpp simulate', () => {
  it('runs a scenario five ways and writes a report, KPIs and a time series that agree with each other', async () => {
    const out = mkdtempSync(join(tmpdir(), 'vpp-study-'))
    const result = await runVpp(['simulate', 'simulator/scenarios/street-10.yaml', '--days', '4', '--compare', '--out', out])
    expect(result.stderr).toMatch(/simulating .*100%/)
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/p2p: self-sufficiency [\d.]+ %/)
    const kpis = JSON.parse(readFileSync(join(out, 'kpis.json'), 'utf8')) as { days: number; modes: { mode: string; tradedKwh: number; shortfallKwh: number; imbalanceChargesBaseUnits: number; gridImportKwh: number; savingsBaseUnits: number; lowVoltage: { lossesKwh: number; minVoltagePu: number } }[] }
    expect(kpis.days).toBe(4)
    expect(kpis.modes.map((m) => m.mode)).toEqual(['no-trading', 'p2p', 'p2p-battery', 'p2p-perfect', 'p2p-voltage-limit'])
    const lines = readFileSync(join(out, 'timeseries.csv'), 'utf8').trim().split('\n')
    const header = lines[0]!.split(',')
    const rows = lines.slice(1).map((line) => line.split(','))
    expect(rows).toHaveLength(5 * 4 * 96)
    const column = (name: string) => header.indexOf(name)
    for (const m of kpis.modes) {
      const mine = rows.filter((r) => r[1] === m.mode)
      const total = (name: string) => mine.reduce((n, r) => n + Number(r[column(name)]), 0) / 1000
      expect(total('traded_wh')).toBeCloseTo(m.tradedKwh, 1)
      expect(total('shortfall_wh')).toBeCloseTo(m.shortfallKwh, 1)
      expect(total('imbalance_charges') * 1000).toBe(m.imbalanceChargesBaseUnits)
      expect(total('grid_import_wh')).toBeCloseTo(m.gridImportKwh, 1)
      // The street's cables: losses and voltages in the time series agree with the KPIs.
      expect(total('losses_wh')).toBeCloseTo(m.lowVoltage.lossesKwh, 0)
      expect(Math.min(...mine.map((r) => Number(r[column('min_voltage_pu')])))).toBeCloseTo(m.lowVoltage.minVoltagePu, 4)
    }
    // Every home of every mode, with its own voltages: the lowest of them is the KPI's.
    const homeLines = readFileSync(join(out, 'homes.csv'), 'utf8').trim().split('\n')
    const homeHeader = homeLines[0]!.split(',')
    const homeRows = homeLines.slice(1).map((line) => line.split(','))
    expect(homeRows).toHaveLength(5 * 10)
    for (const m of kpis.modes) {
      const mine = homeRows.filter((r) => r[1] === m.mode)
      expect(Math.min(...mine.map((r) => Number(r[homeHeader.indexOf('min_voltage_pu')])))).toBeCloseTo(m.lowVoltage.minVoltagePu, 4)
      expect(mine.reduce((n, r) => n + Number(r[homeHeader.indexOf('savings')]), 0)).toBe(m.savingsBaseUnits)
    }
    const report = readFileSync(join(out, 'report.html'), 'utf8')
    expect(report).toContain('<h1>Sunny street</h1>')
    expect(report).toContain('Self-sufficiency')
    expect(report).toContain('P2P, perfect foresight')
    expect(report).toContain('P2P, voltage limit in clearing')
    expect(report).toContain('Homes with the largest voltage rise')
    expect(report).toContain('Imbalance charges sellers paid buyers')
    // Forecasts cost something: the agents' P2P leaves trades short, perfect foresight none.
    const mode = (name: string) => kpis.modes.find((m) => m.mode === name)!
    expect(mode('p2p').shortfallKwh).toBeGreaterThan(0)
    expect(mode('p2p-perfect').shortfallKwh).toBe(0)
    expect(report).toContain('Hours with rise above 3 % (VDE-AR-N 4105)')
    expect(report.match(/<svg /g)?.length).toBeGreaterThanOrEqual(5)
    expect(report).not.toMatch(/<script|https?:\/\//)
  }, 120_000) // five studies in a child process: room for a CI machine running other suites beside it

  it('warns when the cables cannot carry the homes, so the power flow does not converge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpp-scenario-'))
    const street = readFileSync('simulator/scenarios/street-10.yaml', 'utf8')
    const hopeless = join(dir, 'hopeless.yaml')
    // One thin cable, a kilometre between homes: in a January evening the far end collapses.
    writeFileSync(hopeless, street.replace(/lowVoltage: \{[^}]*\}/, 'lowVoltage: { lines: 1, mainCable: NYY 4x16, serviceCable: NYY 4x16, homeSpacingM: 1000, serviceLengthM: 200 }').replace(/^start: .*$/m, 'start: 2026-01-10'))
    const bad = await runVpp(['simulate', hopeless, '--days', '1', '--out', join(dir, 'out')])
    expect(bad.code).toBe(0)
    expect(bad.stderr).toMatch(/warning: in p2p, \d+ transformer-intervals' power flow did not converge.*grid\.lowVoltage/)
    const kpis = JSON.parse(readFileSync(join(dir, 'out', 'kpis.json'), 'utf8')) as { modes: { lowVoltage: { powerFlowsNotConverged: number } }[] }
    expect(kpis.modes[0]!.lowVoltage.powerFlowsNotConverged).toBeGreaterThan(0)
    const fine = await runVpp(['simulate', 'simulator/scenarios/street-10.yaml', '--days', '1', '--out', join(dir, 'fine')])
    expect(fine.stderr).not.toMatch(/did not converge/)
  }, 120_000)

  it('says which option or scenario key is wrong', async () => {
    const days = await runVpp(['simulate', 'simulator/scenarios/street-10.yaml', '--days', '0'])
    expect(days.code).toBe(1)
    expect(days.stderr).toMatch(/--days "0"/)
    const dir = mkdtempSync(join(tmpdir(), 'vpp-scenario-'))
    const broken = join(dir, 'broken.yaml')
    writeFileSync(broken, readFileSync('simulator/scenarios/street-10.yaml', 'utf8').replace('retailPerKwh: 300000', 'retailPerKwh: 50000'))
    const bad = await runVpp(['simulate', broken, '--days', '1'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/tariffs\.retailPerKwh.*above feedInPerKwh/)
  })
})
