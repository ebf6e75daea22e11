import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Address } from 'viem'
import { bytesHex } from '../../protocol/order-digest.ts'
import { batchVerifier } from './batch-verifier.ts'

interface Pending {
  digest: Uint8Array
  signature: string
  owner: Address
  resolve: (signer: Address | null) => void
  reject: (error: Error) => void
}

/** Larger batches verify faster per signature (the multi-multiplication amortises) but wait longer. */
const MAX_BATCH = 512

export interface SignaturePoolOptions {
  /** Worker threads; one per core by default. */
  size?: number
  /** Batch verification against known keys when the native verifier is built (default true). */
  batch?: boolean
}

/**
 * Finds signers on worker threads, so signature checks use every core and never block the
 * market's event loop. Requests are batched per tick and spread over the least-busy worker, which
 * batch-verifies owners it has seen before and recovers the rest (signature-batch.ts).
 */
export class SignaturePool {
  /** Whether signatures of known owners are batch-verified (native verifier built and enabled). */
  readonly batching: boolean
  private readonly workers: { worker: Worker; inFlight: Map<number, Pending[]> }[] = []
  private queue: Pending[] = []
  private scheduled = false
  private nextId = 1

  constructor({ size = Math.max(1, availableParallelism()), batch = true }: SignaturePoolOptions = {}) {
    this.batching = batch && batchVerifier().available
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./signature-worker-bootstrap.mjs', import.meta.url), { workerData: { batch } })
      const entry = { worker, inFlight: new Map<number, Pending[]>() }
      worker.on('message', (m: { id: number; addresses: Uint8Array; valid: Uint8Array }) => {
        const batch = entry.inFlight.get(m.id)!
        entry.inFlight.delete(m.id)
        if (entry.inFlight.size === 0) worker.unref()
        batch.forEach((p, i) => p.resolve(m.valid[i] ? (bytesHex(m.addresses.subarray(i * 20, i * 20 + 20)) as Address) : null))
      })
      const failAll = (error: Error) => {
        for (const batch of entry.inFlight.values()) for (const p of batch) p.reject(error)
        entry.inFlight.clear()
      }
      worker.on('error', failAll)
      worker.on('exit', (code) => failAll(new Error(`signature worker exited with code ${code}`)))
      worker.unref()
      this.workers.push(entry)
    }
  }

  /**
   * The address that signed `digest`, or null for a malformed or malleable signature; `owner` is who
   * claims to have signed, whose known key lets the worker verify instead of recover.
   */
  recover(digest: Uint8Array, signature: string, owner: Address): Promise<Address | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ digest, signature, owner, resolve, reject })
      // A full batch goes at once, so workers start while this thread is still parsing the rest of a burst.
      if (this.queue.length >= MAX_BATCH) this.send(this.queue.splice(0, MAX_BATCH))
      else if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.flush())
      }
    })
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }

  private flush(): void {
    this.scheduled = false
    while (this.queue.length) this.send(this.queue.splice(0, MAX_BATCH))
  }

  private send(batch: Pending[]): void {
    const digests = new Uint8Array(batch.length * 32)
    const signatures = Buffer.alloc(batch.length * 65)
    const owners = Buffer.alloc(batch.length * 20)
    batch.forEach((p, i) => {
      digests.set(p.digest, i * 32)
      // Hex straight into the batch. A malformed signature or owner is written short and zeroed,
      // and zeros are refused like any bad signature.
      if (p.signature.length !== 132 || signatures.write(p.signature.slice(2), i * 65, 65, 'hex') !== 65) signatures.fill(0, i * 65, i * 65 + 65)
      if (p.owner.length !== 42 || owners.write(p.owner.slice(2), i * 20, 20, 'hex') !== 20) owners.fill(0, i * 20, i * 20 + 20)
    })
    const target = this.workers.reduce((a, b) => (pendingOf(b) < pendingOf(a) ? b : a))
    const id = this.nextId++
    target.inFlight.set(id, batch)
    // An idle pool must not keep the process alive, but a caller awaiting a reply must.
    target.worker.ref()
    target.worker.postMessage({ id, digests, signatures, owners }, [digests.buffer, signatures.buffer as ArrayBuffer, owners.buffer as ArrayBuffer])
  }
}

function pendingOf(entry: { inFlight: Map<number, Pending[]> }): number {
  let n = 0
  for (const batch of entry.inFlight.values()) n += batch.length
  return n
}
