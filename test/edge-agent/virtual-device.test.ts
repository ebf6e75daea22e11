import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ModbusLink } from '../../edge-agent/modbus/modbus-link.ts'
import { parseModbusUrl } from '../../edge-agent/modbus/modbus-url.ts'
import { discoverSunSpec, readModels } from '../../edge-agent/sunspec/sunspec-discovery.ts'
import { snapshotFromSunSpec } from '../../edge-agent/snapshot-normalizer.ts'
import { snapshotSchema } from '../../protocol/snapshot.ts'
import { HomeModel, demoHomes } from '../../simulator/home-model.ts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'
import { freePort } from '../../platform/free-port.ts'
import { missing } from '../helpers/requires.ts'

const run = promisify(execFile)
const spec = demoHomes(2)[1]! // a home with a battery
const model = new HomeModel(spec)
let device: VirtualSunSpecDevice
let link: ModbusLink
const read = (address: number, length: number) => link.readHolding(1, address, length)

beforeAll(async () => {
  device = new VirtualSunSpecDevice({ spec: { ...spec, pvKwp: 5 }, port: await freePort(), initialCounters: { pvWh: 1_000_000, importWh: 2_000_000, exportWh: 300_000 } })
  model.step(12 * 3600, 60)
  device.update(model.step(12 * 3600 + 60, 60), model.counters)
  await device.start()
  link = new ModbusLink(parseModbusUrl(`tcp://127.0.0.1:${device.port}`))
  await link.connect()
})
afterAll(async () => {
  await link?.close()
  await device?.stop()
})

describe('virtual SunSpec device over Modbus TCP', () => {
  it('is discovered at 40000 with models 1, 103, 802, 124 and 203 chained to the end marker', async () => {
    const found = await discoverSunSpec(read)
    expect(found.base).toBe(40000)
    expect(found.models.map((m) => m.id)).toEqual([1, 103, 802, 124, 203])
    expect(found.models[0]).toMatchObject({ address: 40002, length: 66 })
  })

  it('reads back the home model as a normalized snapshot (docs/architecture.md signs and units)', async () => {
    const snapshot = snapshotFromSunSpec(await readModels(read, await discoverSunSpec(read)), new Date())
    expect(snapshotSchema.parse(snapshot)).toEqual(snapshot)
    const r = model.last
    expect(snapshot.device).toEqual({ manufacturer: 'OpenVPP', model: 'VirtualHome', serial: spec.id, version: '0.1.0' })
    expect(snapshot.inverter_ac_w).toBe(r.pvW)
    expect(snapshot.grid_w).toBe(r.gridW)
    expect(snapshot.battery_w).toBe(r.batteryW)
    expect(snapshot.load_w).toBe(r.loadW)
    expect(snapshot.battery_soc_pct).toBeCloseTo(r.socPct, 0)
    expect(snapshot.energy.grid_import_wh).toBe(Math.round(2_000_000 + model.counters.importWh))
    expect(snapshot.energy.grid_export_wh).toBe(Math.round(300_000 + model.counters.exportWh))
    // Model 203 carries no per-phase VA on this device: unimplemented points stay null, not zero.
    const meter = (await readModels(read, await discoverSunSpec(read))).find((m) => m.id === 203)!
    expect(meter.values.VAphA).toBeNull()
  })

  it('answers a read outside its map with exception 2 (ILLEGAL DATA ADDRESS) and keeps serving', async () => {
    await expect(read(30000, 2)).rejects.toMatchObject({ modbusCode: 2 })
    expect((await read(40000, 2))).toEqual([0x5375, 0x6e53])
  })

  it('refuses writes to read-only registers and counts none', async () => {
    await expect(link.writeRegisters(1, 40000, [1])).rejects.toMatchObject({ modbusCode: 2 })
    expect(device.writes).toBe(0)
  })

  it.skipIf(missing('mbpoll', '/usr/bin/mbpoll', 'apt-get install -y mbpoll'))('is valid SunSpec to a third-party client (mbpoll)', async () => {
    const { stdout } = await run('mbpoll', ['-m', 'tcp', '-p', String(device.port), '-a', '1', '-t', '4:hex', '-0', '-r', '40000', '-c', '4', '-1', '127.0.0.1'])
    expect(stdout).toMatch(/\[40000\]:\s+0x5375/)
    expect(stdout).toMatch(/\[40001\]:\s+0x6E53/)
    expect(stdout).toMatch(/\[40002\]:\s+0x0001/) // model 1 …
    expect(stdout).toMatch(/\[40003\]:\s+0x0042/) // … of length 66
  })
})

describe('parseModbusUrl', () => {
  it('parses tcp and rtu URLs and explains a bad one', () => {
    expect(parseModbusUrl('tcp://10.0.0.5')).toEqual({ transport: 'tcp', host: '10.0.0.5', port: 502 })
    expect(parseModbusUrl('rtu:///dev/ttyUSB0?baud=19200&parity=even')).toMatchObject({ transport: 'rtu', path: '/dev/ttyUSB0', baudRate: 19200, parity: 'even' })
    expect(() => parseModbusUrl('http://x')).toThrow(/use tcp:\/\/, rtu:\/\/ or rtu\+tcp:\/\//)
    expect(parseModbusUrl('rtu+tcp://192.0.2.20:4196')).toEqual({ transport: 'rtu-over-tcp', host: '192.0.2.20', port: 4196 })
    expect(() => parseModbusUrl('rtu:///dev/ttyUSB0?parity=mark')).toThrow(/parity/)
  })
})
