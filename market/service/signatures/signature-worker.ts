/**
 * Worker thread of the signature pool: hashes batches of encoded orders into their EIP-712 digests and
 * finds the signers of (digest, signature, claimed owner), by batch verification against owners'
 * known keys where the native verifier is built and by recovery otherwise (signature-batch.ts).
 * Buffers are transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { batchVerifier } from './batch-verifier.ts'
import { digestOfStruct, ORDER_STRUCT_BYTES } from '../../../protocol/order-digest.ts'
import { checkSignatures, OwnerKeys } from './signature-batch.ts'

const native = batchVerifier()
const verifyBatch = (workerData as { batch?: boolean } | undefined)?.batch !== false && native.available ? native.verifyBatch : null
/** The whole batch's digests in one native call where the addon is built, else order by order. */
const hashOrders = native.available
  ? native.hashOrders
  : (structs: Uint8Array, prefix: Uint8Array): Uint8Array<ArrayBuffer> => {
      const n = structs.length / ORDER_STRUCT_BYTES
      const digests = new Uint8Array(n * 32)
      for (let i = 0; i < n; i++) digests.set(digestOfStruct(structs.subarray(i * ORDER_STRUCT_BYTES, (i + 1) * ORDER_STRUCT_BYTES), prefix), i * 32)
      return digests
    }
const keys = new OwnerKeys()

type SignedBatch = {
  id: number
  signatures: Uint8Array
  owners: Uint8Array
} & (
  | {
      /** n encoded orders (ORDER_STRUCT_BYTES each), hashed under `prefix` (0x1901 ‖ domain separator). */
      structs: Uint8Array
      prefix: Uint8Array
    }
  /** Digests the caller worked out (meter readings). */
  | { digests: Uint8Array }
)

parentPort!.on('message', (batch: SignedBatch) => {
  const digests = 'digests' in batch ? batch.digests : hashOrders(batch.structs, batch.prefix)
  const { addresses, valid } = checkSignatures({ digests, signatures: batch.signatures, owners: batch.owners }, keys, verifyBatch)
  parentPort!.postMessage({ id: batch.id, addresses, valid, digests }, [addresses.buffer, valid.buffer, digests.buffer as ArrayBuffer])
})
