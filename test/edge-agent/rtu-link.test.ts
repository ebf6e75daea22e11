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
import { missing } from '../helpers/requires.ts'

// A serial line cannot exist here without hardware: socat's pseudo-terminal pair stands in for the
// RS-485 adapter and its cable, with the virtual device on one end and the agent's link on the other.
const haveSocat = !missing('socat', '/usr/bin/socat', 'apt-get install -y socat')
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

describe.skipIf(!haveSocat)('Modbus RTU over TCP (an RS-485 gateway in transparent mode)', () => {
  it('reads the same SunSpec device through rtu+tcp:// when a gateway passes its RTU frames over TCP', async () => {
    // socat plays the serial-to-Ethernet gateway: a TCP listener whose bytes go to and from the serial line.
    const gatewayDir = mkdtempSync(join(tmpdir(), 'vpp-gateway-'))
    const linePty = join(gatewayDir, 'line')
    const { freePort } = await import('../../platform/free-port.ts')
    const port = await freePort()
    const gateway = spawn('socat', [`pty,raw,echo=0,link=${linePty}`, `tcp-listen:${port},bind=127.0.0.1,reuseaddr`], { stdio: 'ignore' })
    await waitFor('the gateway’s serial side', () => existsSync(linePty), 10_000, 50)
    const spec = demoHomes(3)[2]!
    const behind = new VirtualSunSpecDevice({ spec, port: 0, serial: { path: linePty, baudRate: 9600 } })
    behind.update(new HomeModel(spec).step(12 * 3600, 60), { pvWh: 0, importWh: 0, exportWh: 0 })
    await behind.start()
    const overTcp = new ModbusLink(parseModbusUrl(`rtu+tcp://127.0.0.1:${port}`))
    try {
      await waitFor('the gateway accepting connections', async () => {
        await overTcp.connect()
        return true
      }, 10_000, 100)
      const read = (address: number, length: number) => overTcp.readHolding(1, address, length)
      const found = await discoverSunSpec(read)
      expect(found.models.map((m) => m.id)).toEqual([1, 103, 203])
      const snapshot = snapshotFromSunSpec(await readModels(read, found), new Date())
      expect(snapshot.device.serial).toBe(spec.id)
      expect(snapshot.pv_w).toBeGreaterThan(0)
      expect(snapshot.battery_soc_pct).toBeNull()
    } finally {
      await overTcp.close()
      await behind.stop()
      gateway.kill()
    }
  })

  it('explains a gateway URL without its port', () => {
    expect(() => parseModbusUrl('rtu+tcp://192.168.1.20')).toThrow(/give the gateway's port, e.g. rtu\+tcp:\/\/192.168.1.20:4196/)
  })
})
