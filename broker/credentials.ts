import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'

/**
 * scrypt parameters for new hashes (N=2^17, r=8, p=1: 128 MiB and most of a second per check here),
 * as OWASP advises for passwords people choose. Hashes record their own parameters, so older ones
 * (N=2^14) still verify; `vpp broker adduser` writes the new cost.
 */
export const SCRYPT = { N: 131_072, r: 8, p: 1, keyLength: 32 }
const MAX_MEMORY = 256 * 1024 * 1024

/**
 * Hashes a password for the users file: `scrypt$N$r$p$salt$hash` (base64). Plain text is never stored.
 * `cost` (N) can be lowered for throwaway users such as a benchmark's; the format records it.
 * @example hashPassword('s3cret') // 'scrypt$131072$8$1$...'
 */
export function hashPassword(password: string, cost = SCRYPT.N): string {
  const salt = randomBytes(16)
  return encodeHash(cost, salt, scryptSync(password, salt, SCRYPT.keyLength, { N: cost, r: SCRYPT.r, p: SCRYPT.p, maxmem: MAX_MEMORY }))
}

/**
 * Checks a password against a `hashPassword` string in constant time. Asynchronous: scrypt runs on
 * libuv's thread pool, so a storm of reconnecting agents never blocks the broker's event loop.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64')
  const actual = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: MAX_MEMORY }, (error, key) => (error ? reject(error) : resolve(key))),
  )
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** The scrypt cost (N) a `hashPassword` string records; 0 when it is not one. */
export function hashCost(encoded: string): number {
  const [scheme, n] = encoded.split('$')
  return scheme === 'scrypt' ? Number(n) || 0 : 0
}

/** `hashPassword` on libuv's thread pool, for a service that must not stall while it hashes. */
export async function hashPasswordAsync(password: string, cost = SCRYPT.N): Promise<string> {
  const salt = randomBytes(16)
  const hash = await new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, SCRYPT.keyLength, { N: cost, r: SCRYPT.r, p: SCRYPT.p, maxmem: MAX_MEMORY }, (error, key) => (error ? reject(error) : resolve(key))),
  )
  return encodeHash(cost, salt, hash)
}

function encodeHash(cost: number, salt: Buffer, hash: Buffer): string {
  return ['scrypt', cost, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$')
}
