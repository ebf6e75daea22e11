import type { Address, LocalAccount } from 'viem'
import { orderDomain, orderMessage, orderTypes, type Order, type SignedOrder } from '../protocol/order.ts'

/**
 * Signs an order with the agent's own key under the settlement contract's EIP-712 domain.
 * @example
 * const signed = await signOrder(account, order, 31337, settlementAddress)
 */
export async function signOrder(account: LocalAccount, order: Order, chainId: number, settlement: Address): Promise<SignedOrder> {
  const signature = await account.signTypedData({ domain: orderDomain(chainId, settlement), types: orderTypes, primaryType: 'Order', message: orderMessage(order) })
  return { order, signature }
}
