import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Address } from 'viem'
import { bytesHex, hexBytes } from '../../protocol/order-digest.ts'

interface Pending {
  digest: Uint8Array
  signature: string
  resolve: (signer: Address | null) => void
  reject: (error: Error) => void
}

const MAX_BATCH = 256

/**
 * Recovers signers on worker threads, so signature checks use every core and never block the
 * market's event loop. Requests are batched per tick and spread over the least-busy worker.
 */
export class SignaturePool {
  private readonly workers: { worker: Worker; inFlight: Map<number, Pending[]> }[] = []
  private queue: Pending[] = []
  private scheduled = false
  private nextId = 1

  constructor(size = Math.max(1, availableParallelism())) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./signature-worker-bootstrap.mjs', import.meta.url))
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

  recover(digest: Uint8Array, signature: string): Promise<Address | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ digest, signature, resolve, reject })
      if (!this.scheduled) {
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
    while (this.queue.length) {
      const batch = this.queue.splice(0, MAX_BATCH)
      const digests = new Uint8Array(batch.length * 32)
      const signatures = new Uint8Array(batch.length * 65)
      batch.forEach((p, i) => {
        digests.set(p.digest, i * 32)
        // A malformed signature becomes zeros, which the worker refuses like any bad signature.
        const sig = /^0x[0-9a-fA-F]{130}$/.test(p.signature) ? hexBytes(p.signature) : new Uint8Array(65)
        signatures.set(sig, i * 65)
      })
      const target = this.workers.reduce((a, b) => (pendingOf(b) < pendingOf(a) ? b : a))
      const id = this.nextId++
      target.inFlight.set(id, batch)
      // An idle pool must not keep the process alive, but a caller awaiting a reply must.
      target.worker.ref()
      target.worker.postMessage({ id, digests, signatures }, [digests.buffer, signatures.buffer])
    }
  }
}

function pendingOf(entry: { inFlight: Map<number, Pending[]> }): number {
  let n = 0
  for (const batch of entry.inFlight.values()) n += batch.length
  return n
}
