import { randomFillSync } from 'node:crypto'
import type { VerifyBatch } from './batch-verifier.ts'
import { addressOfPublicKey, recoverPublicKeyBytes } from './recover-signer.ts'

/** Signatures to check: n digests (32 bytes each), n signatures (65) and n claimed owners (20). */
export interface SignatureBatch {
  digests: Uint8Array
  signatures: Uint8Array
  owners: Uint8Array
}

/** Per signature: the signer's address (20 bytes each) and whether there is one (1) or not (0). */
export interface SignatureVerdicts {
  addresses: Uint8Array<ArrayBuffer>
  valid: Uint8Array<ArrayBuffer>
}

/** Below this many signatures a failed group is recovered one by one rather than halved again. */
const SMALLEST_GROUP = 4

/**
 * Public keys of owners whose signature was recovered before, keyed by address (hex). Only a key
 * that recovered to its claimed owner is kept, so a key here is that owner's key. Bounded: when
 * full it starts over, and owners are simply recovered once more.
 */
export class OwnerKeys {
  private readonly keys = new Map<string, Uint8Array>()
  constructor(private readonly capacity = 200_000) {}
  get(owner: string): Uint8Array | undefined {
    return this.keys.get(owner)
  }
  learn(owner: string, key: Uint8Array): void {
    if (this.keys.size >= this.capacity) this.keys.clear()
    this.keys.set(owner, Uint8Array.from(key))
  }
}

/**
 * Finds each signature's signer. An owner seen before is checked against their known key in one
 * batch verification for all such signatures; a failed batch is halved until the bad signatures are
 * found and recovered one by one (so one forgery costs a few extra batches, not the whole batch's
 * speed-up). First-time owners, and everything when `verifyBatch` is null, are recovered one by one.
 * The result is the same either way: the address ecrecover would return, or invalid.
 */
export function checkSignatures(batch: SignatureBatch, keys: OwnerKeys, verifyBatch: VerifyBatch | null): SignatureVerdicts {
  const n = batch.digests.length / 32
  const addresses = new Uint8Array(n * 20)
  const valid = new Uint8Array(n)
  const ownerHex = (i: number) => Buffer.from(batch.owners.buffer, batch.owners.byteOffset + i * 20, 20).toString('hex')

  const recoverOne = (i: number) => {
    const key = recoverPublicKeyBytes(batch.digests.subarray(i * 32, i * 32 + 32), batch.signatures.subarray(i * 65, i * 65 + 65))
    if (!key) return
    const address = addressOfPublicKey(key)
    addresses.set(address, i * 20)
    valid[i] = 1
    if (Buffer.compare(address, batch.owners.subarray(i * 20, i * 20 + 20)) === 0) keys.learn(ownerHex(i), key)
  }

  const verifyGroup = (group: number[], groupKeys: Uint8Array[]) => {
    if (group.length < SMALLEST_GROUP) return group.forEach(recoverOne)
    const digests = new Uint8Array(group.length * 32)
    const signatures = new Uint8Array(group.length * 65)
    const keyIndex = new Uint32Array(group.length)
    // The same owner's key enters the sum once, with its signatures' weights added up.
    const slots = new Map<Uint8Array, number>()
    group.forEach((i, j) => {
      digests.set(batch.digests.subarray(i * 32, i * 32 + 32), j * 32)
      signatures.set(batch.signatures.subarray(i * 65, i * 65 + 65), j * 65)
      let slot = slots.get(groupKeys[j]!)
      if (slot === undefined) slots.set(groupKeys[j]!, (slot = slots.size))
      keyIndex[j] = slot
    })
    const packedKeys = new Uint8Array(slots.size * 64)
    for (const [key, slot] of slots) packedKeys.set(key, slot * 64)
    if (verifyBatch!(digests, signatures, keyIndex, packedKeys, randomFillSync(new Uint8Array(32)))) {
      for (const i of group) {
        addresses.set(batch.owners.subarray(i * 20, i * 20 + 20), i * 20)
        valid[i] = 1
      }
      return
    }
    const half = group.length >> 1
    verifyGroup(group.slice(0, half), groupKeys.slice(0, half))
    verifyGroup(group.slice(half), groupKeys.slice(half))
  }

  const known: number[] = []
  const knownKeys: Uint8Array[] = []
  for (let i = 0; i < n; i++) {
    const key = verifyBatch ? keys.get(ownerHex(i)) : undefined
    if (key) {
      known.push(i)
      knownKeys.push(key)
    } else recoverOne(i)
  }
  if (known.length) verifyGroup(known, knownKeys)
  return { addresses, valid }
}
