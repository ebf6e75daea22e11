import { nativeAddon } from '../../../platform/native-addon.ts'

/**
 * `verifyBatch(digests n×32, signatures n×65 (r ‖ s ‖ v), keyIndex n, keys m×64 (x ‖ y), seed 32)`:
 * true when every signature i is valid for keys[keyIndex[i]] exactly as ecrecover would return that
 * key (v 27/28, 0 < r, s < n, s ≤ n/2). One multi-scalar multiplication for the whole batch, with
 * random weights from `seed` (see market/native/batch-verify.c).
 */
export type VerifyBatch = (digests: Uint8Array, signatures: Uint8Array, keyIndex: Uint32Array, keys: Uint8Array, seed: Uint8Array) => boolean

/**
 * `hashOrders(structs n×256, prefix 34)`: the n orders' EIP-712 digests (n×32), each
 * keccak256(prefix ‖ keccak256(struct)), as `digestOfStruct` computes them one at a time.
 */
export type HashOrders = (structs: Uint8Array, prefix: Uint8Array) => Uint8Array<ArrayBuffer>

export type BatchVerifierStatus = { available: true; verifyBatch: VerifyBatch; hashOrders: HashOrders } | { available: false; reason: string }

/** The native batch verifier (and batch order hasher) built by `npm run build:native`, or why it is not there. */
export function batchVerifier(): BatchVerifierStatus {
  const status = nativeAddon<{ verifyBatch: VerifyBatch; hashOrders: HashOrders }>('batch_verify')
  return status.available ? { available: true, verifyBatch: status.addon.verifyBatch, hashOrders: status.addon.hashOrders } : status
}
