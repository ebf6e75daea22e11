import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { Address } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { signOrder } from '../../edge-agent/order-signer.ts'
import { batchVerifier, type VerifyBatch } from '../../market/service/signatures/batch-verifier.ts'
import { recoverSigner } from '../../market/service/signatures/recover-signer.ts'
import { checkSignatures, OwnerKeys } from '../../market/service/signatures/signature-batch.ts'
import { SignaturePool } from '../../market/service/signatures/signature-pool.ts'
import { hashTypedData } from 'viem'
import { bytesHex, digestOfStruct, digestPrefix, encodeOrderStruct, hexBytes, ORDER_STRUCT_BYTES, orderDigester } from '../../protocol/order-digest.ts'
import { communityKey, orderDomain, orderMessage, orderTypes, type Order } from '../../protocol/order.ts'

const secp256k1 = createRequire(import.meta.url)('secp256k1') as {
  ecdsaSign(msg32: Uint8Array, key: Uint8Array): { signature: Uint8Array; recid: number }
  publicKeyCreate(key: Uint8Array, compressed: boolean): Uint8Array
}
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
const settlement = '0x5FbDB2315678afecb367f032d93F642f64180aa3'

const signers = Array.from({ length: 6 }, (_, k) => {
  const key = hexBytes(generatePrivateKey())
  const account = privateKeyToAccount(bytesHex(key))
  return { key, publicKey: secp256k1.publicKeyCreate(key, false).subarray(1), owner: hexBytes(account.address), address: account.address.toLowerCase() as Address, k }
})

interface Signed { digest: Uint8Array; signature: Uint8Array; signer: number }
function sign(signer: number, digest: Uint8Array = randomBytes(32)): Signed {
  const { signature, recid } = secp256k1.ecdsaSign(digest, signers[signer]!.key)
  return { digest, signature: Uint8Array.from([...signature, 27 + recid]), signer }
}

/** The ways a signature can be wrong; each must fail the batch it is in. */
const tamperings: Record<string, (s: Signed) => Signed> = {
  'v flipped': (s) => ({ ...s, signature: Uint8Array.from([...s.signature.subarray(0, 64), s.signature[64] === 27 ? 28 : 27]) }),
  'v is 0/1': (s) => ({ ...s, signature: Uint8Array.from([...s.signature.subarray(0, 64), s.signature[64]! - 27]) }),
  'high-s twin (valid math, refused on chain)': (s) => {
    const high = N - BigInt(bytesHex(s.signature.subarray(32, 64)))
    return { ...s, signature: Uint8Array.from([...s.signature.subarray(0, 32), ...hexBytes(`0x${high.toString(16).padStart(64, '0')}`), s.signature[64] === 27 ? 28 : 27]) }
  },
  'digest changed': (s) => ({ ...s, digest: Uint8Array.from(s.digest, (b, i) => (i === 31 ? b ^ 1 : b)) }),
  'r is zero': (s) => ({ ...s, signature: Uint8Array.from(s.signature, (b, i) => (i < 32 ? 0 : b)) }),
  's is zero': (s) => ({ ...s, signature: Uint8Array.from(s.signature, (b, i) => (i >= 32 && i < 64 ? 0 : b)) }),
  'r above the group order': (s) => ({ ...s, signature: Uint8Array.from(s.signature, (b, i) => (i < 32 ? 0xff : b)) }),
  'signed by someone else': (s) => ({ ...sign((s.signer + 1) % signers.length, s.digest), signer: s.signer }),
}

function pack(items: Signed[]) {
  const digests = new Uint8Array(items.length * 32)
  const signatures = new Uint8Array(items.length * 65)
  const owners = new Uint8Array(items.length * 20)
  const keyIndex = new Uint32Array(items.length)
  items.forEach((s, i) => {
    digests.set(s.digest, i * 32)
    signatures.set(s.signature, i * 65)
    owners.set(signers[s.signer]!.owner, i * 20)
    keyIndex[i] = s.signer
  })
  const keys = new Uint8Array(signers.length * 64)
  signers.forEach((s, k) => keys.set(s.publicKey, k * 64))
  return { digests, signatures, owners, keyIndex, keys }
}

const native = batchVerifier()

describe('native batch verification (market/native/batch-verify.c)', () => {
  it('is built by npm run build', () => {
    expect(native.available ? 'built' : native.reason).toBe('built')
  })
  const verifyBatch = (native.available ? native.verifyBatch : null) as VerifyBatch
  const run = (items: Signed[]) => {
    const p = pack(items)
    return verifyBatch(p.digests, p.signatures, p.keyIndex, p.keys, randomBytes(32))
  }

  it('accepts a batch of valid signatures from several signers, and an empty batch', () => {
    expect(run(Array.from({ length: 40 }, (_, i) => sign(i % signers.length)))).toBe(true)
    expect(run([])).toBe(true)
  })

  for (const [name, tamper] of Object.entries(tamperings)) {
    it(`refuses a batch with one signature wrong: ${name}`, () => {
      const items = Array.from({ length: 24 }, (_, i) => sign(i % signers.length))
      items[11] = tamper(items[11]!)
      expect(run(items)).toBe(false)
    })
  }

  it('at the size the pool sends (larger Pippenger windows): accepts 600 valid, refuses one bad among them', () => {
    const items = Array.from({ length: 600 }, (_, i) => sign(i % signers.length))
    expect(run(items)).toBe(true)
    items[599] = tamperings['digest changed']!(items[599]!)
    expect(run(items)).toBe(false)
  })

  it('refuses a public key that is not on the curve', () => {
    const p = pack([sign(0), sign(1)])
    p.keys[5]! ^= 1
    expect(verifyBatch(p.digests, p.signatures, p.keyIndex, p.keys, randomBytes(32))).toBe(false)
  })

  it('says which lengths it needs', () => {
    const p = pack([sign(0)])
    expect(() => verifyBatch(p.digests, p.signatures.subarray(1), p.keyIndex, p.keys, randomBytes(32))).toThrow(/lengths must be n×32, n×65/)
    expect(() => (verifyBatch as unknown as (...a: unknown[]) => boolean)(p.digests)).toThrow(/takes typed arrays/)
  })
})

describe('native batch hashing of orders (hashOrders)', () => {
  const hashOrders = native.available ? native.hashOrders : null
  const prefix = digestPrefix(31337, settlement)

  it('gives every order the EIP-712 digest viem gives it', () => {
    const orders: Order[] = Array.from({ length: 40 }, (_, i) => ({
      owner: signers[i % signers.length]!.address,
      community: communityKey(`c${i % 3}`),
      interval: 1_800_000_000 + i * 900,
      side: (i % 2) as 0 | 1,
      energyWh: 1 + i * 977,
      limitPrice: i * 12_345,
      nonce: Number.MAX_SAFE_INTEGER - i,
    }))
    const structs = Buffer.alloc(orders.length * ORDER_STRUCT_BYTES)
    orders.forEach((order, i) => encodeOrderStruct(order, structs, i * ORDER_STRUCT_BYTES))
    const digests = hashOrders!(structs, prefix)
    orders.forEach((order, i) => {
      const viem = hashTypedData({ domain: orderDomain(31337, settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(order) })
      expect(bytesHex(digests.subarray(i * 32, i * 32 + 32))).toBe(viem)
    })
  })

  it('equals the TypeScript hash for any bytes, and an empty batch is empty', () => {
    fc.assert(
      // Whole structs (fast-check's default size would keep a free length far below one).
      fc.property(fc.integer({ min: 0, max: 6 }).chain((n) => fc.uint8Array({ minLength: n * ORDER_STRUCT_BYTES, maxLength: n * ORDER_STRUCT_BYTES })), (structs) => {
        const digests = hashOrders!(structs, prefix)
        expect(digests.length).toBe((structs.length / ORDER_STRUCT_BYTES) * 32)
        for (let i = 0; i * ORDER_STRUCT_BYTES < structs.length; i++) {
          expect(digests.subarray(i * 32, i * 32 + 32)).toEqual(digestOfStruct(structs.subarray(i * ORDER_STRUCT_BYTES, (i + 1) * ORDER_STRUCT_BYTES), prefix))
        }
      }),
      { numRuns: 100 },
    )
  })

  it('says which lengths it needs', () => {
    expect(() => hashOrders!(new Uint8Array(255), prefix)).toThrow(/n×256 and 34 bytes/)
    expect(() => hashOrders!(new Uint8Array(256), prefix.subarray(1))).toThrow(/n×256 and 34 bytes/)
  })
})

describe('checkSignatures: batch verification gives what recovery gives, signature by signature', () => {
  const verifyBatch = native.available ? native.verifyBatch : null
  const tamperNames = Object.keys(tamperings)
  // A batch of mostly valid signatures with a few tampered ones (so bad ones sit in groups of good ones) from a handful of owners, known or not yet seen.
  const arbitraryBatch = fc.array(
    fc.record({ signer: fc.integer({ min: 0, max: signers.length - 1 }), tamper: fc.oneof({ arbitrary: fc.constant(null), weight: 10 }, { arbitrary: fc.constantFrom(...tamperNames), weight: 1 }) }),
    { minLength: 1, maxLength: 48, size: 'max' },
  )

  it('for any mix of valid and bad signatures, with and without the native verifier', () => {
    fc.assert(
      fc.property(arbitraryBatch, fc.integer({ min: 0, max: signers.length }), (specs, knownOwners) => {
        const items = specs.map(({ signer, tamper }) => (tamper ? tamperings[tamper]!(sign(signer)) : sign(signer)))
        const p = pack(items)
        const expected = items.map((s) => recoverSigner(s.digest, bytesHex(s.signature)))
        for (const verifier of [verifyBatch, null]) {
          const keys = new OwnerKeys()
          // Some owners signed before: their keys are known, so their signatures are batch-verified.
          for (const s of signers.slice(0, knownOwners)) checkSignatures(pack([sign(s.k)]), keys, verifier)
          const { addresses, valid } = checkSignatures(p, keys, verifier)
          const got = items.map((_, i) => (valid[i] ? bytesHex(addresses.subarray(i * 20, i * 20 + 20)) : null))
          expect(got).toEqual(expected)
        }
      }),
      { numRuns: 60 },
    )
  })

  it('learns an owner only from a signature that recovers to that owner', () => {
    const keys = new OwnerKeys()
    checkSignatures(pack([tamperings['signed by someone else']!(sign(0))]), keys, verifyBatch)
    expect(keys.get(bytesHex(signers[0]!.owner).slice(2))).toBeUndefined()
    checkSignatures(pack([sign(0)]), keys, verifyBatch)
    expect(keys.get(bytesHex(signers[0]!.owner).slice(2))).toEqual(Uint8Array.from(signers[0]!.publicKey))
  })
})

describe('SignaturePool (worker threads)', () => {
  const pools = [new SignaturePool({ size: 2 }), new SignaturePool({ size: 2, batch: false })]
  afterAll(() => Promise.all(pools.map((p) => p.close())))

  it('batches when the native verifier is built, and only when asked to', () => {
    expect(pools.map((p) => p.batching)).toEqual([native.available, false])
  })

  it('finds the signer of real signed orders, including a forgery among orders of known owners', async () => {
    const accounts = Array.from({ length: 5 }, () => privateKeyToAccount(generatePrivateKey()))
    const digestOf = orderDigester(31337, settlement)
    const prefix = digestPrefix(31337, settlement)
    const orders = await Promise.all(Array.from({ length: 60 }, (_, i) => {
      const account = accounts[i % accounts.length]!
      return signOrder(account, { owner: account.address, community: communityKey('pool'), interval: 1_800_000_000, side: (i % 2) as 0 | 1, energyWh: 10 + i, limitPrice: 100_000, nonce: i }, 31337, settlement)
    }))
    // Order 33 claims accounts[3] but is signed by accounts[4]: a forgery in a batch of owners whose keys the pool knows.
    const forged = await signOrder(accounts[4]!, orders[33]!.order, 31337, settlement)
    for (const pool of pools) {
      // The first round teaches the workers the owners' keys; the second is batch-verified.
      for (const round of [orders.slice(0, 10), orders.map((o, i) => (i === 33 ? forged : o))]) {
        const results = await Promise.all(round.map((o) => pool.recoverOrder(o.order, o.signature, prefix)))
        expect(results.map((r) => r.signer)).toEqual(round.map((o) => recoverSigner(digestOf(o.order), o.signature)))
        // The workers hash each order to the same digest as this thread (and viem, see orderDigester's test).
        expect(results.map((r) => bytesHex(r.digest))).toEqual(round.map((o) => bytesHex(digestOf(o.order))))
      }
      const bad = await pool.recoverOrder(forged.order, forged.signature, prefix)
      expect(bad.signer).toBe(accounts[4]!.address.toLowerCase())
      // An order that could not be encoded (never past the intake's schema) fails alone, not its batch.
      const [broken, fine] = await Promise.allSettled([pool.recoverOrder({ ...orders[1]!.order, owner: '0xnot-hex' as Address }, orders[1]!.signature, prefix), pool.recoverOrder(orders[2]!.order, orders[2]!.signature, prefix)])
      expect(broken.status === 'rejected' && String(broken.reason)).toMatch(/owner must be 20 and community 32 bytes of hex/)
      expect(fine.status === 'fulfilled' && fine.value.signer).toBe(accounts[2]!.address.toLowerCase())
    }
  })
})
