import { describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { validateOrderPayload, type IntakeContext } from '../../market/service/order-validation.ts'
import { communityKey, type Order } from '../../protocol/order.ts'

const home = privateKeyToAccount(generatePrivateKey())
const stranger = privateKeyToAccount(generatePrivateKey())
const settlement = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const ctx: IntakeContext = {
  communityKey: communityKey('street'),
  openInterval: 1_800_000_000,
  chainId: 31337,
  settlement,
  priceFloor: 0,
  priceCap: 1_000_000,
  maxOrderWh: 100_000,
  addressOf: (agentId) => (agentId === 'home-01' ? home.address : undefined),
}
const baseOrder: Order = { owner: home.address, community: ctx.communityKey, interval: ctx.openInterval, side: 1, energyWh: 500, limitPrice: 120_000, nonce: 1 }
const payload = async (order: Order, signer = home) => JSON.stringify(await signOrder(signer, order, ctx.chainId, settlement))

describe('validateOrderPayload', () => {
  it('accepts an order signed by its registered owner and returns its EIP-712 hash', async () => {
    const verdict = await validateOrderPayload(await payload(baseOrder), 'home-01', ctx)
    expect(verdict.ok).toBe(true)
    if (verdict.ok) expect(verdict.hash).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it.each<[string, () => Promise<string>, string]>([
    ['bad_signature', async () => payload(baseOrder, stranger), 'home-01'],
    ['malformed_json', async () => '{"order":', 'home-01'],
    ['invalid_schema', async () => JSON.stringify({ order: { ...baseOrder, energyWh: -5 }, signature: '0x00' }), 'home-01'],
    ['unknown_agent', async () => payload(baseOrder), 'home-99'],
    ['owner_mismatch', async () => payload({ ...baseOrder, owner: stranger.address }, stranger), 'home-01'],
    ['interval_not_open', async () => payload({ ...baseOrder, interval: ctx.openInterval + 900 }), 'home-01'],
    ['wrong_community', async () => payload({ ...baseOrder, community: communityKey('elsewhere') }), 'home-01'],
    ['price_out_of_range', async () => payload({ ...baseOrder, limitPrice: 2_000_000 }), 'home-01'],
    ['energy_out_of_range', async () => payload({ ...baseOrder, energyWh: 100_001 }), 'home-01'],
  ])('rejects with %s', async (reason, make, agentId) => {
    const verdict = await validateOrderPayload(await make(), agentId, ctx)
    expect(verdict).toMatchObject({ ok: false, reason })
  })

  it('rejects a signature for another chain', async () => {
    const signed = await signOrder(home, baseOrder, 1, settlement)
    expect(await validateOrderPayload(JSON.stringify(signed), 'home-01', ctx)).toMatchObject({ ok: false, reason: 'bad_signature' })
  })
})
