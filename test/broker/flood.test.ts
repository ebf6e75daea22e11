import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import type { RunningBroker } from '../../broker/mqtt-broker.ts'
import { topics } from '../../protocol/topics.ts'
import { connectRaw, publishPacket, subscribeRaw } from '../../bench/broker/raw-mqtt.ts'
import { testBroker } from '../helpers/agent.ts'
import { waitFor } from '../helpers/wait-for.ts'

const community = 'street'
const agents = ['home-01', 'home-02', 'home-03']
let broker: RunningBroker

beforeAll(async () => {
  broker = await testBroker(community, Object.fromEntries([...agents, 'home-04'].map((a) => [a, `pw-${a}`])))
})
afterAll(async () => {
  await broker?.close()
})

const sample = { device: { manufacturer: null, model: null, serial: null, version: null }, inverter_ac_w: 1, pv_w: 1, grid_w: 1, battery_w: null, battery_soc_pct: null, load_w: 2, energy: { pv_total_wh: null, grid_import_wh: null, grid_export_wh: null }, models: [1], ts: new Date().toISOString() }
/** `count` valid telemetry messages of `agent` as one buffer of MQTT packets. */
const burstOf = (agent: string, count: number) => {
  const one = publishPacket(topics.agent(community, agent, 'telemetry'), Buffer.from(JSON.stringify({ seq: 1, samples: [sample] })), 0).bytes
  return Buffer.concat(Array.from({ length: count }, () => one))
}

describe('agents flooding the broker', () => {
  it('delivers a burst read in large chunks, many packets each', async () => {
    const market = await mqtt.connectAsync(broker.url, { username: 'market', password: 'pwm', clientId: 'market', reconnectPeriod: 0 })
    let received = 0
    market.on('message', () => received++)
    await market.subscribeAsync(topics.allAgents(community, 'telemetry'), { qos: 0 })
    const flooder = await connectRaw(broker.url, 'home-01', 'home-01', 'pw-home-01')
    flooder.socket.write(burstOf('home-01', 20_000))
    await waitFor('the whole burst delivered', () => received === 20_000, 60_000)
    await market.endAsync()
    flooder.socket.destroy()
  }, 90_000)

  it('survives its subscriber leaving with tens of thousands of messages queued, and keeps serving', async () => {
    // A subscriber that stops reading: deliveries wait for its socket, the broker's queue fills up.
    const subscriber = await connectRaw(broker.url, 'market:slow', 'market', 'pwm')
    await subscribeRaw(subscriber, topics.allAgents(community, 'telemetry'), 0)
    subscriber.socket.pause()
    const flooders = await Promise.all(agents.map((a) => connectRaw(broker.url, a, a, `pw-${a}`)))
    flooders.forEach((f, i) => f.socket.write(burstOf(agents[i]!, 20_000)))
    await new Promise((resolve) => setTimeout(resolve, 3000))
    // Gone with the queue full: what is left now matches no one, and is dropped.
    subscriber.socket.destroy()
    await new Promise((resolve) => setTimeout(resolve, 3000))
    const other = await mqtt.connectAsync(broker.url, { username: 'home-04', password: 'pw-home-04', clientId: 'home-04', reconnectPeriod: 0 })
    expect(other.connected).toBe(true)
    await other.endAsync()
    flooders.forEach((f) => f.socket.destroy())
  }, 90_000)
})
