import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EscrowWallet } from '../../contracts/wallet.ts'
import { privateKeyToAccount } from 'viem/accounts'
import type { EdgeAgent } from '../../edge-agent/edge-agent.ts'
import { fetchOwnEscrow } from '../../edge-agent/escrow-client.ts'
import { startApiServer, type RunningApiServer } from '../../market/api/api-server.ts'
import { freePort } from '../../platform/free-port.ts'
import { createLogger } from '../../platform/logger.ts'
import type { AgentView, Book, EscrowView } from '../../protocol/api.ts'
import { demoHomes } from '../../simulator/home-model.ts'
import { VirtualSunSpecDevice } from '../../simulator/virtual-device.ts'
import { testAgent } from '../helpers/agent.ts'
import { startCommunity, type TestCommunity } from '../helpers/community.ts'
import { waitFor } from '../helpers/wait-for.ts'

// A real agent whose escrow cannot cover what it wants to buy, against the real market, broker and
// chain: it must bid only what the escrow covers (the market refusing nothing), warn, and show the
// flag on the dashboard's agent view; after a deposit it bids its whole plan again and the flag clears.

const INTERVAL = 6
/** What the home leaves free in escrow: far less than 20 kW for 6 s (33 Wh) at ~250,000 per kWh. */
const FREE = 3_000n
let c: TestCommunity
let api: RunningApiServer
let device: VirtualSunSpecDevice
let agent: EdgeAgent
let wallet: EscrowWallet

beforeAll(async () => {
  c = await startCommunity({ homes: 1, intervalSeconds: INTERVAL })
  api = await startApiServer({ market: c.market, port: 0, logger: createLogger('api', 'silent') })
  const home = c.homes[0]!
  wallet = await EscrowWallet.open(c.chain.anvil.rpcUrl, c.chain.deployment.settlement, home.key)
  const { escrowBaseUnits } = await wallet.status()
  await wallet.requestWithdrawal(escrowBaseUnits - FREE)
  // A home using 20 kW from the grid, no sun, no battery: it wants to buy every interval.
  device = new VirtualSunSpecDevice({ spec: { ...demoHomes(1)[0]!, batteryWh: 0 }, port: await freePort() })
  device.update({ pvW: 0, loadW: 20_000, batteryW: 0, gridW: 20_000, socPct: 0 }, { pvWh: 0, importWh: 0, exportWh: 0 })
  await device.start()
  agent = testAgent({
    agentId: home.agentId,
    community: c.community,
    privateKey: home.key,
    mqtt: { url: c.broker.url, password: `pw-${home.agentId}` },
    modbus: { transport: 'tcp', host: '127.0.0.1', port: device.port },
    marketUrl: api.url,
  })
  await agent.start()
}, 60_000)
afterAll(async () => {
  await agent?.stop()
  await device?.stop()
  await api?.close()
  await c?.close()
})

/** By hand, as the contract holds it: a buy's energy at its limit, rounded up. */
const holdOf = (book: Book) => book.orders.reduce((sum, o) => sum + (BigInt(o.energyWh) * BigInt(o.limitPrice) + 999n) / 1000n, 0n)
const bookOf = async (interval: number) => (await (await fetch(`${api.url}/api/book?interval=${interval}`)).json()) as Book
const agentView = async () => ((await (await fetch(`${api.url}/api/agents`)).json()) as AgentView[]).find((a) => a.agentId === c.homes[0]!.agentId)

/** The next interval the agent bid in, once it has cleared (its book is open to read then). */
async function nextBidInterval(after: number): Promise<{ interval: number; book: Book }> {
  return waitFor('an interval the agent bid in to clear', async () => {
    const cleared = c.market.state().openInterval - INTERVAL
    for (let interval = after + INTERVAL; interval <= cleared; interval += INTERVAL) {
      const book = await bookOf(interval)
      if (book.orders.length > 0) return { interval, book }
    }
    return undefined
  }, 8 * INTERVAL * 1000, 200)
}

describe('the agent budgets its bids to its escrow', () => {
  it("the market tells the owner, and only the owner, what is free: escrow less the withdrawal under way", async () => {
    const home = c.homes[0]!
    const signed = await fetchOwnEscrow(api.url, privateKeyToAccount(home.key))
    // The agent may already hold some of it with this interval's orders.
    expect(signed.free + signed.openOrders).toBe(FREE)
    expect(signed.imbalancePrice).toBe(c.chain.deployment.imbalancePrice)
    const unsigned = (await (await fetch(`${api.url}/api/escrow/${home.address}`)).json()) as EscrowView
    expect(unsigned).toMatchObject({ openOrdersBaseUnits: null, freeBaseUnits: null })
  })

  it('bids only what the escrow covers, is refused nothing, and shows the flag', async () => {
    const { interval, book } = await nextBidInterval(c.market.state().openInterval - INTERVAL)
    const held = holdOf(book)
    const dearestLimit = book.orders.reduce((max, o) => (o.limitPrice > max ? o.limitPrice : max), 0)
    expect(held).toBeLessThanOrEqual(FREE)
    // As much as fits: less than one more Wh at the dearest limit short of the free money.
    expect(held).toBeGreaterThan(FREE - BigInt(Math.ceil(dearestLimit / 1000)))
    expect(book.orders.every((o) => o.side === 0)).toBe(true)
    expect(c.market.counters.get('orders_rejected.insufficient_collateral')).toBe(0)
    expect(agent.counters.get('orders_cut_for_escrow')).toBeGreaterThanOrEqual(1)
    await waitFor('the dashboard to show the home short of escrow', async () => (await agentView())?.escrowShort === true, 10_000, 100)
    expect(interval).toBeGreaterThan(0)
  }, 90_000)

  it('bids the whole plan again once a deposit covers it, and the flag clears', async () => {
    await wallet.deposit(100_000_000n)
    const since = c.market.state().openInterval
    await waitFor('the agent to bid its whole plan', () => agent.escrowShort === false, 10 * INTERVAL * 1000, 100)
    await waitFor('the dashboard to show the home covered', async () => (await agentView())?.escrowShort === false, 10_000, 100)
    const { book } = await nextBidInterval(since)
    // 20 kW for 6 s is 33 Wh (forecast from the meter); the whole plan holds far more than was free before.
    expect(book.orders.reduce((sum, o) => sum + o.energyWh, 0)).toBeGreaterThanOrEqual(30)
    expect(holdOf(book)).toBeGreaterThan(FREE)
    expect(c.market.counters.get('orders_rejected')).toBe(0)
  }, 90_000)
})
