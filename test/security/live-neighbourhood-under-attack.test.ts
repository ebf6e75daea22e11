import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import mqtt from 'mqtt'
import { createWalletClient, http, parseSignature, serializeSignature, toHex, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { startNeighbourhood, type RunningNeighbourhood } from '../../cli/neighbourhood.ts'
import { chainFor } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { signMeterReading } from '../../edge-agent/meter-reading-signer.ts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { createLogger } from '../../platform/logger.ts'
import { topics } from '../../protocol/topics.ts'
import { waitFor } from '../helpers/wait-for.ts'

// The live fault test: a neighbourhood of simulated homes, each with its real agent, runs for more
// than ten intervals while one member attacks with everything at once: an order flood, ten concurrent
// buys each worth its whole escrow, a malleated meter reading, and cancelUpTo(2^64 - 1) on chain after
// its orders were accepted. Every trade between the other members settles in every interval, and the
// market (the same process throughout) never stops clearing.

const INTERVAL = 5
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
let hood: RunningNeighbourhood

beforeAll(async () => {
  hood = await startNeighbourhood({ homes: 6, intervalSeconds: INTERVAL, port: 0, logger: createLogger('attack', 'silent') })
}, 120_000)
afterAll(async () => {
  await hood?.stop()
})

describe('a live neighbourhood with one hostile member', () => {
  it('settles every other member’s trades in every interval for ten intervals, and keeps clearing', async () => {
    const attacker = hood.homes[0]!
    const account = privateKeyToAccount(attacker.privateKey)
    const honest = new Set(hood.homes.slice(1).map((h) => privateKeyToAccount(h.privateKey).address.toLowerCase()))
    const { market } = hood
    const state = await waitFor('an interval with time left', () => {
      const s = market.state()
      return s.gateClosure * 1000 - Date.now() > 3000 ? s : undefined
    }, 30_000, 50)
    const firstAttacked = state.openInterval
    const order = (patch: { side: 0 | 1; energyWh: number; limitPrice: number }, nonce: number) =>
      signOrder(account, { owner: account.address, community: state.communityKey, interval: state.openInterval, nonce, ...patch }, state.chainId, state.settlement)

    // An order flood, and ten buys at once each worth the whole escrow (500 dUSD: 500,000 Wh at 1.0/kWh).
    const flood = await Promise.all(Array.from({ length: 30 }, (_, i) => order({ side: 1, energyWh: 1, limitPrice: 10_000 }, 1_000_000 + i)))
    const whole = await Promise.all(Array.from({ length: 10 }, (_, i) => order({ side: 0, energyWh: 500_000, limitPrice: 1_000_000 }, 2_000_000 + i)))
    const outcomes = await Promise.all([...flood, ...whole].map((o) => market.submitOrder(JSON.stringify(o), { mqttAgentId: attacker.agentId })))
    const wholeAccepted = outcomes.slice(30).filter((o) => o.ok).length
    expect(wholeAccepted).toBeLessThanOrEqual(1)
    // The flood is cut short (by the agent's rate limit or its cap of open orders, whichever bites first).
    const refused = new Set(outcomes.flatMap((o) => (o.ok ? [] : [o.reason])))
    expect([...refused].every((r) => ['too_many_orders', 'rate_limited', 'insufficient_collateral'].includes(r)), [...refused].join()).toBe(true)
    expect(market.store.ordersFor(firstAttacked).filter((o) => o.owner.toLowerCase() === account.address.toLowerCase()).length).toBeLessThanOrEqual(24)

    // After gate closure: cancel every nonce on chain, and send a malleated reading of the interval.
    await waitFor('gate closure', () => market.state().openInterval > firstAttacked, 3 * INTERVAL * 1000, 50)
    const wallet = createWalletClient({ account, chain: chainFor(state.chainId, hood.chain.rpcUrl), transport: http(hood.chain.rpcUrl) })
    await wallet.writeContract({ address: state.settlement, abi: energySettlementAbi, functionName: 'cancelUpTo', args: [2n ** 64n - 1n] })
    await waitFor('the interval delivered', () => Date.now() / 1000 >= firstAttacked + INTERVAL + 0.5, 3 * INTERVAL * 1000, 50)
    const reading = await signMeterReading(account, { owner: account.address, community: state.communityKey, interval: firstAttacked, exportedWh: 1000, importedWh: 0 }, state.chainId, state.settlement)
    const { r, s, yParity } = parseSignature(reading.signature)
    const malleated = serializeSignature({ r, s: toHex(SECP256K1_N - BigInt(s), { size: 32 }), yParity: 1 - yParity! }) as Hex
    const client = await mqtt.connectAsync(hood.broker.url, { clientId: `${attacker.agentId}:attack`, username: attacker.agentId, password: attacker.mqttPassword, protocolVersion: 4, reconnectPeriod: 0 })
    await client.publishAsync(topics.agent(hood.community, attacker.agentId, 'meter'), JSON.stringify({ ...reading, signature: malleated }), { qos: 1 })
    await client.endAsync()

    // Ten more intervals, each settled (or with nothing to settle) two intervals after it cleared.
    const lastChecked = firstAttacked + 10 * INTERVAL
    await waitFor('ten intervals cleared and settled', () => {
      const r = market.store.interval(lastChecked)
      return r && ['settled', 'nothing'].includes(r.settlement.status)
    }, 30 * INTERVAL * 1000, 250)
    let withHonestTrades = 0
    for (let interval = firstAttacked; interval <= lastChecked; interval += INTERVAL) {
      const result = market.store.interval(interval)
      expect(result, `interval ${interval} cleared`).toBeDefined()
      const honestTrades = result!.trades.filter((t) => honest.has(t.buyer.toLowerCase()) && honest.has(t.seller.toLowerCase()))
      if (honestTrades.length === 0) continue
      withHonestTrades++
      expect(result!.settlement.status, `interval ${interval}: ${result!.settlement.error}`).toBe('settled')
      for (const d of result!.settlement.dropped ?? []) expect(d.owner.toLowerCase(), `interval ${interval} left out an honest order`).toBe(account.address.toLowerCase())
    }
    // The malleated reading never got in (refused for its signature, or before: a duplicate of the agent's own, or not needed).
    expect(market.counters.get('meter_rejected') + market.counters.get('meter_ignored')).toBeGreaterThanOrEqual(1)
    expect(market.store.meterReadingsFor(firstAttacked).get(account.address.toLowerCase())?.signature).not.toBe(malleated)
    expect(withHonestTrades, 'intervals with trades between honest members').toBeGreaterThanOrEqual(8)
    expect(market.counters.get('settlements_errored')).toBe(0)
    expect(market.counters.get('orders_rejected.order_cancelled')).toBeGreaterThan(0) // the attacker's own agent, from then on
  }, 300_000)
})
