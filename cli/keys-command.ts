import { existsSync, writeFileSync } from 'node:fs'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { VppError } from '../protocol/errors.ts'

/**
 * `vpp keys new --out FILE`: creates the agent's signing key, readable only by its owner (0600),
 * and prints its address. Never overwrites an existing key.
 */
export function keysNewCommand(options: { out: string }): void {
  if (existsSync(options.out)) throw new VppError('VPP_ERR_CONFIG', `${options.out} already exists; refusing to overwrite a key (choose another --out)`)
  const key = generatePrivateKey()
  writeFileSync(options.out, `${key}\n`, { mode: 0o600, flag: 'wx' })
  const address = privateKeyToAccount(key).address
  console.log(JSON.stringify({ address, keyFile: options.out }))
}
