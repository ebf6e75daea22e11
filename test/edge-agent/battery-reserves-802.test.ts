import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { RunningBroker } from '../../broker/mqtt-broker.ts'
import { ReserveKeeper } from '../../edge-agent/battery-reserves.ts'
import type { EdgeAgent } from '../../edge-agent/edge-agent.ts'
import { sunspecModelTables } from '../../edge-agent/sunspec/model-tables.ts'
import { batteryReserveWrites } from '../../edge-agent/sunspec/storage-control.ts'
import type { DecodedModel } from '../../edge-agent/sunspec/sunspec-decoder.ts'
import { demoHomes } from '../../simulator/home-model.ts'
import { LiveNeighbourhood } from '../../simulator/live-neighbourhood.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { awardIntervals, testAgent, testBroker, marketClient } from '../helpers/agent.ts'

const community = 'street'
const INTERVAL_SECONDS = 20
// A battery home at 22:00 on an inverter whose battery offers only the base model 802: no 124, no 704.
const home = demoHomes(2)[1]!
const limits = { socFloorPct: 10, socCeilingPct: 95 }

describe('batteryReserveWrites (model 802 reserve limits)', () => {
  const table = sunspecModelTables[802]!
  const model = { raw: { SoC_SF: -1 } } as unknown as DecodedModel
  const original = { SocRsvMax: 1000, SoCRsvMin: 100 }
  const write = (setpointW: number | null, socPct: number) => batteryReserveWrites(table, 40100, model, setpointW, socPct, limits, original)

  it('holds the charge for a purchase, the room for a sale, both for a hold, and gives the owner’s limits back on release', () => {
    // One write of SocRsvMax, SoCRsvMin (offsets 9 and 10 from the model ID), in tenths of a percent.
    // A purchase or sale one step past the reading (62.3 %), so the battery stops at once.
    expect(write(-1500, 62.34)).toEqual([{ address: 40109, values: [950, 624] }])
    expect(write(1500, 62.34)).toEqual([{ address: 40109, values: [622, 100] }])
    expect(write(0, 62.34)).toEqual([{ address: 40109, values: [623, 623] }])
    expect(write(null, 62.34)).toEqual([{ address: 40109, values: [1000, 100] }])
  })

  it('keeps both limits within the homeowner’s floor and ceiling', () => {
    expect(write(-1500, 99)).toEqual([{ address: 40109, values: [950, 950] }])
    expect(write(1500, 3)).toEqual([{ address: 40109, values: [100, 100] }])
  })
})

describe('ReserveKeeper', () => {
  it('keeps the first limits it sees on disk until cleared, and ignores a file it cannot read, saying so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpp-reserves-'))
    try {
      const warnings: string[] = []
      const keeper = new ReserveKeeper(dir, (m) => warnings.push(m))
      expect(keeper.saved()).toBeUndefined()
      expect(keeper.capture({ SocRsvMax: 900, SoCRsvMin: 200 })).toEqual({ SocRsvMax: 900, SoCRsvMin: 200 })
      expect(keeper.capture({ SocRsvMax: 500, SoCRsvMin: 500 })).toEqual({ SocRsvMax: 900, SoCRsvMin: 200 })
      expect(new ReserveKeeper(dir, (m) => warnings.push(m)).saved()).toEqual({ SocRsvMax: 900, SoCRsvMin: 200 })
      keeper.clear()
      expect(new ReserveKeeper(dir, (m) => warnings.push(m)).saved()).toBeUndefined()
      writeFileSync(join(dir, 'battery-reserves.json'), '{"SocRsvMax": "lots"}')
      expect(new ReserveKeeper(dir, (m) => warnings.push(m)).saved()).toBeUndefined()
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/battery-reserves\.json does not hold the battery's reserve limits/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('battery steering through the battery model 802 alone', () => {
  let hood: LiveNeighbourhood
  let broker: RunningBroker
  let market: MqttClient
  let agent: EdgeAgent | undefined
  let dataDir: string

  beforeAll(async () => {
    hood = new LiveNeighbourhood({ homes: [home], startSecondsOfDay: 22 * 3600, tickMs: 250, storageControl: 802 })
    await hood.start()
    broker = await testBroker(community, { 'home-02': 'pw-home-02' })
    market = await marketClient(broker)
    dataDir = mkdtempSync(join(tmpdir(), 'vpp-agent-802-'))
  })
  afterAll(async () => {
    await agent?.stop()
    await market?.endAsync()
    await broker?.close()
    await hood?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const newAgent = () =>
    testAgent({
      agentId: 'home-02',
      community,
      mqtt: { url: broker.url, password: 'pw-home-02' },
      modbus: { transport: 'tcp', host: '127.0.0.1', port: hood.homes[0]!.device.port },
      battery: { maxW: 2500, ...limits, controlSeconds: 0.5 },
      marketSilenceSeconds: 8,
      dataDir,
    })
  const reserves = () => [Number(hood.homes[0]!.device.image.get(802, 'SocRsvMax')), Number(hood.homes[0]!.device.image.get(802, 'SoCRsvMin'))]

  it('keeps the battery from discharging so a purchase comes from the grid, and gives the owner’s limits back when the market goes quiet', async () => {
    const device = hood.homes[0]!.device
    expect(() => device.image.get(124, 'StorCtl_Mod')).toThrow()
    expect(() => device.image.get(704, 'WSetEna')).toThrow()
    expect(reserves()).toEqual([1000, 100])
    // At night the battery covers the home by itself.
    await waitFor('the battery covering the home', () => Number(device.image.get(802, 'W')) > 0, 10_000)
    agent = newAgent()
    const startedAt = Date.now() / 1000
    await agent.start()
    await awardIntervals(market, { community, agentId: 'home-02', intervalSeconds: INTERVAL_SECONDS, startedAt, netWh: -60, count: 3 })
    // SoCRsvMin up to the present charge: the battery stops, the home imports, and the owner's limits are on disk.
    await waitFor('the minimum reserve raised', () => reserves()[1]! > 100, 25_000)
    const soc = Number(device.image.get(802, 'SoC'))
    expect(Math.abs(reserves()[1]! - soc)).toBeLessThanOrEqual(10)
    expect(reserves()[0]).toBe(950)
    await waitFor('the battery idle and the home importing', () => Number(device.image.get(802, 'W')) === 0 && Number(device.image.get(203, 'W')) > 0, 25_000)
    expect(JSON.parse(readFileSync(join(dataDir, 'battery-reserves.json'), 'utf8'))).toEqual({ SocRsvMax: 1000, SoCRsvMin: 100 })

    // No market for 8 s: the owner's limits go back, and the battery covers the home again.
    await waitFor('the owner’s reserve limits restored', () => reserves()[0] === 1000 && reserves()[1] === 100, 45_000)
    expect(existsSync(join(dataDir, 'battery-reserves.json'))).toBe(false)
    await waitFor('the battery covering the home again', () => Number(device.image.get(802, 'W')) > 0, 10_000)
    await agent.stop()
    agent = undefined
  }, 120_000)

  it('restores the owner’s limits at start after a run that died while holding the battery', async () => {
    const device = hood.homes[0]!.device
    // What a crashed run leaves: the battery held, and the owner's limits on disk.
    device.image.set(802, 'SocRsvMax', 600)
    device.image.set(802, 'SoCRsvMin', 600)
    writeFileSync(join(dataDir, 'battery-reserves.json'), JSON.stringify({ SocRsvMax: 1000, SoCRsvMin: 100 }))
    agent = newAgent()
    await agent.start()
    expect(reserves()).toEqual([1000, 100])
    expect(existsSync(join(dataDir, 'battery-reserves.json'))).toBe(false)
  }, 30_000)
})
