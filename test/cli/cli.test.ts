import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { privateKeyToAccount } from 'viem/accounts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'
import { HomeModel, demoHomes } from '../../simulator/home-model.ts'
import { freePort } from '../../platform/free-port.ts'
import { snapshotSchema } from '../../protocol/snapshot.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { runVpp, spawnVpp } from '../helpers/run-vpp.ts'

/** Command lines of every running process: to prove nothing is left behind. */
function processCommandLines(): string[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
      } catch {
        return ''
      }
    })
}

describe('vpp up', () => {
  it('brings the neighbourhood up, prints the dashboard URL, and Ctrl-C stops every child', async () => {
    const up = spawnVpp(['up', '--homes', '2', '--port', '0', '--interval', '5s'])

    const url = await waitFor('the dashboard URL', () => /Dashboard:\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(up.output.text)?.[1], 90_000)
    const chainPort = /Chain:\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(up.output.text)![1]!
    const health = (await (await fetch(`${url}/api/health`)).json()) as { status: string; agents: number }
    expect(health).toMatchObject({ status: 'ok', agents: 2 })
    expect(processCommandLines().some((c) => c.includes('anvil') && c.includes(`--port ${chainPort}`))).toBe(true)

    // What a terminal does on Ctrl-C: SIGINT to the whole foreground process group.
    up.interrupt()
    expect(await up.exited).toBe(0)
    expect(up.output.text).toContain('Stopped.')
    expect(processCommandLines().filter((c) => c.includes(`--port ${chainPort}`))).toEqual([])
  })

  it('explains a bad option and exits 1', async () => {
    const result = await runVpp(['up', '--homes', '0'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/--homes "0": a market needs at least 2 homes/)
  })
})

describe('vpp keys new', () => {
  it('writes a 0600 key file, prints its address, and never overwrites it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vpp-keys-')), 'agent.key')
    const first = await runVpp(['keys', 'new', '--out', file])
    expect(first.code).toBe(0)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const key = readFileSync(file, 'utf8').trim() as `0x${string}`
    expect(JSON.parse(first.stdout)).toEqual({ address: privateKeyToAccount(key).address, keyFile: file })
    const second = await runVpp(['keys', 'new', '--out', file])
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/already exists/)
    expect(readFileSync(file, 'utf8').trim()).toBe(key)
  })
})

describe('vpp agent read / scan against a virtual device', () => {
  let device: VirtualSunSpecDevice
  beforeAll(async () => {
    const spec = demoHomes(1)[0]!
    const model = new HomeModel(spec)
    device = new VirtualSunSpecDevice({ spec, port: await freePort(), unitId: 3 })
    device.update(model.step(12 * 3600, 60), model.counters)
    await device.start()
  })
  afterAll(async () => {
    await device?.stop()
  })

  it('read --json prints one normalized snapshot', async () => {
    const result = await runVpp(['agent', 'read', '--modbus', `tcp://127.0.0.1:${device.port}`, '--unit', '3', '--json'])
    expect(result.code).toBe(0)
    const snapshot = snapshotSchema.parse(JSON.parse(result.stdout))
    expect(snapshot.models).toEqual([1, 103, 203])
    expect(snapshot.device.serial).toBe('home-01')
  })

  it('scan finds the unit and names its models', async () => {
    const result = await runVpp(['agent', 'scan', '--modbus', `tcp://127.0.0.1:${device.port}`, '--units', '1-3', '--timeout', '500'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/unit 3: SunSpec at 40000: 1 \(Common\), 103 \(.+\), 203 \(.+\)/)
    expect(result.stdout).not.toMatch(/unit 1:/)
  })

  it('read explains a URL it cannot use', async () => {
    const result = await runVpp(['agent', 'read', '--modbus', 'http://nope', '--unit', '1'])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/VPP_ERR_MODBUS_URL/)
  })
})
