import type { Address, LocalAccount } from 'viem'
import { meterReadingMessage, meterReadingTypes, type MeterReading, type SignedMeterReading } from '../protocol/meter-reading.ts'
import { orderDomain } from '../protocol/order.ts'

/**
 * Signs a meter reading under the settlement contract's EIP-712 domain, with the agent's key (or, in
 * a deployment with a meter data hub, the hub's).
 * @example
 * const signed = await signMeterReading(account, { owner, community, interval, exportedWh: 120, importedWh: 0 }, 31337, settlement)
 */
export async function signMeterReading(account: LocalAccount, reading: MeterReading, chainId: number, settlement: Address): Promise<SignedMeterReading> {
  const signature = await account.signTypedData({ domain: orderDomain(chainId, settlement), types: meterReadingTypes, primaryType: 'MeterReading', message: meterReadingMessage(reading) })
  return { reading, signature }
}
