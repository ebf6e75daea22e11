import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto'

/** scrypt parameters (N=2^14, r=8, p=1): about 30 ms per check, the mosquitto_passwd class of cost. */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 }

/**
 * Hashes a password for the users file: `scrypt$N$r$p$salt$hash` (base64). Plain text is never stored.
 * `cost` (N) can be lowered for throwaway users such as a benchmark's; the format records it.
 * @example hashPassword('s3cret') // 'scrypt$16384$8$1$...'
 */
export function hashPassword(password: string, cost = SCRYPT.N): string {
  const salt = randomBytes(16)
  const hash = scryptSync(password, salt, SCRYPT.keyLength, { N: cost, r: SCRYPT.r, p: SCRYPT.p })
  return ['scrypt', cost, SCRYPT.r, SCRYPT.p, salt.toString('base64'), hash.toString('base64')].join('$')
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
    scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: 256 * 1024 * 1024 }, (error, key) => (error ? reject(error) : resolve(key))),
  )
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}
