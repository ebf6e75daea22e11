import { keccak_256 } from '@noble/hashes/sha3.js'
import { createKeccak } from 'hash-wasm'

// Keccak-256 in WebAssembly is 6–8× faster than in JavaScript (1.6 µs against 12 µs for an Order
// struct here), which matters when every order is hashed twice on intake and once more on recovery.
const wasm = await createKeccak(256).catch(() => null)

/**
 * Keccak-256 (the Ethereum hash, not NIST SHA3-256) of `bytes`, synchronously: WebAssembly where it
 * is available, @noble/hashes otherwise.
 *
 * @example
 * keccak256Bytes(new TextEncoder().encode('OpenVPP')) // Uint8Array(32)
 */
export function keccak256Bytes(bytes: Uint8Array): Uint8Array {
  if (!wasm) return keccak_256(bytes)
  wasm.init()
  wasm.update(bytes)
  return wasm.digest('binary')
}
