import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Hex } from 'viem'
import { communityKey } from '../../protocol/order.ts'
import { SettledIntervals } from '../../contracts/settled-intervals.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
let proxy: Server
let proxyUrl: string
/** The `fromBlock` of every eth_getLogs the index sent, as numbers. */
const logQueries: number[] = []

beforeAll(async () => {
  chain = await startTestChain(2, { community: 'index-street' })
  kit = settlementKit(chain, communityKey('index-street'))
  // A recording HTTP proxy in front of anvil: what the index asks the chain, seen from outside it.
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      for (const call of [JSON.parse(body.toString())].flat() as { method: string; params: { fromBlock?: Hex }[] }[]) {
        if (call.method === 'eth_getLogs') logQueries.push(Number(call.params[0]!.fromBlock))
      }
      const upstream = request(chain.anvil.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' } }, (r) => {
        res.writeHead(r.statusCode ?? 502, { 'content-type': 'application/json' })
        r.pipe(res)
      })
      upstream.end(body)
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
})
afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve))
  await chain?.anvil.stop()
})

/** Settles one trade of `energyWh` at `price` from home 0 to home 1, fully delivered. */
async function settleTrade(energyWh: number, price: number) {
  const [sellerKey, buyerKey] = chain.homeKeys as [Hex, Hex]
  const interval = await kit.slot()
  const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, energyWh, price, interval))
  const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, energyWh, price, interval))
  const reading = await kit.reading(sellerKey, kit.address(sellerKey), interval, energyWh)
  const receipt = await kit.settle(interval, kit.batch([{ buy, sell, energyWh, price }], [reading]))
  return { interval, receipt }
}

it("gives each owner's net change per settled interval, reading only the blocks it has not read before", async () => {
  const [sellerKey, buyerKey] = chain.homeKeys as [Hex, Hex]
  const buyer = kit.address(buyerKey)
  const seller = kit.address(sellerKey)
  const index = new SettledIntervals(proxyUrl, chain.deployment)

  const before = await kit.balance(buyer)
  const first = await settleTrade(1000, 200_000)
  const afterFirst = await kit.balance(buyer)
  const buyerChanges = await index.changesOf(buyer)
  // What the contract's own balance moved by, read from its storage, not from the events.
  expect(buyerChanges).toEqual([{ interval: first.interval, blockNumber: Number(first.receipt.blockNumber), tx: first.receipt.transactionHash, change: afterFirst - before }])
  expect(afterFirst - before).toBe(-200_000n) // 1 kWh at 200,000 base units per kWh
  expect(index.intervalOf(first.receipt.transactionHash)).toBe(first.interval)
  const firstScan = [...logQueries]
  expect(firstScan[0]).toBe(0)

  const second = await settleTrade(500, 300_000)
  const afterSecond = await kit.balance(buyer)
  logQueries.length = 0
  const [again, sellerChanges] = await Promise.all([index.changesOf(buyer), index.changesOf(seller)])
  expect(again.map((c) => c.change)).toEqual([afterFirst - before, afterSecond - afterFirst])
  expect(again[1]!.interval).toBe(second.interval)
  expect(sellerChanges.map((c) => c.interval)).toEqual([first.interval, second.interval])
  // Two concurrent requests shared one read, and it started after the blocks already read.
  expect(logQueries).toHaveLength(1)
  expect(logQueries[0]).toBeGreaterThan(Number(first.receipt.blockNumber))
  // cacheTime 0: viem serves a block number up to its polling interval old, which under load predates the last settlement.
  expect(index.scannedBlocks).toBe((await chain.publicClient.getBlockNumber({ cacheTime: 0 })) + 1n)
})
