import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt, { type MqttClient } from 'mqtt'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword, verifyPassword } from '../../broker/credentials.ts'
import { canPublish, canSubscribe } from '../../broker/acl.ts'
import { AuthThrottle } from '../../broker/auth-throttle.ts'
import { createLogger } from '../../platform/logger.ts'
import { topics } from '../../protocol/topics.ts'
import { selfSignedCert } from '../helpers/tls-cert.ts'
import { waitFor } from '../helpers/wait-for.ts'
import { missing } from '../helpers/requires.ts'

const run = promisify(execFile)
const community = 'street'
const tls = selfSignedCert()
const throttle = new AuthThrottle({ freeFailures: 2, windowMs: 60_000, baseDelayMs: 50, maxDelayMs: 200 })
let broker: RunningBroker

beforeAll(async () => {
  broker = await startBroker({
    users: [
      { username: 'home-01', passwordHash: hashPassword('pw1', 1024), role: 'agent', community },
      { username: 'home-02', passwordHash: hashPassword('pw2', 1024), role: 'agent', community },
      { username: 'market', passwordHash: hashPassword('pwm', 1024), role: 'market', community },
      { username: 'wall', passwordHash: hashPassword('pwd', 1024), role: 'dashboard', community },
    ],
    tls: { port: 0, cert: tls.cert, key: tls.key },
    websocket: { port: 0 },
    maxPacketBytes: 4096,
    drainTimeoutMs: 1000,
    authThrottle: throttle,
    logger: createLogger('test', 'silent'),
  })
})
afterAll(async () => {
  await broker?.close()
})

const connect = (username: string, password: string, options: { url?: string; suffix?: string } = {}) =>
  mqtt.connectAsync(options.url ?? broker.urls.mqtt!, {
    clientId: options.suffix ? `${username}:${options.suffix}` : username,
    username,
    password,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ca: tls.cert,
  })

/** Collects messages on `filter` for a client. */
async function collect(client: MqttClient, filter: string): Promise<string[]> {
  const seen: string[] = []
  client.on('message', (topic, payload) => {
    if (topicMatches(filter, topic)) seen.push(payload.toString())
  })
  await client.subscribeAsync(filter, { qos: 1 })
  return seen
}
function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  return f.every((level, i) => level === '#' || level === '+' || level === t[i]) && (f.includes('#') || f.length === t.length)
}

describe('credentials', () => {
  it('stores scrypt hashes, never the password, and verifies them', async () => {
    const hash = hashPassword('correct horse')
    expect(hash).not.toContain('correct horse')
    expect(await verifyPassword('correct horse', hash)).toBe(true)
    expect(await verifyPassword('wrong', hash)).toBe(false)
  })
})

describe('ACL rules (docs/architecture.md)', () => {
  const agent = { id: 'home-01', role: 'agent' as const, community }
  const wall = { id: 'wall', role: 'dashboard' as const, community }
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
  it('lets a dashboard read state, telemetry and market topics, and publish nothing', () => {
    expect(canSubscribe(wall, topics.allAgents(community, 'telemetry'))).toBe(true)
    expect(canSubscribe(wall, topics.allAgents(community, 'state'))).toBe(true)
    expect(canSubscribe(wall, `vpp/v1/${community}/market/#`)).toBe(true)
    expect(canSubscribe(wall, topics.allAgents(community, 'orders'))).toBe(false)
    expect(canSubscribe(wall, topics.allAgents(community, 'awards'))).toBe(false)
    expect(canPublish(wall, topics.marketState(community))).toBe(false)
  })
})

describe('AuthThrottle', () => {
  it('answers the first failures at once, then doubles the delay up to the cap, and forgets on success', () => {
    let now = 0
    const t = new AuthThrottle({ freeFailures: 2, windowMs: 1000, baseDelayMs: 100, maxDelayMs: 350 }, () => now)
    t.failed('a')
    t.failed('a')
    expect(t.delayMs('a')).toBe(100)
    t.failed('a')
    expect(t.delayMs('a')).toBe(200)
    t.failed('a')
    expect(t.delayMs('a')).toBe(350)
    expect(t.delayMs('b')).toBe(0)
    now = 2000
    expect(t.delayMs('a')).toBe(0)
    t.failed('a')
    t.failed('a')
    t.succeeded('a')
    expect(t.delayMs('a')).toBe(0)
  })
})

describe('aedes broker over TCP, TLS and WebSocket', () => {
  it('refuses a wrong password with CONNACK 4, counts it, and slows down repeated guesses from one address', async () => {
    const before = broker.counters.get('auth_failed')
    for (let i = 0; i < 3; i++) await expect(connect('home-01', 'nope')).rejects.toThrow(/Bad username or password/i)
    expect(broker.counters.get('auth_failed')).toBe(before + 3)
    expect(throttle.delayMs('127.0.0.1')).toBeGreaterThan(0)
    const ok = await connect('home-01', 'pw1', { suffix: 'reset' })
    expect(throttle.delayMs('127.0.0.1')).toBe(0)
    await ok.endAsync()
  })

  it("refuses a client id of another home's", async () => {
    await expect(mqtt.connectAsync(broker.urls.mqtt!, { clientId: 'home-02', username: 'home-01', password: 'pw1', reconnectPeriod: 0 })).rejects.toThrow(/Bad username or password/i)
  })

  it("delivers an agent's orders to the market", async () => {
    const market = await connect('market', 'pwm')
    const agent = await connect('home-01', 'pw1')
    const seen = await collect(market, topics.allAgents(community, 'orders'))
    const order = JSON.stringify({ order: { owner: `0x${'1'.repeat(40)}`, community: `0x${'2'.repeat(64)}`, interval: 1, side: 0, energyWh: 1, limitPrice: 1, nonce: 1 }, signature: `0x${'3'.repeat(130)}` })
    await agent.publishAsync(topics.agent(community, 'home-01', 'orders'), order, { qos: 1 })
    await waitFor('the order at the market', () => seen.length === 1)
    expect(seen).toEqual([order])
    await agent.endAsync()
    await market.endAsync()
  })

  it("refuses a subscription to another home's awards (SUBACK 0x80) and counts it", async () => {
    const agent = await connect('home-01', 'pw1')
    const refusal = await agent.subscribeAsync(topics.agent(community, 'home-02', 'awards'), { qos: 1 }).catch((error: { packet?: { granted?: number[] } }) => error)
    expect((refusal as { packet?: { granted?: number[] } }).packet?.granted).toEqual([128])
    expect(broker.counters.get('subscribe_denied.home-01')).toBe(1)
    expect(agent.connected).toBe(true)
    await agent.endAsync()
  })

  it('drops and counts a denied publish without disconnecting, delivering or retaining it', async () => {
    const market = await connect('market', 'pwm')
    const seen = await collect(market, `vpp/v1/${community}/agents/#`)
    const intruder = await connect('home-02', 'pw2')
    await intruder.publishAsync(topics.agent(community, 'home-02', 'awards'), '{"fake":true}', { qos: 1 })
    await intruder.publishAsync(topics.agent(community, 'home-01', 'state'), '{"online":false}', { qos: 1, retain: true })
    // Something allowed afterwards still flows, so the drops are not just delivery lag.
    await intruder.publishAsync(topics.agent(community, 'home-02', 'state'), '{"online":true}', { qos: 1 })
    await waitFor('the allowed message', () => seen.includes('{"online":true}'))
    expect(seen).toEqual(['{"online":true}'])
    expect(intruder.connected).toBe(true)
    expect(broker.counters.get('publish_denied.home-02')).toBe(2)
    const late = await connect('market', 'pwm', { suffix: 'late' })
    const retained = await collect(late, topics.agent(community, 'home-01', 'state'))
    await new Promise((r) => setTimeout(r, 300))
    expect(retained).toEqual([])
    await Promise.all([intruder.endAsync(), market.endAsync(), late.endAsync()])
  })

  it('drops and counts malformed telemetry and orders at the edge, passing valid ones', async () => {
    const market = await connect('market', 'pwm')
    const seen = await collect(market, `vpp/v1/${community}/agents/+/telemetry`)
    const agent = await connect('home-01', 'pw1')
    const telemetryTopic = topics.agent(community, 'home-01', 'telemetry')
    await agent.publishAsync(telemetryTopic, 'not json', { qos: 1 })
    await agent.publishAsync(telemetryTopic, JSON.stringify({ seq: 1, samples: [] }), { qos: 1 })
    await agent.publishAsync(topics.agent(community, 'home-01', 'orders'), JSON.stringify({ order: { side: 7 } }), { qos: 1 })
    const valid = JSON.stringify({ seq: 2, samples: [{ device: { manufacturer: null, model: null, serial: null, version: null }, inverter_ac_w: 1, pv_w: 1, grid_w: 1, battery_w: null, battery_soc_pct: null, load_w: 2, energy: { pv_total_wh: null, grid_import_wh: null, grid_export_wh: null }, models: [1], ts: new Date().toISOString() }] })
    await agent.publishAsync(telemetryTopic, valid, { qos: 1 })
    await waitFor('the valid telemetry', () => seen.length === 1)
    expect(seen).toEqual([valid])
    expect(broker.counters.get('payload_invalid.home-01')).toBe(3)
    expect(agent.connected).toBe(true)
    await Promise.all([agent.endAsync(), market.endAsync()])
  })

  for (const listener of ['mqtt', 'mqtts', 'ws'] as const) {
    it(`closes a connection that sends a packet over the size limit, and keeps serving others (${listener})`, async () => {
      const before = broker.counters.get('packets_oversized')
      const agent = await connect('home-01', 'pw1', { url: broker.urls[listener] })
      const closed = new Promise<void>((resolve) => agent.on('close', () => resolve()))
      agent.publish(topics.agent(community, 'home-01', 'meter'), 'x'.repeat(8192), { qos: 0 })
      await closed
      expect(broker.counters.get('packets_oversized')).toBe(before + 1)
      agent.end(true)
      const other = await connect('home-02', 'pw2', { url: broker.urls[listener] })
      expect(other.connected).toBe(true)
      await other.endAsync()
    })
  }

  it('serves MQTT over TLS and over WebSocket', async () => {
    expect(broker.urls.mqtts).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/)
    expect(broker.urls.ws).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/)
    const market = await connect('market', 'pwm', { url: broker.urls.mqtts })
    const seen = await collect(market, topics.allAgents(community, 'state'))
    const agent = await connect('home-01', 'pw1', { url: broker.urls.ws })
    await agent.publishAsync(topics.agent(community, 'home-01', 'state'), '{"online":true,"session":9}', { qos: 1 })
    await waitFor('the state over TLS', () => seen.includes('{"online":true,"session":9}'))
    await Promise.all([agent.endAsync(), market.endAsync()])
  })

  it('keeps delivering to others while one subscriber stops reading', async () => {
    const stalled = await connect('market', 'pwm', { suffix: 'stalled' })
    await stalled.subscribeAsync(topics.allAgents(community, 'telemetry'), { qos: 1 })
    ;(stalled.stream as unknown as { pause(): void }).pause()
    const healthy = await connect('market', 'pwm', { suffix: 'healthy' })
    const seen = await collect(healthy, topics.allAgents(community, 'telemetry'))
    const agent = await connect('home-01', 'pw1')
    // Valid telemetry (the broker checks it), about 4 KB a message.
    const sample = { device: { manufacturer: null, model: null, serial: null, version: null }, inverter_ac_w: 1, pv_w: 1, grid_w: 1, battery_w: null, battery_soc_pct: null, load_w: 2, energy: { pv_total_wh: null, grid_import_wh: null, grid_export_wh: null }, models: [1], ts: new Date().toISOString() }
    const samples = Array.from({ length: 14 }, () => sample)
    const count = 3000 // about 12 MB: far past what the stalled socket's kernel buffers hold
    for (let i = 0; i < count; i++) agent.publish(topics.agent(community, 'home-01', 'telemetry'), JSON.stringify({ seq: i + 1, samples }), { qos: 1 })
    await waitFor('every message at the healthy subscriber', () => seen.length === count, 30_000)
    expect(seen).toHaveLength(count)
    stalled.end(true)
    await Promise.all([agent.endAsync(), healthy.endAsync()])
  })
})

describe.skipIf(missing('mosquitto clients', '/usr/bin/mosquitto_pub', 'apt-get install -y mosquitto-clients'))('third-party clients (mosquitto_pub / mosquitto_sub)', () => {
  const common = () => ['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv311']

  it('publishes an allowed message that our client receives', async () => {
    const market = await connect('market', 'pwm')
    const seen = await collect(market, topics.allAgents(community, 'state'))
    await run('mosquitto_pub', [...common(), '-i', 'home-01:mosq', '-u', 'home-01', '-P', 'pw1', '-q', '1', '-t', topics.agent(community, 'home-01', 'state'), '-m', '{"online":true,"session":42}'])
    await waitFor('the mosquitto_pub message', () => seen.includes('{"online":true,"session":42}'))
    await market.endAsync()
  })

  it('receives what the market publishes on market/#', async () => {
    const sub = run('mosquitto_sub', [...common(), '-i', 'home-02:mosq', '-u', 'home-02', '-P', 'pw2', '-q', '1', '-t', `vpp/v1/${community}/market/#`, '-C', '1', '-W', '10'])
    await new Promise((r) => setTimeout(r, 500))
    const market = await connect('market', 'pwm')
    await market.publishAsync(topics.marketState(community), '{"hello":"neighbours"}', { qos: 1 })
    expect((await sub).stdout.trim()).toBe('{"hello":"neighbours"}')
    await market.endAsync()
  })

  it('is refused a bad password and a forbidden subscription', async () => {
    const badPassword = await run('mosquitto_pub', [...common(), '-i', 'home-01', '-u', 'home-01', '-P', 'wrong', '-t', topics.agent(community, 'home-01', 'state'), '-m', 'x']).catch((e: { code: number; stderr: string }) => e)
    expect((badPassword as { code: number }).code).not.toBe(0)
    expect((badPassword as { stderr: string }).stderr).toMatch(/bad user name or password/)
    const forbidden = await run('mosquitto_sub', [...common(), '-i', 'home-01:mosq', '-u', 'home-01', '-P', 'pw1', '-t', topics.agent(community, 'home-02', 'awards'), '-C', '1', '-W', '2']).catch((e: { stderr: string }) => e)
    expect((forbidden as { stderr: string }).stderr).toMatch(/All subscription requests were denied/)
  })

  it('drops and counts a denied publish from mosquitto_pub', async () => {
    const before = broker.counters.get('publish_denied.home-02')
    await run('mosquitto_pub', [...common(), '-i', 'home-02:mosq', '-u', 'home-02', '-P', 'pw2', '-q', '1', '-t', topics.marketState(community), '-m', '{"fake":1}'])
    expect(broker.counters.get('publish_denied.home-02')).toBe(before + 1)
  })
})
