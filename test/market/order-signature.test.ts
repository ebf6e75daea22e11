import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hashTypedData, recoverTypedDataAddress, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { recoverSigner } from '../../market/service/signatures/recover-signer.ts'
import { bytesHex, orderDigester } from '../../protocol/order-digest.ts'
import { communityKey, orderDomain, orderMessage, orderTypes, type Order } from '../../protocol/order.ts'

const settlement = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const u53 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
const arbitraryOrder = fc.record({
  owner: fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => `0x${Buffer.from(b).toString('hex')}` as Hex),
  community: fc.string().map((s) => communityKey(s)),
  interval: u53,
  side: fc.constantFrom<0 | 1>(0, 1),
  energyWh: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  limitPrice: u53,
  nonce: u53,
}) as fc.Arbitrary<Order>

describe('orderDigester', () => {
  it("equals viem's hashTypedData for any order, chain and contract", () => {
    fc.assert(
      fc.property(arbitraryOrder, fc.integer({ min: 1, max: 2 ** 40 }), (order, chainId) => {
        const expected = hashTypedData({ domain: orderDomain(chainId, settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(order) })
        expect(bytesHex(orderDigester(chainId, settlement)(order))).toBe(expected)
      }),
      { numRuns: 200 },
    )
  })
})

describe('recoverSigner (native secp256k1)', () => {
  const account = privateKeyToAccount(generatePrivateKey())
  const order: Order = { owner: account.address, community: communityKey('x'), interval: 1_800_000_000, side: 1, energyWh: 10, limitPrice: 1, nonce: 1 }
  const digest = orderDigester(31337, settlement)(order)

  it('recovers the same address as viem', async () => {
    const { signature } = await signOrder(account, order, 31337, settlement)
    const viaViem = await recoverTypedDataAddress({ domain: orderDomain(31337, settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(order), signature })
    expect(recoverSigner(digest, signature)).toBe(viaViem.toLowerCase())
    expect(viaViem).toBe(account.address)
  })

  it('refuses the malleable high-s twin of a valid signature, and v other than 27/28', async () => {
    const { signature } = await signOrder(account, order, 31337, settlement)
    const r = signature.slice(2, 66)
    const s = BigInt(`0x${signature.slice(66, 130)}`)
    const v = Number.parseInt(signature.slice(130, 132), 16)
    // (r, n − s, flipped v) recovers the same key: valid math, refused on chain (EIP-2).
    const twin = `0x${r}${(N - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`
    expect(recoverSigner(digest, twin)).toBeNull()
    expect(recoverSigner(digest, `0x${signature.slice(2, 130)}${(v - 27).toString(16).padStart(2, '0')}`)).toBeNull()
    expect(recoverSigner(digest, '0x1234')).toBeNull()
  })
})
