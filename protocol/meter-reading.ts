import { z } from 'zod'
import { addressSchema, bytes32Schema, signatureSchema } from './order.ts'

const uint64Safe = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)

/**
 * What a home's grid connection exported and imported during one interval (docs/architecture.md step 4), as
 * the settlement contract's `MeterReading` struct. A seller is paid only for what its reading shows
 * it exported.
 */
export const meterReadingSchema = z.object({
  owner: addressSchema,
  community: bytes32Schema,
  interval: uint64Safe,
  exportedWh: uint64Safe,
  importedWh: uint64Safe,
})
export type MeterReading = z.infer<typeof meterReadingSchema>

/**
 * Payload of `agents/{agentId}/meter`: a reading signed under the settlement contract's EIP-712
 * domain by the deployment's meter signer (the owner's own key when none is configured).
 */
export const signedMeterReadingSchema = z.object({ reading: meterReadingSchema, signature: signatureSchema })
export type SignedMeterReading = z.infer<typeof signedMeterReadingSchema>

/** EIP-712 type of a meter reading; field order is the contract's METER_READING_TYPEHASH. */
export const meterReadingTypes = {
  MeterReading: [
    { name: 'owner', type: 'address' },
    { name: 'community', type: 'bytes32' },
    { name: 'interval', type: 'uint64' },
    { name: 'exportedWh', type: 'uint64' },
    { name: 'importedWh', type: 'uint64' },
  ],
} as const

/** The reading as viem's typed-data message (uint64 fields as bigint). */
export function meterReadingMessage(reading: MeterReading) {
  return {
    owner: reading.owner,
    community: reading.community,
    interval: BigInt(reading.interval),
    exportedWh: BigInt(reading.exportedWh),
    importedWh: BigInt(reading.importedWh),
  }
}
