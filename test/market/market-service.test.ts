import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import type { Hex } from 'viem'
import { startBroker, type RunningBroker } from '../../broker/mqtt-broker.ts'
import { hashPassword } from '../../broker/credentials.ts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { startApiServer, type RunningApiServer } from '../../market/api/api-server.ts'
import { MarketService } from '../../market/service/market-service.ts'
import { RateLimiter } from '../../market/service/rate-limiter.ts'
import { createLogger } from '../../platform/logger.ts'
import { cancelTypes, orderDomain, type Order } from '../../protocol/order.ts'
import { topics } from '../../protocol/topics.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { waitFor } from '../helpers/wait-for.ts'

const community = 'street'
let chain: TestChain
let broker: RunningBroker
let market: MarketService
let api: RunningApiServer
const homes: { agentId: string; key: Hex }[] = []

beforeAll(async () => {
  // Each home: 1,000 dUSD (1e9 base units) in escrow. Every test that counts on a home's escrow or
  // rate-limit bucket has a home of its own (3: collateral, 4: flooding, 5: replacing, 6: metrics), so
  // each one holds whichever tests run before it.
  chain = await startTestChain(6, { intervalLength: 3600 })
  chain.homeKeys.forEach((key, i) => homes.push({ agentId: `home-0${i + 1}`, key }))
  broker = await startBroker({
    users: [
      ...homes.map((h) => ({ username: h.agentId, passwordHash: hashPassword('pw-' + h.agentId, 1024), role: 'agent' as const, community })),
      { username: 'market', passwordHash: hashPassword('pwm', 1024), role: 'market' as const, community },
    ],
    logger: createLogger('broker', 'silent'),
  })
  market = new MarketService({
    community,
    intervalSeconds: 3600, // one long open interval: the test decides when orders arrive
    mqtt: { url: broker.url, username: 'market', password: 'pwm' },
    members: homes.map((h) => ({ agentId: h.agentId, address: privateKeyToAccount(h.key).address })),
    chain: { rpcUrl: chain.anvil.rpcUrl, deployment: chain.deployment, operatorKey: ANVIL_DEV_KEYS[0] },
    dataDir: mkdtempSync(join(tmpdir(), 'vpp-market-')),
    priceFloor: 0,
    priceCap: 1_000_000,
    maxOrderWh: 1_000_000,
    rateLimit: { agent: { burst: 5, perSecond: 0.001 } },
    logger: createLogger('market', 'silent'),
  })
  await market.start()
  api = await startApiServer({ market, port: 0, logger: createLogger('api', 'silent') })
})
afterAll(async () => {
  await api?.close()
  await market?.stop()
  await broker?.close()
  await chain?.anvil.stop()
})

let nonce = 1
function orderOf(home: (typeof homes)[number], patch: Partial<Order> = {}): Order {
  const state = market.state()
  return { owner: privateKeyToAccount(home.key).address, community: state.communityKey, interval: state.openInterval, side: 1, energyWh: 100, limitPrice: 100_000, nonce: nonce++, ...patch }
}
const sign = (order: Order, key: Hex) => signOrder(privateKeyToAccount(key), order, chain.deployment.chainId, chain.deployment.settlement)
const post = async (body: string) => {
  const res = await fetch(`${api.url}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { status: res.status, body: (await res.json()) as { hash?: string; error?: string; message?: string } }
}

describe('order intake over HTTP', () => {
  it('accepts a signed order with 201 and its hash once stored', async () => {
    const signed = await sign(orderOf(homes[0]!), homes[0]!.key)
    const res = await post(JSON.stringify(signed))
    expect(res.status).toBe(201)
    expect(res.body.hash).toMatch(/^0x[0-9a-f]{64}$/)
    expect(market.store.ordersFor(market.state().openInterval).map((o) => o.hash)).toContain(res.body.hash)
    expect((await post(JSON.stringify(signed))).body.error).toBe('duplicate')
  })

  it('refuses forged, malformed and unregistered orders with a reason and status', async () => {
    const forged = await sign(orderOf(homes[0]!), homes[1]!.key)
    expect(await post(JSON.stringify(forged))).toMatchObject({ status: 403, body: { error: 'bad_signature' } })
    expect(await post('{"order":')).toMatchObject({ status: 400, body: { error: 'malformed_json' } })
    const stranger = generatePrivateKey()
    const unregistered = await sign({ ...orderOf(homes[0]!), owner: privateKeyToAccount(stranger).address }, stranger)
    expect(await post(JSON.stringify(unregistered))).toMatchObject({ status: 403, body: { error: 'unknown_agent' } })
  })

  it('accepts a buy only while the owner’s escrow covers all its open buys at their limits', async () => {
    const buyer = homes[2]!
    // 600,000 Wh at 1,000,000 per kWh = 600,000,000 base units; the escrow holds 1,000,000,000.
    const first = await sign(orderOf(buyer, { side: 0, energyWh: 600_000, limitPrice: 1_000_000 }), buyer.key)
    expect((await post(JSON.stringify(first))).status).toBe(201)
    const second = await sign(orderOf(buyer, { side: 0, energyWh: 600_000, limitPrice: 1_000_000 }), buyer.key)
    const refused = await post(JSON.stringify(second))
    expect(refused).toMatchObject({ status: 402, body: { error: 'insufficient_collateral' } })
    expect(refused.body.message).toMatch(/deposit more/)
    const smaller = await sign(orderOf(buyer, { side: 0, energyWh: 400_000, limitPrice: 1_000_000 }), buyer.key)
    expect((await post(JSON.stringify(smaller))).status).toBe(201)
  })
})

describe('cancel and replace before gate closure', () => {
  const cancelOf = async (orderHash: string, signer: Hex, owner = privateKeyToAccount(signer).address) => ({
    cancel: { owner, orderHash },
    signature: await privateKeyToAccount(signer).signTypedData({ domain: orderDomain(chain.deployment.chainId, chain.deployment.settlement), types: cancelTypes, primaryType: 'Cancel', message: { owner, orderHash: orderHash as Hex } }),
  })
  const open = () => market.store.ordersFor(market.state().openInterval).map((o) => o.hash as string)

  it("cancels the owner's open order only with the owner's signature", async () => {
    const home = homes[0]!
    const placed = await post(JSON.stringify(await sign(orderOf(home), home.key)))
    const hash = placed.body.hash!
    expect(await post(JSON.stringify(await cancelOf(hash, homes[1]!.key, privateKeyToAccount(home.key).address)))).toMatchObject({ status: 403, body: { error: 'bad_signature' } })
    expect(open()).toContain(hash)
    expect(await post(JSON.stringify(await cancelOf(hash, home.key)))).toMatchObject({ status: 200, body: { hash, kind: 'cancel' } })
    expect(open()).not.toContain(hash)
    expect(await post(JSON.stringify(await cancelOf(hash, home.key)))).toMatchObject({ status: 404, body: { error: 'unknown_order' } })
  })

  it('replaces an order in one step, freeing its collateral for the new one', async () => {
    const buyer = homes[4]!
    // The buyer's escrow (1,000,000,000) committed to open buys at their limits: nothing more fits …
    for (const energyWh of [600_000, 400_000]) expect((await post(JSON.stringify(await sign(orderOf(buyer, { side: 0, energyWh, limitPrice: 1_000_000 }), buyer.key)))).status).toBe(201)
    const tooMuch = await sign(orderOf(buyer, { side: 0, energyWh: 100, limitPrice: 1_000_000 }), buyer.key)
    expect((await post(JSON.stringify(tooMuch))).body.error).toBe('insufficient_collateral')
    // … but replacing its 400,000 Wh buy by a 300,000 Wh one frees room.
    const old = market.store.ordersFor(market.state().openInterval).find((o) => o.agentId === buyer.agentId && o.energyWh === 400_000)!
    const successor = await sign(orderOf(buyer, { side: 0, energyWh: 300_000, limitPrice: 1_000_000 }), buyer.key)
    const replaced = await post(JSON.stringify({ ...successor, replaces: old.hash }))
    expect(replaced).toMatchObject({ status: 201, body: { kind: 'replace' } })
    expect(open()).not.toContain(old.hash)
    expect(open()).toContain(replaced.body.hash)
    // Replacing an order that is no longer open changes nothing.
    const again = await sign(orderOf(buyer, { side: 0, energyWh: 1, limitPrice: 1 }), buyer.key)
    expect(await post(JSON.stringify({ ...again, replaces: old.hash }))).toMatchObject({ status: 404, body: { error: 'unknown_order' } })
    expect(open()).toContain(replaced.body.hash)
  })

  it("refuses a cancel over MQTT from an agent that does not own the order", async () => {
    const victim = homes[0]!
    const placed = await post(JSON.stringify(await sign(orderOf(victim), victim.key)))
    const intruder = await mqtt.connectAsync(broker.url, { clientId: homes[1]!.agentId, username: homes[1]!.agentId, password: 'pw-' + homes[1]!.agentId, reconnectPeriod: 0 })
    const before = market.counters.get('orders_rejected.owner_mismatch')
    // Even carrying the victim's valid signature, it is not the intruder's order to cancel.
    await intruder.publishAsync(topics.agent(community, homes[1]!.agentId, 'orders'), JSON.stringify(await cancelOf(placed.body.hash!, victim.key)), { qos: 1 })
    await waitFor('the refusal', () => market.counters.get('orders_rejected.owner_mismatch') === before + 1)
    expect(open()).toContain(placed.body.hash)
    await intruder.endAsync()
  })
})

describe('order intake over MQTT', () => {
  it("rate-limits one agent's flood without hurting another agent", async () => {
    const connect = (h: (typeof homes)[number]) => mqtt.connectAsync(broker.url, { clientId: h.agentId, username: h.agentId, password: 'pw-' + h.agentId, reconnectPeriod: 0 })
    const flooding = homes[3]!
    const flooder = await connect(flooding)
    const limited = () => market.counters.get('orders_rejected.rate_limited')
    const accepted = () => market.counters.get('orders_accepted')
    const [limitedBefore, acceptedBefore] = [limited(), accepted()]
    for (let i = 0; i < 12; i++) await flooder.publishAsync(topics.agent(community, flooding.agentId, 'orders'), JSON.stringify(await sign(orderOf(flooding), flooding.key)), { qos: 1 })
    await waitFor('all 12 flooded orders handled', () => limited() - limitedBefore + accepted() - acceptedBefore === 12)
    // A burst of 5 and next to no refill: the first five pass, the other seven are refused.
    expect({ accepted: accepted() - acceptedBefore, limited: limited() - limitedBefore }).toEqual({ accepted: 5, limited: 7 })
    const calm = await connect(homes[0]!)
    const acceptedBeforeCalm = accepted()
    await calm.publishAsync(topics.agent(community, homes[0]!.agentId, 'orders'), JSON.stringify(await sign(orderOf(homes[0]!), homes[0]!.key)), { qos: 1 })
    await waitFor('the calm agent’s order accepted', () => accepted() === acceptedBeforeCalm + 1)
    await Promise.all([flooder.endAsync(), calm.endAsync()])
  })
})

describe('RateLimiter', () => {
  it('allows a burst, then refills at its rate, per key', () => {
    let now = 0
    const limiter = new RateLimiter(2, 1, () => now)
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, false])
    expect(limiter.take('b')).toBe(true)
    now = 1000
    expect([limiter.take('a'), limiter.take('a')]).toEqual([true, false])
  })
})

describe('metrics and API description', () => {
  it('exposes Prometheus counters by reason', async () => {
    // Its own refusals, one of each: a forged signature, an uncovered buy, a cancel of no open order.
    const home = homes[5]!
    expect((await post(JSON.stringify(await sign(orderOf(home), homes[0]!.key)))).body.error).toBe('bad_signature')
    // A buy of 1,000,000 Wh at 1,000,000 per kWh holds all 1,000,000,000 of the escrow; one Wh more is not covered.
    expect((await post(JSON.stringify(await sign(orderOf(home, { side: 0, energyWh: 1_000_000, limitPrice: 1_000_000 }), home.key)))).status).toBe(201)
    expect((await post(JSON.stringify(await sign(orderOf(home, { side: 0, energyWh: 1, limitPrice: 1_000_000 }), home.key)))).body.error).toBe('insufficient_collateral')
    const cancel = { owner: privateKeyToAccount(home.key).address, orderHash: `0x${'77'.repeat(32)}` as Hex }
    const signature = await privateKeyToAccount(home.key).signTypedData({ domain: orderDomain(chain.deployment.chainId, chain.deployment.settlement), types: cancelTypes, primaryType: 'Cancel', message: cancel })
    expect((await post(JSON.stringify({ cancel, signature }))).body.error).toBe('unknown_order')
    const text = await (await fetch(`${api.url}/metrics`)).text()
    expect(text).toMatch(/vpp_orders_rejected_total\{reason="bad_signature"\} [1-9]/)
    expect(text).toMatch(/vpp_orders_rejected_total\{reason="insufficient_collateral"\} [1-9]/)
    expect(text).toMatch(/vpp_orders_rejected_total\{reason="unknown_order"\} [1-9]/)
    expect(text).toMatch(/vpp_orders_accepted_total \d+/)
  })

  it('describes the REST API as OpenAPI 3.1 with the order schema', async () => {
    const doc = (await (await fetch(`${api.url}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { anyOf: { properties: Record<string, unknown> }[] } }> } }>> }
    expect(doc.openapi).toBe('3.1.0')
    const [order, cancel] = doc.paths['/api/orders']!.post!.requestBody!.content['application/json']!.schema.anyOf
    expect(Object.keys(order!.properties)).toEqual(['order', 'signature', 'replaces'])
    expect(Object.keys(cancel!.properties)).toEqual(['cancel', 'signature'])
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/trades', '/api/intervals', '/api/agents', '/metrics']))
  })
})
