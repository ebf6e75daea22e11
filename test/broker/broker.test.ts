import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword, verifyPassword } from '../../broker/credentials.ts'
import { canPublish, canSubscribe } from '../../broker/acl.ts'
import { createLogger } from '../../platform/logger.ts'
import { topics } from '../../protocol/topics.ts'

const community = 'street'
let broker: RunningBroker

beforeAll(async () => {
  broker = await startBroker({
    users: [
      { username: 'home-01', passwordHash: hashPassword('pw1'), role: 'agent', community },
      { username: 'home-02', passwordHash: hashPassword('pw2'), role: 'agent', community },
      { username: 'market', passwordHash: hashPassword('pwm'), role: 'market', community },
    ],
    logger: createLogger('test', 'silent'),
  })
})
afterAll(async () => {
  await broker?.close()
})

const connect = (username: string, password: string) =>
  mqtt.connectAsync(broker.url, { clientId: username, username, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 })

describe('credentials', () => {
  it('stores scrypt hashes, never the password, and verifies them', () => {
    const hash = hashPassword('correct horse')
    expect(hash).not.toContain('correct horse')
    expect(verifyPassword('correct horse', hash)).toBe(true)
    expect(verifyPassword('wrong', hash)).toBe(false)
  })
})

describe('ACL rules (DESIGN.md)', () => {
  const agent = { id: 'home-01', role: 'agent' as const, community }
  it('lets an agent publish only under its own agents/{id}/, never awards', () => {
    expect(canPublish(agent, topics.agent(community, 'home-01', 'orders'))).toBe(true)
    expect(canPublish(agent, topics.agent(community, 'home-01', 'awards'))).toBe(false)
    expect(canPublish(agent, topics.agent(community, 'home-02', 'orders'))).toBe(false)
    expect(canPublish(agent, topics.marketState(community))).toBe(false)
    expect(canPublish(agent, topics.agent('other', 'home-01', 'orders'))).toBe(false)
  })
  it('lets an agent subscribe only to its own awards and market/#', () => {
    expect(canSubscribe(agent, topics.agent(community, 'home-01', 'awards'))).toBe(true)
    expect(canSubscribe(agent, topics.marketState(community))).toBe(true)
    expect(canSubscribe(agent, `vpp/v1/${community}/market/#`)).toBe(true)
    expect(canSubscribe(agent, topics.agent(community, 'home-02', 'awards'))).toBe(false)
    expect(canSubscribe(agent, `vpp/v1/${community}/#`)).toBe(false)
    expect(canSubscribe(agent, '#')).toBe(false)
  })
})

describe('aedes broker over TCP', () => {
  it('refuses a wrong password with CONNACK 4 and counts it', async () => {
    const before = broker.counters.get('auth_failed')
    await expect(connect('home-01', 'nope')).rejects.toThrow(/Bad username or password/i)
    expect(broker.counters.get('auth_failed')).toBe(before + 1)
  })

  it("delivers an agent's orders to the market", async () => {
    const market = await connect('market', 'pwm')
    const agent = await connect('home-01', 'pw1')
    const received = new Promise<string>((resolve) => market.on('message', (_t, p) => resolve(p.toString())))
    await market.subscribeAsync(topics.allAgents(community, 'orders'), { qos: 1 })
    await agent.publishAsync(topics.agent(community, 'home-01', 'orders'), '{"hello":1}', { qos: 1 })
    expect(await received).toBe('{"hello":1}')
    await agent.endAsync()
    await market.endAsync()
  })

  it("refuses a subscription to another home's awards (SUBACK 0x80) and counts it", async () => {
    const agent = await connect('home-01', 'pw1')
    const refusal = await agent.subscribeAsync(topics.agent(community, 'home-02', 'awards'), { qos: 1 }).catch((error: { packet?: { granted?: number[] } }) => error)
    expect((refusal as { packet?: { granted?: number[] } }).packet?.granted).toEqual([128])
    expect(broker.counters.get('subscribe_denied.home-01')).toBeGreaterThan(0)
    await agent.endAsync()
  })

  it('drops an agent that publishes awards for itself, counts it, and keeps serving others', async () => {
    const intruder = await connect('home-02', 'pw2')
    const closed = new Promise<void>((resolve) => intruder.on('close', () => resolve()))
    intruder.publish(topics.agent(community, 'home-02', 'awards'), '{"fake":true}', { qos: 1 })
    await closed
    expect(broker.counters.get('publish_denied.home-02')).toBe(1)
    intruder.end(true)
    const other = await connect('home-01', 'pw1')
    expect(other.connected).toBe(true)
    await other.endAsync()
  })
})
