import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword } from '../../broker/credentials.ts'
import { createLogger } from '../../platform/logger.ts'
import { topics } from '../../protocol/topics.ts'
import { startFreezableProxy } from '../helpers/freezable-proxy.ts'
import { waitFor } from '../helpers/wait-for.ts'

const community = 'street'
let broker: RunningBroker

beforeAll(async () => {
  broker = await startBroker({
    users: [
      { username: 'home-01', passwordHash: hashPassword('pw1', 1024), role: 'agent', community },
      { username: 'market', passwordHash: hashPassword('pwm', 1024), role: 'market', community },
    ],
    logger: createLogger('test', 'silent'),
  })
})
afterAll(async () => {
  await broker?.close()
})

describe('presence', () => {
  it('marks a home offline (retained Will) when its connection goes silent, within one keep-alive period', async () => {
    const proxy = await startFreezableProxy(broker.port)
    const stateTopic = topics.agent(community, 'home-01', 'state')
    const keepaliveSeconds = 2
    const agent = await mqtt.connectAsync(`mqtt://127.0.0.1:${proxy.port}`, {
      clientId: 'home-01',
      username: 'home-01',
      password: 'pw1',
      keepalive: keepaliveSeconds,
      reconnectPeriod: 0,
      will: { topic: stateTopic, payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    })
    await agent.publishAsync(stateTopic, JSON.stringify({ online: true, session: 1 }), { qos: 1, retain: true })

    const market = await mqtt.connectAsync(broker.urls.mqtt!, { clientId: 'market', username: 'market', password: 'pwm', reconnectPeriod: 0 })
    const states: { online: boolean }[] = []
    market.on('message', (_t, p) => states.push(JSON.parse(p.toString())))
    await market.subscribeAsync(topics.allAgents(community, 'state'), { qos: 1 })
    await waitFor('the retained online state', () => states.some((s) => s.online))

    // The Pi loses power: no DISCONNECT, no FIN, just silence.
    // With no FIN the broker can only notice through keep-alive: it disconnects after 1.5 × keep-alive
    // without a packet [MQTT-3.1.2-24] and publishes the Will.
    proxy.freeze()
    await waitFor('the Will', () => states.at(-1)?.online === false, 20_000, 50)

    // A late subscriber (a dashboard opened now) sees the retained offline state.
    const late = await mqtt.connectAsync(broker.urls.mqtt!, { clientId: 'market:late', username: 'market', password: 'pwm', reconnectPeriod: 0 })
    const retained = new Promise<string>((resolve) => late.on('message', (_t, p) => resolve(p.toString())))
    await late.subscribeAsync(stateTopic, { qos: 1 })
    expect(JSON.parse(await retained)).toEqual({ online: false })

    agent.end(true)
    await Promise.all([market.endAsync(), late.endAsync(), proxy.close()])
  })
})
