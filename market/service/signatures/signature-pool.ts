import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Address } from 'viem'
import type { Order } from '../../../protocol/order.ts'
import { bytesHex, encodeOrderStruct, ORDER_STRUCT_BYTES } from '../../../protocol/order-digest.ts'
import { batchVerifier } from './batch-verifier.ts'
import { TurnBatch } from '../../../platform/turn-batch.ts'

/** An order's signer (null for a malformed or malleable signature) and its EIP-712 digest. */
export interface OrderSignature {
  signer: Address | null
  digest: Uint8Array
}

interface WorkerEntry {
  worker: Worker
  inFlight: Map<number, Pending[]>
  /** Each in-flight batch's deadline. */
  deadlines: Map<number, NodeJS.Timeout>
}

interface Pending {
  order: Order
  signature: string
  prefix: Uint8Array
  resolve: (result: OrderSignature) => void
  reject: (error: Error) => void
}

/** Larger batches verify faster per signature (the multi-multiplication amortises) but wait longer. */
const MAX_BATCH = 512

export interface SignaturePoolOptions {
  /** Worker threads; one per core by default. */
  size?: number
  /** Batch verification against known keys when the native verifier is built (default true). */
  batch?: boolean
  /** A batch a worker has not answered in this long is failed, so no order waits forever (default 10 s). */
  timeoutMs?: number
  /** The worker's script; the signature worker unless a test needs one that hangs. */
  workerScript?: URL
}

/**
 * Finds the signers of orders on worker threads, so signature checks use every core and never block
 * the market's event loop. Requests are batched per turn of the event loop (turn-batch.ts) and spread
 * over the least-busy worker, which hashes each order (its EIP-712 digest: two Keccak-256, kept off
 * the main thread, which is what limits intake) and batch-verifies owners it has seen before and
 * recovers the rest (signature-batch.ts).
 */
export class SignaturePool {
  /** Whether signatures of known owners are batch-verified (native verifier built and enabled). */
  readonly batching: boolean
  private readonly workers: WorkerEntry[] = []
  // A full batch goes at once, so workers start while this thread is still parsing the rest of a burst.
  private readonly queue = new TurnBatch<Pending>((batch) => this.send(batch), (batch) => batch.length >= MAX_BATCH)
  private nextId = 1

  constructor({ size = Math.max(1, availableParallelism()), batch = true, timeoutMs = 10_000, workerScript = new URL('./signature-worker-bootstrap.mjs', import.meta.url) }: SignaturePoolOptions = {}) {
    this.batching = batch && batchVerifier().available
    this.timeoutMs = timeoutMs
    this.workerScript = workerScript
    for (let i = 0; i < size; i++) this.workers.push(this.spawn(batch))
  }

  /** Workers started to replace ones that died. */
  replaced = 0
  private readonly timeoutMs: number
  private readonly workerScript: URL
  private closing = false

  private spawn(batch: boolean): WorkerEntry {
    const worker = new Worker(this.workerScript, { workerData: { batch } })
    const entry: WorkerEntry = { worker, inFlight: new Map(), deadlines: new Map() }
    worker.on('message', (m: { id: number; addresses: Uint8Array; valid: Uint8Array; digests: Uint8Array }) => {
      const pending = entry.inFlight.get(m.id)
      if (!pending) return // timed out already
      entry.inFlight.delete(m.id)
      clearTimeout(entry.deadlines.get(m.id))
      entry.deadlines.delete(m.id)
      if (entry.inFlight.size === 0) worker.unref()
      pending.forEach((p, i) =>
        p.resolve({ signer: m.valid[i] ? (bytesHex(m.addresses.subarray(i * 20, i * 20 + 20)) as Address) : null, digest: m.digests.subarray(i * 32, i * 32 + 32) }),
      )
    })
    const failAll = (error: Error) => {
      for (const pending of entry.inFlight.values()) for (const p of pending) p.reject(error)
      entry.inFlight.clear()
      for (const timer of entry.deadlines.values()) clearTimeout(timer)
      entry.deadlines.clear()
    }
    worker.on('error', failAll)
    worker.on('exit', (code) => {
      failAll(new Error(`signature worker exited with code ${code}`))
      // A dead worker leaves the pool; a new one takes its place, so later orders are still answered.
      const at = this.workers.indexOf(entry)
      if (at >= 0 && !this.closing) {
        this.workers[at] = this.spawn(batch)
        this.replaced++
      }
    })
    worker.unref()
    return entry
  }

  /**
   * The signer of `order` and its digest under `prefix` (`digestPrefix(chainId, settlement)`, the
   * same array for every order of a market); the order's owner is who claims to have signed, whose
   * known key lets the worker verify instead of recover.
   */
  recoverOrder(order: Order, signature: string, prefix: Uint8Array): Promise<OrderSignature> {
    return new Promise((resolve, reject) => {
      // A batch is hashed under one prefix.
      if (this.queue.first && this.queue.first.prefix !== prefix) this.queue.flush()
      this.queue.add({ order, signature, prefix, resolve, reject })
    })
  }

  async close(): Promise<void> {
    this.closing = true
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
  }

  private send(pending: Pending[]): void {
    const structs = Buffer.alloc(pending.length * ORDER_STRUCT_BYTES)
    const signatures = Buffer.alloc(pending.length * 65)
    const owners = Buffer.alloc(pending.length * 20)
    const batch: Pending[] = []
    for (const p of pending) {
      const i = batch.length
      // Hex straight into the batch. An order whose owner or community is not hex (the intake's schema
      // never lets one through) is refused alone; a malformed signature is written short and zeroed,
      // and zeros are refused like any bad signature.
      try {
        encodeOrderStruct(p.order, structs, i * ORDER_STRUCT_BYTES)
      } catch (error) {
        p.reject(error as Error)
        continue
      }
      structs.copy(owners, i * 20, i * ORDER_STRUCT_BYTES + 32 + 12, i * ORDER_STRUCT_BYTES + 64)
      if (p.signature.length !== 132 || signatures.write(p.signature.slice(2), i * 65, 65, 'hex') !== 65) signatures.fill(0, i * 65, i * 65 + 65)
      batch.push(p)
    }
    if (batch.length === 0) return
    const n = batch.length
    const message = { structs: structs.subarray(0, n * ORDER_STRUCT_BYTES), prefix: batch[0]!.prefix, signatures: signatures.subarray(0, n * 65), owners: owners.subarray(0, n * 20) }
    this.dispatch(batch, message, [structs.buffer as ArrayBuffer, signatures.buffer as ArrayBuffer, owners.buffer as ArrayBuffer])
  }

  /**
   * Who signed `digest` (an EIP-712 digest worked out by the caller, such as a meter reading's), checked
   * on a worker as orders are: null for a malformed or malleable signature. `claimed` is who should
   * have signed, whose known key lets the worker verify instead of recover.
   */
  recoverDigest(digest: Uint8Array, signature: string, claimed: Address): Promise<Address | null> {
    return new Promise((resolve, reject) => {
      const signatures = Buffer.alloc(65)
      if (signature.length !== 132 || signatures.write(signature.slice(2), 0, 65, 'hex') !== 65) signatures.fill(0)
      // Fresh ArrayBuffers, never Node's shared pool slab: they are transferred to the worker.
      const owners = new Uint8Array(20)
      Buffer.from(owners.buffer).write(claimed.slice(2), 'hex')
      const digests = new Uint8Array(digest)
      const pending = { resolve: (r: OrderSignature) => resolve(r.signer), reject } as Pending
      this.dispatch([pending], { digests, signatures, owners }, [digests.buffer as ArrayBuffer, signatures.buffer as ArrayBuffer, owners.buffer as ArrayBuffer])
    })
  }

  /** Sends one batch to the least busy worker, with a deadline. */
  private dispatch(batch: Pending[], message: Record<string, unknown>, transfer: ArrayBuffer[]): void {
    const target = this.workers.reduce((a, b) => (pendingOf(b) < pendingOf(a) ? b : a))
    const id = this.nextId++
    target.inFlight.set(id, batch)
    // An idle pool must not keep the process alive, but a caller awaiting a reply must.
    target.worker.ref()
    target.worker.postMessage({ id, ...message }, transfer)
    const timer = setTimeout(() => {
      const pending = target.inFlight.get(id)
      target.deadlines.delete(id)
      if (!pending) return
      target.inFlight.delete(id)
      for (const p of pending) p.reject(new Error(`signature worker gave no answer in ${this.timeoutMs} ms`))
    }, this.timeoutMs)
    timer.unref()
    target.deadlines.set(id, timer)
  }
}

function pendingOf(entry: { inFlight: Map<number, Pending[]> }): number {
  let n = 0
  for (const batch of entry.inFlight.values()) n += batch.length
  return n
}
