/**
 * Worker thread of the signature pool: recovers signers for batches of (digest, signature) pairs.
 * Input: digests (n × 32 bytes) and signatures (n × 65 bytes); output: n × 20 address bytes and a
 * validity flag per pair. Buffers are transferred, not copied.
 */
import { parentPort } from 'node:worker_threads'
import { recoverSignerBytes } from './recover-signer.ts'

parentPort!.on('message', (batch: { id: number; digests: Uint8Array; signatures: Uint8Array }) => {
  const n = batch.digests.length / 32
  const addresses = new Uint8Array(n * 20)
  const valid = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const signer = recoverSignerBytes(batch.digests.subarray(i * 32, i * 32 + 32), batch.signatures.subarray(i * 65, i * 65 + 65))
    if (signer) {
      addresses.set(signer, i * 20)
      valid[i] = 1
    }
  }
  parentPort!.postMessage({ id: batch.id, addresses, valid }, [addresses.buffer, valid.buffer])
})
