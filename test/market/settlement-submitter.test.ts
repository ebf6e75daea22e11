import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pino } from 'pino'
import { createTestClient, http, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { ANVIL_DEV_KEYS } from '../../contracts/anvil.ts'
import { chainFor } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { SettlementSubmitter } from '../../market/service/settlement-submitter.ts'
import { communityKey } from '../../protocol/order.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'
import { startSwitchableProxy } from '../helpers/switchable-proxy.ts'
import { waitFor } from '../helpers/wait-for.ts'

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('submitter-street')

beforeAll(async () => {
  chain = await startTestChain(2, { community: 'submitter-street' })
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

const operator = privateKeyToAccount(ANVIL_DEV_KEYS[0]).address
const operatorNonce = () => chain.publicClient.getTransactionCount({ address: operator, blockTag: 'pending' })
const settledEvents = async (interval: number) =>
  chain.publicClient.getContractEvents({ address: chain.deployment.settlement, abi: energySettlementAbi, eventName: 'IntervalSettled', args: { community, interval: BigInt(interval) }, fromBlock: 'earliest' })

/** A settleable batch for a fresh interval: 10 Wh from home 1 to home 2 at 150,000, fully delivered. */
async function tradeBatch() {
  const [sellerKey, buyerKey] = chain.homeKeys as [Hex, Hex]
  const interval = await kit.slot()
  const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval))
  const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, 200_000, interval))
  const batch = kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }], [await kit.reading(sellerKey, sell.order.owner, interval, 10)])
  return { interval, batch }
}

describe('settlement submitter', () => {
  it('rides out an RPC outage with back-off and settles the interval exactly once', async () => {
    const proxy = await startSwitchableProxy(Number(new URL(chain.anvil.rpcUrl).port))
    // The submitter's own log of each failed attempt, so the test sees the outage ridden out.
    const retries: { attempt: number }[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => void retries.push(JSON.parse(line) as { attempt: number }) })
    const submitter = new SettlementSubmitter(`http://127.0.0.1:${proxy.port}`, chain.deployment, ANVIL_DEV_KEYS[0], { retry: { firstDelayMs: 200, maxDelayMs: 400, attempts: 30 }, logger })
    const { interval, batch } = await tradeBatch()
    await proxy.down()
    const outcome = submitter.settle(community, interval, batch)
    // Three attempts fail against the closed port, then the RPC comes back.
    await waitFor('three failed attempts', () => retries.length >= 3, 20_000, 50)
    expect(retries.slice(0, 3).map((r) => r.attempt)).toEqual([1, 2, 3])
    expect(await chain.publicClient.readContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'intervalSettled', args: [community, BigInt(interval)] })).toBe(false)
    await proxy.up()
    // settle() never rejects: an RPC failure is retried, a revert is a 'failed' outcome.
    const result = await outcome
    expect(result).toMatchObject({ status: 'settled', error: null })
    const events = await settledEvents(interval)
    expect(events).toHaveLength(1)
    // The receipt is kept with the outcome: where and for how much gas it settled.
    const receipt = await chain.publicClient.getTransactionReceipt({ hash: events[0]!.transactionHash })
    expect(result).toMatchObject({ tx: receipt.transactionHash, receipt: { blockNumber: Number(receipt.blockNumber), gasUsed: Number(receipt.gasUsed) } })
    await proxy.close()
  })

  it('reports an interval settled before, with the transaction that settled it, and sends nothing', async () => {
    const submitter = new SettlementSubmitter(chain.anvil.rpcUrl, chain.deployment, ANVIL_DEV_KEYS[0])
    const { interval, batch } = await tradeBatch()
    const first = await submitter.settle(community, interval, batch)
    expect(first.status).toBe('settled')
    const nonce = await operatorNonce()
    // Another process (or the same one after a restart) knows nothing about the first transaction.
    const again = await new SettlementSubmitter(chain.anvil.rpcUrl, chain.deployment, ANVIL_DEV_KEYS[0]).settle(community, interval, batch)
    expect(again).toMatchObject({ status: 'settled', tx: first.tx })
    expect(await operatorNonce()).toBe(nonce)
  })

  it('after a restart waits for the transaction it already sent instead of sending another', async () => {
    const test = createTestClient({ mode: 'anvil', chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) })
    const { interval, batch } = await tradeBatch()
    await test.setAutomine(false)
    try {
      let sent: Hex | undefined
      // The first process sends, records the hash, and "crashes": its promise is simply abandoned.
      void new SettlementSubmitter(chain.anvil.rpcUrl, chain.deployment, ANVIL_DEV_KEYS[0]).settle(community, interval, batch, { onSubmitted: (tx) => (sent = tx) })
      const tx = await waitFor('the first transaction sent', () => sent)
      const nonce = await operatorNonce()
      const restarted = new SettlementSubmitter(chain.anvil.rpcUrl, chain.deployment, ANVIL_DEV_KEYS[0])
      const outcome = restarted.settle(community, interval, batch, { knownTx: tx })
      await new Promise((resolve) => setTimeout(resolve, 500))
      await test.mine({ blocks: 1 })
      expect(await outcome).toMatchObject({ status: 'settled', tx })
      expect(await operatorNonce()).toBe(nonce)
      expect(await settledEvents(interval)).toHaveLength(1)
    } finally {
      await test.setAutomine(true)
    }
  })

  it('gives a revert as a failure at once, without retrying, and stores no transaction', async () => {
    const submitter = new SettlementSubmitter(chain.anvil.rpcUrl, chain.deployment, ANVIL_DEV_KEYS[0], { retry: { firstDelayMs: 60_000, maxDelayMs: 60_000, attempts: 5 } })
    const { interval, batch } = await tradeBatch()
    // The buyer's price pushed past its limit: the contract refuses, and no retry can change that.
    const tampered = { ...batch, fills: batch.fills.map((f) => (f.side === 0 ? { ...f, price: f.limitPrice + 1n } : f)) }
    const outcome = await submitter.settle(community, interval, tampered)
    expect(outcome).toMatchObject({ status: 'failed', tx: null })
    expect(outcome.error).toMatch(/PriceOutsideLimit/)
  })
})
