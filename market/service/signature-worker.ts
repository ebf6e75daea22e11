/**
 * Worker thread of the signature pool: finds the signers of batches of (digest, signature, claimed
 * owner), by batch verification against owners' known keys where the native verifier is built and
 * by recovery otherwise (signature-batch.ts). Buffers are transferred, not copied.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { batchVerifier } from './batch-verifier.ts'
import { checkSignatures, OwnerKeys, type SignatureBatch } from './signature-batch.ts'

const native = batchVerifier()
const verifyBatch = (workerData as { batch?: boolean } | undefined)?.batch !== false && native.available ? native.verifyBatch : null
const keys = new OwnerKeys()

parentPort!.on('message', (batch: SignatureBatch & { id: number }) => {
  const { addresses, valid } = checkSignatures(batch, keys, verifyBatch)
  parentPort!.postMessage({ id: batch.id, addresses, valid }, [addresses.buffer, valid.buffer])
})
