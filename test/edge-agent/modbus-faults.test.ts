import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashPassword } from '../../broker/credentials.ts'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { ModbusLink } from '../../edge-agent/modbus/modbus-link.ts'
import { startModbusServer, stopModbusServer, type ModbusServer } from '../../simulator/modbus-server.ts'
import { discoverSunSpec } from '../../edge-agent/sunspec/sunspec-discovery.ts'
import { freePort } from '../../platform/free-port.ts'
import { createLogger } from '../../platform/logger.ts'
import { HomeModel, demoHomes } from '../../simulator/home-model.ts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { testAgent } from '../helpers/agent.ts'

/**
 * A real Modbus TCP server over a virtual device's register image that misbehaves on request:
 * answers with an exception code, answers late, or goes away and comes back.
 */
class FaultyDevice {
  faults: { exception?: number; count: number } = { count: 0 }
  delayMs = 0
  readonly requestTimes: number[] = []
  private server: ModbusServer | undefined
  constructor(
    readonly image: VirtualSunSpecDevice['image'],
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const vector = {
      getMultipleHoldingRegisters: (addr: number, length: number, _unit: number, cb: (err: Error | null, value: number[]) => void) => {
        this.requestTimes.push(Date.now())
        if (this.faults.count > 0 && this.faults.exception !== undefined) {
          this.faults.count--
          return cb(Object.assign(new Error('fault'), { modbusErrorCode: this.faults.exception }), [])
        }
        const answer = () => cb(null, this.image.read(addr, length) ?? [])
        if (this.delayMs) setTimeout(answer, this.delayMs)
        else answer()
      },
    }
    this.server = await startModbusServer(vector, { host: '127.0.0.1', port: this.port, unitID: 1 })
  }

  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server) await stopModbusServer(server)
  }
}

const spec = demoHomes(1)[0]!
let device: FaultyDevice
let broker: RunningBroker

beforeAll(async () => {
  const virtual = new VirtualSunSpecDevice({ spec, port: 0 })
  virtual.update(new HomeModel(spec).step(12 * 3600, 60), { pvWh: 0, importWh: 0, exportWh: 0 })
  device = new FaultyDevice(virtual.image, await freePort())
  await device.start()
  broker = await startBroker({ users: [{ username: 'home-01', passwordHash: hashPassword('pw', 1024), role: 'agent', community: 'street' }], logger: createLogger('b', 'silent') })
})
afterAll(async () => {
  await device?.stop()
  await broker?.close()
})

const link = (options: ConstructorParameters<typeof ModbusLink>[1] = {}) => new ModbusLink({ transport: 'tcp', host: '127.0.0.1', port: device.port }, options)

describe('Modbus link against a misbehaving device', () => {
  it('asks a busy device again (exception 6) and gets its answer', async () => {
    const l = link({ busyDelayMs: 10 })
    await l.connect()
    device.faults = { exception: 0x06, count: 2 }
    const found = await discoverSunSpec((address, length) => l.readHolding(1, address, length))
    expect(found.models.map((m) => m.id)).toEqual([1, 103, 203])
    expect(l.retries).toBe(2)
    await l.close()
  })

  it('gives up on a gateway whose target never answers (0x0B) after its attempts, with the exception code', async () => {
    const l = link({ busyDelayMs: 10, busyAttempts: 3 })
    await l.connect()
    device.faults = { exception: 0x0b, count: 10 }
    await expect(l.readHolding(1, 40000, 2)).rejects.toMatchObject({ modbusCode: 0x0b })
    expect(l.retries).toBe(2)
    device.faults = { count: 0 }
    await l.close()
  })

  it('does not retry an exception that will not change (illegal address)', async () => {
    const l = link({ busyDelayMs: 10 })
    await l.connect()
    device.faults = { exception: 0x02, count: 1 }
    await expect(l.readHolding(1, 40000, 2)).rejects.toMatchObject({ modbusCode: 0x02 })
    expect(l.retries).toBe(0)
    await l.close()
  })

  it('times out a device that answers too late', async () => {
    const l = link({ timeoutMs: 100 })
    await l.connect()
    device.delayMs = 400
    await expect(l.readHolding(1, 40000, 2)).rejects.toThrow(/timed out/i)
    device.delayMs = 0
    await l.close()
  })

  it('leaves at least the inter-request delay between requests', async () => {
    const l = link({ interRequestDelayMs: 60 })
    await l.connect()
    const from = device.requestTimes.length
    for (let i = 0; i < 4; i++) await l.readHolding(1, 40000, 2)
    const times = device.requestTimes.slice(from)
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(55)
    await l.close()
  })
})

describe('agent and a device that goes away', () => {
  it('backs off while the device is gone and reads it again when it is back', async () => {
    const agent = testAgent({
      mqtt: { url: broker.url, password: 'pw' },
      modbus: { transport: 'tcp', host: '127.0.0.1', port: device.port },
      pollMs: 100,
      modbusLink: { timeoutMs: 300 },
    })
    await agent.start()
    await waitFor('readings', () => agent.counters.get('polls_ok') >= 2)
    await device.stop()
    await waitFor('failed polls', () => agent.counters.get('polls_failed') >= 3)
    // 100, 200, 400 … ms between attempts: over 1.5 s, at most five attempts, not fifteen.
    const failedBefore = agent.counters.get('polls_failed')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(agent.counters.get('polls_failed') - failedBefore).toBeLessThanOrEqual(5)
    const okBefore = agent.counters.get('polls_ok')
    await device.start()
    await waitFor('readings again', () => agent.counters.get('polls_ok') > okBefore, 90_000)
    await agent.stop()
  })
})
