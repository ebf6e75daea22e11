import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { energySettlementAbi } from '../../contracts/generated/artifacts.ts'
import { communityKey } from '../../protocol/order.ts'
import type { ContractFill, ContractReading } from '../../market/service/settlement-batch.ts'
import { startTestChain, type TestChain } from '../helpers/chain.ts'
import { settlementKit } from '../helpers/settlement.ts'

// Review finding 2: the contract's own ecrecover wrapper answered 0 for a high-s signature and 1 for
// an unrecoverable one, so fills and readings whose owner field was 0x0 or 0x1 "verified" without
// any signature: the operator could sell a buyer energy from address 1, with a reading "signed" by
// address 1, and the buyer's money went to an account nobody can ever withdraw from.

let chain: TestChain
let kit: ReturnType<typeof settlementKit>
const community = communityKey('zero-street')
const ZERO = '0x0000000000000000000000000000000000000000' as const
const ONE = '0x0000000000000000000000000000000000000001' as const
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n
/** r ‖ vs that no key produced: a high s (ecrecover's malleable half), or nothing recoverable. */
const HIGH_S = { r: `0x${'11'.repeat(32)}` as const, vs: `0x${(SECP256K1_HALF_N + 1n).toString(16).padStart(64, '0')}` as const }
const GARBAGE = { r: `0x${'00'.repeat(32)}` as const, vs: `0x${'00'.repeat(32)}` as const }

beforeAll(async () => {
  chain = await startTestChain(1, { community: 'zero-street' }) // the victim buyer
  kit = settlementKit(chain, community)
})
afterAll(async () => {
  await chain?.anvil.stop()
})

function unsignedSell(owner: `0x${string}`, signature: { r: `0x${string}`; vs: `0x${string}` }): ContractFill {
  return { owner, side: 1, energyWh: 10n, limitPrice: 1n, nonce: 1n, filledWh: 10n, price: 300_000n, ...signature }
}
const unsignedReading = (owner: `0x${string}`, signature: { r: `0x${string}`; vs: `0x${string}` }): ContractReading => ({ owner, exportedWh: 10n, importedWh: 0n, ...signature })

describe('attack: fills and readings from owners 0x0 and 0x1 with no real signature', () => {
  for (const [name, owner, signature] of [
    ['owner 0x0 with a high-s signature', ZERO, HIGH_S],
    ['owner 0x1 with an unrecoverable signature', ONE, GARBAGE],
  ] as const) {
    it(`a victim's buy from ${name} is refused, and the victim keeps its money`, async () => {
      const victimKey = chain.homeKeys[0]!
      const interval = await kit.slot()
      const buy = kit.rawFill(await kit.sign(victimKey, kit.order(victimKey, 0, 10, 300_000, interval)), 10, 300_000)
      const sell = unsignedSell(owner, signature)
      // Fills in digest order are not needed for the refusal: it comes at the forged fill whatever its place.
      for (const fills of [[sell, buy], [buy, sell]]) {
        const s = fills.indexOf(sell)
        const b = fills.indexOf(buy)
        const batch = { fills, trades: [{ buyFill: b, sellFill: s, energyWh: 10n }], readings: [unsignedReading(owner, signature)] }
        await expect(kit.simulate(interval, batch)).rejects.toThrow(/BadMeterReading|InvalidOwner|BadSignature/)
        // Without the reading too: the fill alone is refused.
        await expect(kit.simulate(interval, { ...batch, readings: [] })).rejects.toThrow(/InvalidOwner|BadSignature/)
      }
    })
  }

  it('a reading posted on chain for owner 0x1 with no signature is refused', async () => {
    const interval = await kit.slot()
    await expect(
      chain.publicClient.simulateContract({
        account: chain.operator.account!,
        address: chain.deployment.settlement,
        abi: energySettlementAbi,
        functionName: 'postMeterReading',
        args: [community, BigInt(interval), ONE, 10n, 0n, GARBAGE.r, GARBAGE.vs],
      }),
    ).rejects.toThrow(/BadMeterReading/)
  })
})
