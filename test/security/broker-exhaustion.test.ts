import { connect as connectTcp } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword, SCRYPT } from '../../broker/credentials.ts'
import { createLogger } from '../../platform/logger.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Review finding 10: the auth throttle did not limit parallel attempts from one address, an unknown
// user name skipped scrypt (so its quick refusal told which names exist), and connections, sessions
// and subscriptions were unbounded. Now parallel logins from one address wait their turn (CONNACK 3,
// "try again"), scrypt runs for every login, and connections per address and in all, sessions per
// user and subscriptions per client have caps; new hashes use scrypt N = 2^17.

const community = 'street'
let broker: RunningBroker | undefined
afterEach(async () => {
  await broker?.close()
  broker = undefined
})

async function start(limits: Parameters<typeof startBroker>[0]['limits'], cost = 1024) {
  broker = await startBroker({
    users: [
      { username: 'home-01', passwordHash: hashPassword('pw1', cost), role: 'agent', community },
      { username: 'market', passwordHash: hashPassword('pwm', cost), role: 'market', community },
    ],
    limits,
    logger: createLogger('broker', 'silent'),
  })
  return broker
}
/** The CONNACK return code a login gets (0: accepted; -1: closed with no CONNACK), its client closed afterwards. */
function login(b: RunningBroker, username: string, password: string, clientId = username): Promise<number> {
  return new Promise((resolve) => {
    const client = mqtt.connect(b.url, { username, password, clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 20_000 })
    const done = (code: number) => {
      client.end(true)
      resolve(code)
    }
    client.once('connect', () => done(0))
    client.once('error', (error) => done((error as { code?: number }).code ?? -1))
    client.once('close', () => done(-1))
  })
}

describe('attack: exhausting the broker', () => {
  it('twenty parallel password guesses from one address: at most four are checked at once, the rest told to come back', async () => {
    // A real cost, so the guesses overlap.
    const b = await start({ pendingAuthPerAddress: 4 }, 2 ** 14)
    const codes = await Promise.all(Array.from({ length: 20 }, (_, i) => login(b, 'home-01', `guess-${i}`)))
    expect(codes.filter((c) => c === 4).length).toBeLessThanOrEqual(4 + 4) // a slot frees as each answer goes out
    expect(codes.filter((c) => c === 3).length).toBeGreaterThan(0)
    expect(codes.every((c) => c === 3 || c === 4)).toBe(true)
    expect(b.counters.get('auth_busy')).toBe(codes.filter((c) => c === 3).length)
    expect(b.counters.get('password_checks')).toBe(codes.filter((c) => c === 4).length)
  })

  it('an unknown user name costs a password check like a known one, and is refused the same way', async () => {
    const b = await start({})
    expect(await login(b, 'nobody', 'pw1')).toBe(4)
    expect(await login(b, 'home-01', 'wrong')).toBe(4)
    expect(b.counters.get('password_checks')).toBe(2)
    expect(b.counters.get('auth_failed')).toBe(2)
  })

  it('caps connections per address: the sixth socket from one address is closed at once', async () => {
    const b = await start({ connectionsPerAddress: 5 })
    const port = Number(new URL(b.url).port)
    const sockets = await Promise.all(Array.from({ length: 5 }, () => new Promise<ReturnType<typeof connectTcp>>((resolve) => { const s = connectTcp(port, '127.0.0.1', () => resolve(s)) })))
    const sixth = connectTcp(port, '127.0.0.1')
    await new Promise((resolve) => sixth.once('close', resolve))
    expect(b.counters.get('connections_refused')).toBe(1)
    // Once one closes, there is room again: a real login goes through.
    sockets[0]!.destroy()
    await waitFor('the slot released', async () => (await login(b, 'home-01', 'pw1')) === 0, 5000)
    for (const s of sockets) s.destroy()
  })

  it('caps sessions per user: a third connected session of one user is refused, a take-over of one is not', async () => {
    const b = await start({ sessionsPerUser: 2 })
    const open = (clientId: string) => mqtt.connectAsync(b.url, { username: 'home-01', password: 'pw1', clientId, protocolVersion: 4, reconnectPeriod: 0 })
    const first = await open('home-01:a')
    const second = await open('home-01:b')
    expect(await login(b, 'home-01', 'pw1', 'home-01:c')).toBe(3)
    expect(b.counters.get('sessions_refused')).toBe(1)
    // The same client id again takes the old session over: allowed.
    const again = await open('home-01:b')
    // …and still counts as one of the two once the old connection is gone: a third distinct session is refused.
    await waitFor('the taken-over connection closed', () => !second.connected, 5000, 20)
    await waitFor('the broker to see it go', () => b.aedes.connectedClients === 2, 5000, 20)
    expect(await login(b, 'home-01', 'pw1', 'home-01:c')).toBe(3)
    await Promise.all([first.endAsync(true), second.endAsync(true), again.endAsync(true)])
  })

  it('caps subscriptions per client: the fourth distinct filter is refused with SUBACK 0x80', async () => {
    const b = await start({ subscriptionsPerClient: 3 })
    const market = await mqtt.connectAsync(b.url, { username: 'market', password: 'pwm', clientId: 'market', protocolVersion: 4, reconnectPeriod: 0 })
    await market.subscribeAsync(['a', 'b', 'c'].map((x) => `vpp/v1/${community}/market/${x}`), { qos: 1 })
    const refusal = await market.subscribeAsync(`vpp/v1/${community}/market/d`, { qos: 1 }).catch((error: unknown) => error)
    expect((refusal as { packet?: { granted?: number[] } }).packet?.granted).toEqual([128])
    // One already held may be subscribed again.
    expect((await market.subscribeAsync(`vpp/v1/${community}/market/a`, { qos: 1 })).map((g) => g.qos)).toEqual([1])
    expect(b.counters.get('subscriptions_refused')).toBe(1)
    await market.endAsync(true)
  })

  it('hashes new passwords with scrypt N = 2^17, and still verifies a hash of the old cost', async () => {
    expect(hashPassword('correct horse')).toMatch(new RegExp(`^scrypt\\$${SCRYPT.N}\\$8\\$1\\$`))
    expect(SCRYPT.N).toBe(2 ** 17)
    const b = await start({}, 16_384)
    expect(await login(b, 'home-01', 'pw1')).toBe(0)
  })
})

describe('attack: filling the broker with messages queued for an absent client', () => {
  it('gives any client but the market a clean session, so nothing is queued while it is away', async () => {
    const b = await start({})
    const agentOptions = { username: 'home-01', password: 'pw1', clientId: 'home-01', protocolVersion: 4 as const, reconnectPeriod: 0, clean: false }
    const away = await mqtt.connectAsync(b.url, agentOptions)
    await away.subscribeAsync(`vpp/v1/${community}/agents/home-01/awards`, { qos: 1 })
    await away.endAsync()
    const market = await mqtt.connectAsync(b.url, { username: 'market', password: 'pwm', clientId: 'market', protocolVersion: 4, reconnectPeriod: 0 })
    for (let i = 0; i < 5; i++) await market.publishAsync(`vpp/v1/${community}/agents/home-01/awards`, JSON.stringify({ i }), { qos: 1 })
    const received: string[] = []
    const back = mqtt.connect(b.url, agentOptions)
    back.on('message', (_topic, payload) => received.push(payload.toString()))
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) => back.once('connect', (packet) => resolve(packet)))
    // A queue would be delivered right after CONNACK, before anything published after a new subscribe.
    await back.subscribeAsync(`vpp/v1/${community}/agents/home-01/awards`, { qos: 1 })
    await market.publishAsync(`vpp/v1/${community}/agents/home-01/awards`, 'marker', { qos: 1 })
    await waitFor('the marker', () => received.includes('marker'), 5000, 20)
    expect(connack.sessionPresent).toBe(false)
    expect(received).toEqual(['marker'])
    expect(b.counters.get('sessions_made_clean')).toBe(2)
    await Promise.all([back.endAsync(true), market.endAsync(true)])
  })
})
