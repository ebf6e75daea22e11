import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWalletClient, http, parseSignature, signatureToCompactSignature, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainFor } from '../../contracts/deploy.ts'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import type { SignedMeterReading } from '../../protocol/meter-reading.ts'
import { communityKey } from '../../protocol/order.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'

// Review finding 3: the operator could settle an interval before it happened (its sellers had no
// reading yet, so they were paid nothing and charged the imbalance), and could leave a seller's valid
// reading out of the batch for the same effect. Now an interval settles only once it has ended, a
// seller's reading may be missing only an interval after that, and anyone may post a signed reading on
// chain, which settlement then uses whatever the batch says.

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('early-street')

beforeAll(async () => {
  chain = await startTestChain(3, { community: 'early-street' })
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

const chainNow = async () => Number((await chain.publicClient.getBlock()).timestamp)
const post = async (key: Hex, signed: SignedMeterReading) => {
  const { r, yParityAndS } = signatureToCompactSignature(parseSignature(signed.signature))
  const { owner, interval, exportedWh, importedWh } = signed.reading
  const wallet = createWalletClient({ account: privateKeyToAccount(key), chain: chainFor(chain.deployment.chainId, chain.anvil.rpcUrl), transport: http(chain.anvil.rpcUrl) })
  const args = [community, BigInt(interval), owner, BigInt(exportedWh), BigInt(importedWh), r, yParityAndS] as const
  return chain.publicClient.waitForTransactionReceipt({ hash: await wallet.writeContract({ address: chain.deployment.settlement, abi: energySettlementAbi, functionName: 'postMeterReading', args }) })
}

async function trade(interval: number) {
  const [sellerKey, buyerKey] = chain.homeKeys as [Hex, Hex]
  const sell = await kit.sign(sellerKey, kit.order(sellerKey, 1, 10, 100_000, interval))
  const buy = await kit.sign(buyerKey, kit.order(buyerKey, 0, 10, 200_000, interval))
  return { sell, buy, sellerKey, batch: kit.batch([{ buy, sell, energyWh: 10, price: 150_000 }]) }
}

describe('attack: the operator settles before delivery, or hides a seller’s reading', () => {
  it('an interval that has not ended cannot be settled', async () => {
    const length = chain.deployment.intervalLength
    const current = Math.floor((await chainNow()) / length) * length
    for (const interval of [current, current + length]) {
      const { batch } = await trade(interval)
      await expect(kit.simulate(interval, batch)).rejects.toThrow(/IntervalNotOver/)
    }
  })

  it('an interval that has just ended cannot leave a seller’s reading out', async () => {
    const length = chain.deployment.intervalLength
    const justEnded = Math.floor((await chainNow()) / length) * length - length
    const { batch } = await trade(justEnded)
    await expect(kit.simulate(justEnded, batch)).rejects.toThrow(/MissingMeterReading/)
  })

  it('a reading posted on chain is used when the batch leaves it out: the seller is paid, not charged', async () => {
    const interval = await kit.slot()
    const { batch, sell, sellerKey } = await trade(interval)
    const signed = await kit.reading(sellerKey, sell.order.owner, interval, 10)
    // Posted by someone else entirely (a neighbour, the meter hub): the signature is what counts.
    expect((await post(chain.homeKeys[2]!, signed)).status).toBe('success')
    const receipt = await kit.settle(interval, batch)
    const before = receipt.blockNumber - 1n
    expect((await kit.balance(sell.order.owner)) - (await kit.balance(sell.order.owner, before))).toBe(1_500n) // 10 Wh at 0.15/kWh
  })

  it('a posted reading must be signed by the meter signer, stands once, and cannot come after settlement', async () => {
    const interval = await kit.slot()
    const { batch, sell, sellerKey } = await trade(interval)
    const forged = await kit.reading(chain.homeKeys[2]!, sell.order.owner, interval, 10) // not the owner's key
    await expect(post(chain.homeKeys[2]!, forged)).rejects.toThrow(/BadMeterReading/)
    const signed = await kit.reading(sellerKey, sell.order.owner, interval, 4)
    await post(sellerKey, signed)
    await expect(post(sellerKey, await kit.reading(sellerKey, sell.order.owner, interval, 10))).rejects.toThrow(/ReadingAlreadyPosted/)
    await kit.settle(interval, batch)
    await expect(post(sellerKey, await kit.reading(sellerKey, sell.order.owner, interval, 10))).rejects.toThrow(/IntervalAlreadySettled/)
  })
})
