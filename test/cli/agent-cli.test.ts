import { spawn } from 'node:child_process'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify as stringifyYaml } from 'yaml'
import { generatePrivateKey } from 'viem/accounts'
import type { RunningBroker } from '../../broker/mqtt-broker.ts'
import { freePort } from '../../platform/free-port.ts'
import { topics } from '../../protocol/topics.ts'
import { HomeModel, demoHomes } from '../../simulator/home-model.ts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'
import { runVpp, spawnVpp } from '../helpers/run-vpp.ts'
import { buildAgent } from '../../scripts/build-agent.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { testBroker, marketClient } from '../helpers/agent.ts'

const community = 'street'
let broker: RunningBroker
let device: VirtualSunSpecDevice
const dir = mkdtempSync(join(tmpdir(), 'vpp-agent-cli-'))

function writeConfig(name: string, patch: Record<string, unknown> = {}, keyMode = 0o600): string {
  const keyFile = join(dir, `${name}.key`)
  writeFileSync(keyFile, `${generatePrivateKey()}\n`)
  chmodSync(keyFile, keyMode)
  writeFileSync(join(dir, 'mqtt.secret'), 'pw-home-01\n')
  const config = {
    agentId: 'home-01',
    community,
    mqtt: { url: broker.url, passwordFile: join(dir, 'mqtt.secret') },
    keyFile,
    device: { modbus: `tcp://127.0.0.1:${device.port}`, unit: 1 },
    pollSeconds: 0.5,
    telemetrySeconds: 1,
    dataDir: join(dir, `${name}-data`),
    strategy: { feedInPrice: 80_000, retailPrice: 300_000 },
    ...patch,
  }
  const file = join(dir, `${name}.yaml`)
  writeFileSync(file, stringifyYaml(config))
  return file
}

beforeAll(async () => {
  const spec = demoHomes(1)[0]!
  device = new VirtualSunSpecDevice({ spec, port: await freePort() })
  device.update(new HomeModel(spec).step(12 * 3600, 60), { pvWh: 0, importWh: 0, exportWh: 0 })
  await device.start()
  broker = await testBroker(community, { 'home-01': 'pw-home-01' })
})
afterAll(async () => {
  await broker?.close()
  await device?.stop()
})

describe('vpp agent --config', () => {
  it("runs the home's agent from agent.yaml and stops cleanly on SIGTERM, offline retained", async () => {
    const market = await marketClient(broker)
    const states: string[] = []
    let telemetry = 0
    market.on('message', (topic, payload) => (topic.endsWith('/telemetry') ? telemetry++ : states.push(payload.toString())))
    await market.subscribeAsync([topics.agent(community, 'home-01', 'telemetry'), topics.agent(community, 'home-01', 'state')], { qos: 1 })

    const agent = spawnVpp(['agent', '--config', writeConfig('good')], { VPP_LOG_LEVEL: 'silent' })
    await waitFor('telemetry from the agent', () => telemetry >= 2)
    expect(agent.output.text).toMatch(/agent home-01 \(0x[0-9a-fA-F]{40}\) of street: device tcp:\/\/127\.0\.0\.1:\d+ unit 1/)
    process.kill(-agent.child.pid!, 'SIGTERM')
    expect(await agent.exited).toBe(0)
    await waitFor('the agent offline', () => states.some((s) => JSON.parse(s).online === false))
    await market.endAsync()
  })

  it('runs the same from the bundle a Pi runs (dist/vpp-agent.mjs under plain node), vendor maps included', async () => {
    const bundle = await buildAgent()
    const market = await marketClient(broker)
    let telemetry = 0
    market.on('message', () => telemetry++)
    await market.subscribeAsync(topics.agent(community, 'home-01', 'telemetry'), { qos: 1 })
    const child = spawn('node', [bundle, '--config', writeConfig('bundled')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, VPP_LOG_LEVEL: 'silent' } })
    let output = ''
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    await waitFor('telemetry from the bundled agent', () => telemetry >= 2)
    expect(output).toMatch(/agent home-01 .* of street: device tcp:/)
    child.kill('SIGTERM')
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0)
    // The bundle finds the vendor profiles beside it.
    const unknown = spawn('node', [bundle, '--config', writeConfig('bundled-profile', { device: { modbus: `tcp://127.0.0.1:${device.port}`, profile: 'nope' } })], { stdio: ['ignore', 'pipe', 'pipe'] })
    let refusal = ''
    unknown.stderr.on('data', (d: Buffer) => (refusal += d.toString()))
    expect(await new Promise((resolve) => unknown.once('exit', resolve))).toBe(1)
    expect(refusal).toMatch(/no vendor profile "nope"; profiles: fronius-gen24/)
    await market.endAsync()
  })

  it('names the key and the fix for a config it cannot use', async () => {
    const badUrl = await runVpp(['agent', '--config', writeConfig('bad-url', { device: { modbus: 'ftp://inverter' }, pollSecs: 1 })])
    expect(badUrl.code).toBe(1)
    expect(badUrl.stderr).toMatch(/device\.modbus: unsupported scheme "ftp:" .*use tcp:\/\/, rtu:\/\/ or rtu\+tcp:\/\//)
    expect(badUrl.stderr).toMatch(/pollSecs: unknown key/)
    const openKey = await runVpp(['agent', '--config', writeConfig('open-key', {}, 0o644)])
    expect(openKey.code).toBe(1)
    expect(openKey.stderr).toMatch(/keyFile: .* can be read by other users; run chmod 600/)
  })
})
