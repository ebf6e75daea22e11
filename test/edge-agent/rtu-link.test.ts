import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ModbusLink } from '../../edge-agent/modbus/modbus-link.ts'
import { parseModbusUrl } from '../../edge-agent/modbus/modbus-url.ts'
import { snapshotFromSunSpec } from '../../edge-agent/snapshot-normalizer.ts'
import { discoverSunSpec, readModels } from '../../edge-agent/sunspec/sunspec-discovery.ts'
import { HomeModel, demoHomes } from '../../simulator/home-model.ts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'
import { waitFor } from '../helpers/wait-for.ts'

// A serial line cannot exist here without hardware: socat's pseudo-terminal pair stands in for the
// RS-485 adapter and its cable, with the virtual device on one end and the agent's link on the other.
const haveSocat = existsSync('/usr/bin/socat')
const dir = mkdtempSync(join(tmpdir(), 'vpp-rtu-'))
const [devicePty, agentPty] = [join(dir, 'device'), join(dir, 'agent')]
let socat: ChildProcess
let device: VirtualSunSpecDevice
let link: ModbusLink

beforeAll(async () => {
  if (!haveSocat) return
  socat = spawn('socat', [`pty,raw,echo=0,link=${devicePty}`, `pty,raw,echo=0,link=${agentPty}`], { stdio: 'ignore' })
  await waitFor('the pseudo-terminal pair', () => existsSync(devicePty) && existsSync(agentPty), 10_000, 50)
  const spec = demoHomes(2)[1]!
  device = new VirtualSunSpecDevice({ spec, port: 0, serial: { path: devicePty, baudRate: 9600 } })
  device.update(new HomeModel(spec).step(12 * 3600, 60), { pvWh: 0, importWh: 0, exportWh: 0 })
  await device.start()
})
afterAll(async () => {
  await link?.close()
  await device?.stop()
  socat?.kill()
})

describe.skipIf(!haveSocat)('Modbus RTU over a serial line (socat pseudo-terminals)', () => {
  it('discovers and reads the SunSpec device through rtu:// as over TCP', async () => {
    link = new ModbusLink(parseModbusUrl(`rtu://${agentPty}?baud=9600&parity=none`))
    await link.connect()
    const read = (address: number, length: number) => link.readHolding(1, address, length)
    const found = await discoverSunSpec(read)
    expect(found.models.map((m) => m.id)).toEqual([1, 103, 802, 124, 203])
    const snapshot = snapshotFromSunSpec(await readModels(read, found), new Date())
    expect(snapshot.device.model).toBe('VirtualHome')
    expect(snapshot.battery_soc_pct).not.toBeNull()
  })
})
