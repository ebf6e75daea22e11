import type { LocalAccount } from 'viem'
import { escrowQueryMessage, escrowViewSchema } from '../protocol/api.ts'

/** The owner's own view of its escrow at the market, in base units. */
export interface OwnEscrow {
  openOrders: bigint
  unsettledTrades: bigint
  /** What new orders can still be backed by, as the market's intake counts it. */
  free: bigint
  imbalancePrice: number
}

/**
 * Asks the market (`GET /api/escrow/{owner}`) what the owner's escrow holds and has free, with a query
 * signed by the owner's key, since what sealed open orders hold is shown only to their owner.
 * Throws, saying what went wrong, when the market cannot be reached or answers with something else.
 */
export async function fetchOwnEscrow(marketUrl: string, account: LocalAccount, timeoutMs = 5000): Promise<OwnEscrow> {
  const at = Math.floor(Date.now() / 1000)
  const signature = await account.signMessage({ message: escrowQueryMessage(account.address, at) })
  const url = `${marketUrl.replace(/\/+$/, '')}/api/escrow/${account.address}?at=${at}&signature=${signature}`
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  const body: unknown = await response.json().catch(() => null)
  if (!response.ok) {
    const message = body && typeof body === 'object' && 'message' in body ? String(body.message) : `HTTP ${response.status}`
    throw new Error(`the market at ${marketUrl} refused the escrow query: ${message}`)
  }
  const view = escrowViewSchema.safeParse(body)
  if (!view.success) throw new Error(`the market at ${marketUrl} answered the escrow query with something else: ${view.error.issues[0]?.message ?? 'unreadable'}`)
  const { openOrdersBaseUnits, freeBaseUnits, unsettledTradesBaseUnits, imbalancePrice } = view.data
  if (openOrdersBaseUnits === null || freeBaseUnits === null) throw new Error(`the market at ${marketUrl} did not accept the owner's signature on the escrow query`)
  return { openOrders: BigInt(openOrdersBaseUnits), unsettledTrades: BigInt(unsettledTradesBaseUnits), free: BigInt(freeBaseUnits), imbalancePrice }
}
