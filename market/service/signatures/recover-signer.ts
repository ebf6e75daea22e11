import { createRequire } from 'node:module'
import { keccak256Bytes } from '../../../protocol/keccak.ts'
import type { Address } from 'viem'
import { bytesHex, hexBytes } from '../../../protocol/order-digest.ts'

const require = createRequire(import.meta.url)
// The native libsecp256k1 binding (prebuilt in the package); the package itself falls back to pure JS
// where no binary exists, so this works everywhere and is fast where it can be.
const secp256k1 = require('secp256k1') as { ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array }

/** secp256k1 group order / 2, big-endian: a larger `s` is the malleable twin of a valid signature (EIP-2). */
const HALF_N = Buffer.from('7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0', 'hex')

/**
 * The address that signed `digest` with a 65-byte `r ‖ s ‖ v` signature, or null when the signature
 * is malformed or malleable (high s), exactly as OpenZeppelin's `ECDSA.recover` decides on chain.
 */
export function recoverSigner(digest: Uint8Array, signature: string): Address | null {
  const publicKey = recoverPublicKeyBytes(digest, hexBytes(signature))
  return publicKey ? (bytesHex(addressOfPublicKey(publicKey)) as Address) : null
}

/** The signer's public key as 64 bytes x ‖ y, under the same rules as `recoverSigner`, or null. */
export function recoverPublicKeyBytes(digest: Uint8Array, sig: Uint8Array): Uint8Array | null {
  if (sig.length !== 65) return null
  // Only 27 and 28: the ecrecover precompile refuses 0/1, so such a signature could never settle.
  const v = sig[64]!
  if (v !== 27 && v !== 28) return null
  const recid = v - 27
  const s = Buffer.from(sig.buffer, sig.byteOffset + 32, 32)
  if (Buffer.compare(s, HALF_N) > 0 || s.every((b) => b === 0)) return null
  try {
    return secp256k1.ecdsaRecover(sig.subarray(0, 64), recid, digest, false).subarray(1)
  } catch {
    return null
  }
}

/** The Ethereum address (20 bytes) of a 64-byte public key x ‖ y. */
export function addressOfPublicKey(publicKey: Uint8Array): Uint8Array {
  return keccak256Bytes(publicKey).subarray(12)
}
