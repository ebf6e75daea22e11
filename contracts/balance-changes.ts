import { getAddress, type Address, type Hex } from 'viem'

/** One record of `IntervalSettled.balanceChanges`: an owner and the change of its escrow balance. */
export interface BalanceChange {
  owner: Address
  change: bigint
}

/**
 * Decodes `IntervalSettled.balanceChanges` (owner 20 bytes ‖ int128 change 16 bytes, per fill), so
 * that anyone can rebuild every escrow balance from the contract's events.
 * @example
 * decodeBalanceChanges(log.args.balanceChanges) // [{ owner: '0x…', change: -1500n }, …]
 */
export function decodeBalanceChanges(data: Hex): BalanceChange[] {
  const hex = data.slice(2)
  if (hex.length % 72 !== 0) throw new Error(`balanceChanges of ${hex.length / 2} bytes is not a whole number of 36-byte records`)
  const out: BalanceChange[] = []
  for (let at = 0; at < hex.length; at += 72) {
    out.push({ owner: getAddress(`0x${hex.slice(at, at + 40)}`), change: BigInt.asIntN(128, BigInt(`0x${hex.slice(at + 40, at + 72)}`)) })
  }
  return out
}
