import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { MqttClient } from 'mqtt'
import type { RunningBroker } from '../../broker/mqtt-broker.ts'
import { vendorMap, vendorMapSchema } from '../../edge-agent/device-maps/vendor-map.ts'
import { freePort } from '../../platform/free-port.ts'
import { VirtualVendorDevice, encodeVendorRegisters } from '../../simulator/virtual-vendor-device.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { awardIntervals, testAgent, testBroker, marketClient } from '../helpers/agent.ts'

const community = 'street'
const INTERVAL_SECONDS = 20
const map = vendorMap('sungrow-sh')
let broker: RunningBroker
let market: MqttClient

// An SH hybrid at night: no sun, the home drawing 500 W, the battery at 60 %.
const night = { pv_w: 0, inverter_ac_w: 0, grid_w: 500, battery_w: 0, battery_soc_pct: 60, load_w: 500, pv_total_wh: 1_000_000, grid_import_wh: 2_000_000, grid_export_wh: 500_000 }

async function deviceAndAgent(readOnly: boolean, profile = map, values: Partial<typeof night> = night, unitId = 1) {
  const device = new VirtualVendorDevice(encodeVendorRegisters(profile, values), await freePort())
  await device.start()
  const agent = testAgent({
    community,
    mqtt: { url: broker.url, password: 'pw' },
    modbus: { transport: 'tcp', host: '127.0.0.1', port: device.port },
    unitId,
    pollMs: 200,
    profile,
    battery: { maxW: 5000, socFloorPct: 10, socCeilingPct: 95, controlSeconds: 0.5 },
    readOnly,
  })
  return { device, agent }
}

/** Waits for an interval the agent metered from its start, then awards it a sale of 5 Wh in it (or a purchase of `boughtWh`). */
function awardSale(startedAt: number, boughtWh = 0) {
  return awardIntervals(market, { community, agentId: 'home-01', intervalSeconds: INTERVAL_SECONDS, startedAt, netWh: boughtWh ? -boughtWh : 5, minLeftSeconds: 4 })
}

beforeAll(async () => {
  broker = await testBroker(community, { 'home-01': 'pw' })
  market = await marketClient(broker)
})
afterAll(async () => {
  await market?.endAsync()
  await broker?.close()
})

describe('battery commands through a vendor profile (Sungrow SH)', () => {
  it('hands back any stale forced mode at start, forces a discharge to deliver a sale, and hands back at stop', async () => {
    const { device, agent } = await deviceAndAgent(false)
    const startedAt = Date.now() / 1000
    await agent.start()
    // Release at start: EMS mode 0 (self-consumption), command 0xCC (stop).
    expect(device.writes.slice(0, 2)).toEqual([{ address: 13049, values: [0] }, { address: 13050, values: [0xcc] }])
    await awardSale(startedAt)
    await waitFor('a forced discharge', () => device.registers.get('1:holding:13050') === 0xbb)
    expect(device.registers.get('1:holding:13049')).toBe(2)
    // 5 Wh in what is left of 20 s plus the home's own 500 W: a kW or more, within the 5 kW limit.
    expect(device.registers.get('1:holding:13051')).toBeGreaterThan(1000)
    expect(device.registers.get('1:holding:13051')).toBeLessThanOrEqual(5000)
    await agent.stop()
    expect(device.writes.slice(-2)).toEqual([{ address: 13049, values: [0] }, { address: 13050, values: [0xcc] }])
    await device.stop()
  })

  it('sends no command at all with readOnly: true', async () => {
    const { device, agent } = await deviceAndAgent(true)
    const startedAt = Date.now() / 1000
    await agent.start()
    await awardSale(startedAt)
    await waitFor('the award received', () => agent.counters.get('awards') > 0)
    await new Promise((resolve) => setTimeout(resolve, 1500)) // three control periods
    await agent.stop()
    expect(device.writes).toEqual([])
    await device.stop()
  })
})

describe('battery commands through a vendor profile (Victron GX, ESS grid setpoint)', () => {
  it('sets the ESS grid setpoint so the Multi exports what was sold, metering by grid power, and writes 0 W (self-consumption) on release', async () => {
    // Night: the home draws 500 W from the grid, the battery at 60 %. The GX (unit 100) keeps no energy counters.
    const { device, agent } = await deviceAndAgent(false, vendorMap('victron-gx'), { pv_w: 0, grid_w: 500, battery_w: 0, battery_soc_pct: 60, load_w: 500 }, 100)
    const startedAt = Date.now() / 1000
    await agent.start()
    // Release at start: setpoint 0 W, one signed 32-bit value over 2716–2717.
    expect(device.writes[0]).toEqual({ address: 2716, values: [0, 0] })
    await awardSale(startedAt)
    const setpoint = () => (((device.registers.get('100:holding:2716') ?? 0) << 16) | (device.registers.get('100:holding:2717') ?? 0)) >> 0
    // 5 Wh in what is left of 20 s: the grid must take power from the home, so the setpoint is negative.
    await waitFor('a negative grid setpoint', () => setpoint() < 0, 25_000)
    expect(setpoint()).toBeGreaterThanOrEqual(-5000)
    await agent.stop()
    expect(device.writes.at(-1)).toEqual({ address: 2716, values: [0, 0] })
    await device.stop()
  }, 60_000)

  it('refuses a command value that does not fit its register', () => {
    const victron = vendorMap('victron-gx')
    const parsed = vendorMapSchema.safeParse({ ...victron, batteryControl: { ...victron.batteryControl!, release: [{ address: 2700, value: -50 }] } })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]?.message).toMatch(/uint16 value must be 0–65535/)
  })
})

/**
 * Waits for Huawei's forcible command (47100: 1 charge, 2 discharge), checks the power, the 2-minute
 * period and the duration mode went first and the command last (so the inverter never runs a stale
 * power), and returns the uint32 power in W (two registers from `powerAddress`, high word first).
 */
async function forcibleCommand(device: VirtualVendorDevice, command: 1 | 2, powerAddress: 47247 | 47249): Promise<number> {
  await waitFor(`forcible command ${command}`, () => device.registers.get('1:holding:47100') === command)
  const at = device.writes.findIndex((w) => w.address === 47100 && w.values[0] === command)
  expect(device.writes.slice(at - 3, at + 1).map((w) => w.address)).toEqual([powerAddress, 47083, 47246, 47100])
  expect(device.registers.get('1:holding:47083')).toBe(2)
  expect(device.registers.get('1:holding:47246')).toBe(0)
  return device.registers.get(`1:holding:${powerAddress}`)! * 65536 + device.registers.get(`1:holding:${powerAddress + 1}`)!
}

describe('battery commands through a vendor profile (Huawei SUN2000 + LUNA2000, forcible charge/discharge)', () => {
  it('stops any forcible mode at start, forces a discharge for a short period at the power the sale needs, and stops it at the end', async () => {
    const huawei = vendorMap('huawei-sun2000')
    const { device, agent } = await deviceAndAgent(false, huawei)
    const startedAt = Date.now() / 1000
    await agent.start()
    expect(device.writes[0]).toEqual({ address: 47100, values: [0] })
    await awardSale(startedAt)
    // The sale and the home's own 500 W, within the 5 kW limit.
    const power = await forcibleCommand(device, 2, 47249)
    expect(power).toBeGreaterThan(1000)
    expect(power).toBeLessThanOrEqual(5000)
    await agent.stop()
    expect(device.writes.at(-1)).toEqual({ address: 47100, values: [0] })
    await device.stop()
  })

  it('forces a charge at the power a purchase needs', async () => {
    const { device, agent } = await deviceAndAgent(false, vendorMap('huawei-sun2000'))
    const startedAt = Date.now() / 1000
    await agent.start()
    // 60 Wh bought within at most 20 s: more than the home's 500 W, so the battery must take the rest.
    await awardSale(startedAt, 60)
    const power = await forcibleCommand(device, 1, 47247)
    expect(power).toBeGreaterThan(0)
    expect(power).toBeLessThanOrEqual(5000)
    await agent.stop()
    expect(device.writes.at(-1)).toEqual({ address: 47100, values: [0] })
    await device.stop()
  })

  it('takes uint32 command values up to 2³² − 1 and no further', () => {
    const huawei = vendorMap('huawei-sun2000')
    const withRelease = (value: number) => vendorMapSchema.safeParse({ ...huawei, batteryControl: { ...huawei.batteryControl!, release: [{ address: 47247, type: 'uint32', value }] } })
    expect(withRelease(0xffffffff).success).toBe(true)
    expect(withRelease(0x100000000).error?.issues[0]?.message).toMatch(/uint32 value must be 0–4294967295/)
    expect(withRelease(-1).success).toBe(false)
  })
})
