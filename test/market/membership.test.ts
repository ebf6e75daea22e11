import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt, { type MqttClient } from 'mqtt'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { hashPassword } from '../../broker/credentials.ts'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { startApiServer, type RunningApiServer } from '../../market/api/api-server.ts'
import { MarketService } from '../../market/service/market-service.ts'
import { createLogger } from '../../platform/logger.ts'
import { joinDomain, joinMessage, joinTypes, type JoinRequest } from '../../protocol/members.ts'
import type { Order } from '../../protocol/order.ts'
import { topics } from '../../protocol/topics.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { runVpp } from '../helpers/run-vpp.ts'
import { waitFor } from '../helpers/wait-for.ts'

// Members join and leave while broker and market run: nothing restarts. The registry (SQLite, in the
// market) is the one source of truth; the broker learns every change from the market at once.

const community = 'street'
const TOKEN = 'operator-token-for-tests'
let chain: TestChain
let broker: RunningBroker
let market: MarketService
let api: RunningApiServer
let dataDir: string
const founder = { agentId: 'home-01', key: generatePrivateKey() }

async function startMarket() {
  market = new MarketService({
    community,
    intervalSeconds: 3600,
    mqtt: { url: broker.url, username: 'market', password: 'market-password' },
    members: [{ agentId: founder.agentId, address: privateKeyToAccount(founder.key).address }],
    chain: { rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, operatorKey: ANVIL_DEV_KEYS[0] },
    dataDir,
    priceFloor: 1,
    priceCap: 1_000_000,
    maxOrderWh: 1_000_000,
    logger: createLogger('market', 'silent'),
  })
  await market.start()
  api = await startApiServer({ market, operatorToken: TOKEN, logger: createLogger('api', 'silent') })
}

beforeAll(async () => {
  chain = await startTestChain(5, { intervalLength: 3600 }) // funded keys for the homes that trade
  dataDir = mkdtempSync(join(tmpdir(), 'vpp-members-'))
  broker = await startBroker({
    users: [
      { username: founder.agentId, passwordHash: hashPassword('founder-password', 1024), role: 'agent', community },
      { username: 'market', passwordHash: hashPassword('market-password', 1024), role: 'market', community },
      { username: 'watcher', passwordHash: hashPassword('watcher-password', 1024), role: 'dashboard', community },
    ],
    logger: createLogger('broker', 'silent'),
  })
  await startMarket()
})
afterAll(async () => {
  await api?.close()
  await market?.stop()
  await broker?.close()
  await chain?.anvil.stop()
})

const operator = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
const post = (path: string, body: unknown, headers: Record<string, string> = operator) => fetch(`${api.url}/api${path}`, { method: 'POST', headers, body: JSON.stringify(body) })

/** Logs in as `username`; resolves with the client, or rejects with the CONNACK refusal. */
function login(username: string, password: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(broker.url, { username, password, clientId: username, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000 })
    client.once('connect', () => resolve(client))
    client.once('error', (error) => {
      client.end(true)
      reject(error)
    })
    client.once('close', () => reject(new Error('closed before CONNACK')))
  })
}

/** A sell of `home` for the open interval, signed by `key`. */
async function orderOf(address: Hex, key: Hex, nonce: number) {
  const state = market.state()
  const order: Order = { owner: address, community: state.communityKey, interval: state.openInterval, side: 1, energyWh: 10, limitPrice: 100_000, nonce }
  return signOrder(privateKeyToAccount(key), order, chain.deployment.chainId, chain.deployment.settlement)
}

describe('members added, removed and re-keyed while everything runs', () => {
  it('refuses operator calls without the token, or with a wrong one, and says how to give it', async () => {
    const body = { agentId: 'home-x', address: privateKeyToAccount(generatePrivateKey()).address }
    const none = await post('/members', body, { 'content-type': 'application/json' })
    expect(none.status).toBe(401)
    expect((await none.json()).message).toMatch(/Authorization: Bearer/)
    const wrong = await post('/members', body, { authorization: 'Bearer nope', 'content-type': 'application/json' })
    expect(wrong.status).toBe(401)
    expect((await wrong.json()).message).toMatch(/wrong operator token/)
    expect((await runVpp(['members', 'add', '--market', api.url, '--agent', 'home-x', '--address', body.address], undefined, { VPP_OPERATOR_TOKEN: '' })).stderr).toMatch(/no operator token: give --token-file/)
  })

  it('a home added by the operator logs in with the password it was given and trades, with no restart', async () => {
    const key = chain.homeKeys[0]!
    const address = privateKeyToAccount(key).address
    const added = await runVpp(['members', 'add', '--market', api.url, '--agent', 'home-02', '--address', address], undefined, { VPP_OPERATOR_TOKEN: TOKEN })
    expect(added.code, added.stderr).toBe(0)
    const { password, member } = JSON.parse(added.stdout) as { password: string; member: { status: string } }
    expect(member.status).toBe('active')
    expect(password.length).toBeGreaterThanOrEqual(20)
    await expect(login('home-02', 'not-the-password')).rejects.toThrow(/Bad username or password|Connection refused/i)
    const client = await login('home-02', password)
    await client.publishAsync(topics.agent(community, 'home-02', 'orders'), JSON.stringify(await orderOf(address, key, 1)), { qos: 1 })
    await waitFor('the new member’s order accepted', () => market.store.ordersFor(market.state().openInterval).some((o) => o.agentId === 'home-02'), 5000, 20)
    await client.endAsync()
    // A second add of the same id or address is refused with the reason.
    const again = await post('/members', { agentId: 'home-02', address: privateKeyToAccount(generatePrivateKey()).address })
    expect(again.status).toBe(409)
    expect((await again.json()).message).toMatch(/already taken/)
  })

  it('a removed home is disconnected at once, cannot log in again, and its open orders are cancelled', async () => {
    const key = chain.homeKeys[1]!
    const address = privateKeyToAccount(key).address
    const { password } = (await (await post('/members', { agentId: 'home-03', address })).json()) as { password: string }
    const client = await login('home-03', password)
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()))
    await client.publishAsync(topics.agent(community, 'home-03', 'orders'), JSON.stringify(await orderOf(address, key, 1)), { qos: 1 })
    await waitFor('its order accepted', () => market.store.ordersFor(market.state().openInterval).some((o) => o.agentId === 'home-03'), 5000, 20)

    const removed = await runVpp(['members', 'remove', '--market', api.url, '--agent', 'home-03'], undefined, { VPP_OPERATOR_TOKEN: TOKEN })
    expect(removed.code, removed.stderr).toBe(0)
    expect(JSON.parse(removed.stdout)).toMatchObject({ member: { status: 'removed' }, cancelledOrders: 1 })
    await closed
    await expect(login('home-03', password)).rejects.toThrow()
    expect(market.store.ordersFor(market.state().openInterval).some((o) => o.agentId === 'home-03')).toBe(false)
    expect(await market.submitOrder(JSON.stringify(await orderOf(address, key, 2)), { mqttAgentId: 'home-03' })).toMatchObject({ ok: false, reason: 'unknown_agent' })
    const events = (await (await fetch(`${api.url}/api/members/events`)).json()) as { kind: string; agentId: string }[]
    expect(events.filter((e) => e.agentId === 'home-03').map((e) => e.kind)).toEqual(['removed', 'added'])
  })

  it("a re-keyed home's old key loses its open orders and the new key trades", async () => {
    const [oldKey, newKey] = [chain.homeKeys[2]!, chain.homeKeys[3]!]
    const [oldAddress, newAddress] = [privateKeyToAccount(oldKey).address, privateKeyToAccount(newKey).address]
    await post('/members', { agentId: 'home-04', address: oldAddress, password: 'home-04-password' })
    expect(await market.submitOrder(JSON.stringify(await orderOf(oldAddress, oldKey, 1)), { mqttAgentId: 'home-04' })).toMatchObject({ ok: true })
    const rotated = await runVpp(['members', 'rotate-key', '--market', api.url, '--agent', 'home-04', '--address', newAddress], undefined, { VPP_OPERATOR_TOKEN: TOKEN })
    expect(rotated.code, rotated.stderr).toBe(0)
    expect(JSON.parse(rotated.stdout)).toMatchObject({ member: { address: newAddress }, cancelledOrders: 1 })
    expect(market.store.ordersFor(market.state().openInterval).filter((o) => o.agentId === 'home-04')).toHaveLength(0)
    expect(await market.submitOrder(JSON.stringify(await orderOf(oldAddress, oldKey, 2)), { mqttAgentId: 'home-04' })).toMatchObject({ ok: false, reason: 'owner_mismatch' })
    expect(await market.submitOrder(JSON.stringify(await orderOf(newAddress, newKey, 1)), { mqttAgentId: 'home-04' })).toMatchObject({ ok: true })
    // The broker account is the same: its password still works.
    await (await login('home-04', 'home-04-password')).endAsync()
  })

  it('never forwards the member list (it carries password hashes), and takes it from the market only', async () => {
    const watcher = await login('watcher', 'watcher-password')
    const seen: string[] = []
    watcher.on('message', (topic) => seen.push(topic))
    await watcher.subscribeAsync(`vpp/v1/${community}/market/#`, { qos: 1 })
    const founderClient = await login(founder.agentId, 'founder-password')
    // A member posing as the market: dropped by the ACL, the registry's accounts unchanged.
    await founderClient.publishAsync(topics.brokerUsers(community), JSON.stringify({ users: [{ username: 'intruder', passwordHash: hashPassword('intruder-pass', 1024) }], removed: [] }), { qos: 1 })
    await expect(login('intruder', 'intruder-pass')).rejects.toThrow()
    await post('/members', { agentId: 'home-05', address: privateKeyToAccount(generatePrivateKey()).address, password: 'home-05-password' })
    await (await login('home-05', 'home-05-password')).endAsync()
    expect(seen.filter((t) => t.includes('broker'))).toEqual([])
    expect(broker.counters.toJSON()).toMatchObject({ broker_users_updates: expect.any(Number) })
    await founderClient.endAsync()
    await watcher.endAsync()
  })
})

describe('a home asks to join; the operator approves', () => {
  it('joins with `vpp agent join`, is approved with `vpp members approve`, then logs in with its own password and trades', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpp-join-'))
    const keyFile = join(dir, 'agent.key')
    const key = chain.homeKeys[4]!
    writeFileSync(keyFile, `${key}\n`, { mode: 0o600 })
    const asked = await runVpp(['agent', 'join', '--market', api.url, '--agent', 'home-11', '--key-file', keyFile])
    expect(asked.code, asked.stderr).toBe(0)
    expect(JSON.parse(asked.stdout)).toMatchObject({ agentId: 'home-11', status: 'pending', owner: privateKeyToAccount(key).address })
    const password = readFileSync(`${keyFile}.mqtt-password`, 'utf8').trim()
    // Pending: not a member yet, so no login.
    await expect(login('home-11', password)).rejects.toThrow()
    const pending = await runVpp(['members', 'pending', '--market', api.url], undefined, { VPP_OPERATOR_TOKEN: TOKEN })
    expect(JSON.parse(pending.stdout)).toEqual([expect.objectContaining({ agentId: 'home-11', status: 'pending' })])

    const approved = await runVpp(['members', 'approve', 'home-11', '--market', api.url], undefined, { VPP_OPERATOR_TOKEN: TOKEN })
    expect(approved.code, approved.stderr).toBe(0)
    const status = (await (await fetch(`${api.url}/api/join/home-11`)).json()) as { status: string; connect: { username: string; settlement: string } }
    expect(status).toMatchObject({ status: 'approved', connect: { username: 'home-11', settlement: chain.deployment.settlement } })
    const client = await login('home-11', password)
    const address = privateKeyToAccount(key).address
    await client.publishAsync(topics.agent(community, 'home-11', 'orders'), JSON.stringify(await orderOf(address, key, 1)), { qos: 1 })
    await waitFor('the joined home’s order accepted', () => market.store.ordersFor(market.state().openInterval).some((o) => o.agentId === 'home-11'), 5000, 20)
    await client.endAsync()
  })

  it('refuses a request not signed by the key it names, one from another clock, and an unaffordable password hash', async () => {
    const key = generatePrivateKey()
    const account = privateKeyToAccount(key)
    const { chainId, settlement } = chain.deployment
    const request: JoinRequest = { community, agentId: 'home-12', owner: account.address, node: '', passwordHash: hashPassword('home-12-password', 1024), requestedAt: Math.floor(Date.now() / 1000) }
    const sign = (r: JoinRequest, k: Hex = key) => privateKeyToAccount(k).signTypedData({ domain: joinDomain(chainId, settlement), types: joinTypes, primaryType: 'JoinRequest', message: joinMessage(r) })
    const json = { 'content-type': 'application/json' }
    const forged = await post('/join', { request, signature: await sign(request, generatePrivateKey()) }, json)
    expect(forged.status).toBe(403)
    const stale = { ...request, requestedAt: request.requestedAt - 3600 }
    const old = await post('/join', { request: stale, signature: await sign(stale) }, json)
    expect(old.status).toBe(400)
    expect((await old.json()).message).toMatch(/clock/)
    const costly = { ...request, passwordHash: hashPassword('x-password-x', 1024).replace('scrypt$1024$', 'scrypt$1048576$') }
    const dear = await post('/join', { request: costly, signature: await sign(costly) }, json)
    expect(dear.status).toBe(400)
    expect((await dear.json()).message).toMatch(/N 2\^10…2\^17/)
    expect(market.membership.registry.joinStatus('home-12')).toBeUndefined()
  })
})

describe('the registry across a restart', () => {
  it('keeps members added and removed live; market.yaml only seeds it', async () => {
    await post('/members', { agentId: 'home-20', address: privateKeyToAccount(generatePrivateKey()).address, password: 'home-20-password' })
    await fetch(`${api.url}/api/members/${founder.agentId}`, { method: 'DELETE', headers: operator })
    await api.close()
    await market.stop()
    await startMarket() // market.yaml still lists the founder
    const members = (await (await fetch(`${api.url}/api/members`)).json()) as { agentId: string; status: string }[]
    expect(members.find((m) => m.agentId === founder.agentId)?.status).toBe('removed')
    expect(members.find((m) => m.agentId === 'home-20')?.status).toBe('active')
    // The restarted market told the broker again: the live member logs in, the removed founder does not.
    await waitFor('the broker has the registry again', async () => login('home-20', 'home-20-password').then((c) => c.endAsync().then(() => true), () => false), 5000, 100)
    await expect(login(founder.agentId, 'founder-password')).rejects.toThrow()
  })
})
