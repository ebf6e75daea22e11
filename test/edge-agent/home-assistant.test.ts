import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Aedes } from 'aedes'
import mqtt from 'mqtt'
import { hashPassword } from '../../broker/credentials.ts'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { HOME_ASSISTANT_SENSORS } from '../../edge-agent/home-assistant.ts'
import { listen } from '../../platform/listen.ts'
import { createLogger } from '../../platform/logger.ts'
import { HomeModel, demoHomes } from '../../simulator/home-model.ts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'
import { freePort } from '../../platform/free-port.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { testAgent } from '../helpers/agent.ts'

// The homeowner's own broker, as Home Assistant's Mosquitto add-on would be: no ACLs of ours.
let homeBroker: Aedes
let homeServer: Server
let homeUrl: string
const homeSockets = new Set<Socket>()
let community: RunningBroker
let device: VirtualSunSpecDevice
const spec = demoHomes(2)[1]!

beforeAll(async () => {
  homeBroker = await Aedes.createBroker()
  homeServer = createServer(homeBroker.handle)
  homeServer.on('connection', (socket) => {
    homeSockets.add(socket)
    socket.on('close', () => homeSockets.delete(socket))
  })
  homeUrl = `mqtt://127.0.0.1:${await listen(homeServer, { port: 0, host: '127.0.0.1' })}`
  community = await startBroker({ users: [{ username: 'home-01', passwordHash: hashPassword('pw', 1024), role: 'agent', community: 'street' }], logger: createLogger('b', 'silent') })
  device = new VirtualSunSpecDevice({ spec, port: await freePort() })
  device.update(new HomeModel(spec).step(12 * 3600, 60), { pvWh: 0, importWh: 0, exportWh: 0 })
  await device.start()
})
afterAll(async () => {
  await device?.stop()
  await community?.close()
  for (const socket of homeSockets) socket.destroy()
  await new Promise((resolve) => homeServer.close(resolve))
  await new Promise<void>((resolve) => homeBroker.close(() => resolve()))
})

describe('Home Assistant integration', () => {
  it("announces the home's sensors by MQTT discovery and keeps their state current, offline when stopped", async () => {
    const agent = testAgent({
      mqtt: { url: community.url, password: 'pw' },
      modbus: { transport: 'tcp', host: '127.0.0.1', port: device.port },
      pollMs: 200,
      telemetryMs: 400,
      homeAssistant: { url: homeUrl, discoveryPrefix: 'homeassistant' },
    })
    await agent.start()

    const seen = new Map<string, string>()
    const ha = await mqtt.connectAsync(homeUrl, { clientId: 'home-assistant' })
    ha.on('message', (topic, payload) => seen.set(topic, payload.toString()))
    await ha.subscribeAsync(['homeassistant/#', 'openvpp/#'])
    await waitFor('discovery, availability and state', () => seen.size >= HOME_ASSISTANT_SENSORS.length + 2)

    const config = JSON.parse(seen.get('homeassistant/sensor/openvpp_home-01/battery_soc_pct/config')!)
    expect(config).toMatchObject({ unique_id: 'openvpp_home-01_battery_soc_pct', state_topic: 'openvpp/home-01/state', device_class: 'battery', unit_of_measurement: '%', availability_topic: 'openvpp/home-01/availability' })
    expect(config.device).toMatchObject({ identifiers: ['openvpp_home-01'], name: 'OpenVPP home-01' })
    for (const s of HOME_ASSISTANT_SENSORS) expect(seen.has(`homeassistant/sensor/openvpp_home-01/${s.key}/config`), s.key).toBe(true)
    expect(seen.get('openvpp/home-01/availability')).toBe('online')
    const state = JSON.parse(seen.get('openvpp/home-01/state')!)
    // home-02 has a battery and no panels: its state says so.
    expect(state).toMatchObject({ pv_w: 0, grid_w: expect.any(Number), load_w: expect.any(Number) })
    expect(state.battery_soc_pct).toBeGreaterThan(0)
    expect(state.trading).toEqual({ net_wh: 0, price: null })

    await agent.stop()
    await waitFor('offline', () => seen.get('openvpp/home-01/availability') === 'offline')
    await ha.endAsync()
  })
})
