import { Worker } from 'node:worker_threads'
import { TurnBatch } from '../platform/turn-batch.ts'
import { nativePayloadCheck } from './native-payload-check.ts'
import { agentPayloadSchemas, CHECKED_CHANNELS, checkChannelPayload, SHOWN_VALID, type PayloadVerdict } from './payload-policy.ts'

/** Payloads sent to the worker in one message: their bytes end to end, where each ends, its channel. */
export interface PayloadBatch {
  id: number
  bytes: Uint8Array
  ends: Uint32Array
  /** Per payload, its channel's code (index in CHECKED_CHANNELS), or SHOWN_VALID (no bytes sent). */
  channels: Uint8Array
  /** Per payload, 1 when the caller wants the parsed payload back (the telemetry sink does). */
  wantData: Uint8Array
}

/** The worker's answer: the failed payloads by index, and the parsed data asked for. */
export interface PayloadBatchVerdicts {
  id: number
  failures: [index: number, reason: 'not_json' | 'invalid_schema', detail: string][]
  data: [index: number, data: unknown][]
}

type Done = (verdict: PayloadVerdict) => void
/** The verdict of a payload that passed on each channel, when its data was not asked for: shared, so frozen. */
const PASSED: readonly PayloadVerdict[] = CHECKED_CHANNELS.map((channel) => Object.freeze({ ok: true, channel }))
interface Pending {
  channel: number
  payload: Uint8Array
  wantData: boolean
  /** Shown valid by the native check: waits only for the verdicts before it. */
  shownValid: boolean
  done: Done
}

/** A batch holds at most this many payloads, so a burst starts being checked while it is still read. */
const MAX_BATCH = 512
/** ... and about this many bytes, so large payloads (up to maxPacketBytes each) go in smaller batches. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024
/**
 * A turn's batch this small, with nothing at the worker, is checked here: at light load a round trip
 * through a worker thread that two cores' other work may keep waiting costs more latency (tens of
 * milliseconds at p99, measured) than checking a few payloads costs this thread. Nothing at the
 * worker means no earlier verdict can be overtaken.
 */
const INLINE_MAX_BATCH = 16

/**
 * Checks agents' payloads (payload-policy.ts). A payload the native check shows valid, with nothing
 * asked before it still waiting, is answered at once; the rest are parsed and checked by zod on a
 * worker thread, so that work, once most of the broker's per message, runs beside aedes instead of
 * on its thread.
 * Payloads are batched per turn of the event loop (turn-batch.ts); one worker answers batches in
 * the order they were sent, so verdicts come back in the order they were asked for. A small batch
 * with none at the worker is checked on this thread (INLINE_MAX_BATCH). When the worker is not there
 * (or dies), payloads are checked on this thread: nothing waits forever and nothing goes unchecked.
 */
export class PayloadChecker {
  private worker: Worker | null = null
  private queuedBytes = 0
  private readonly queue = new TurnBatch<Pending>(
    (batch) => {
      this.queuedBytes = 0
      if (this.inFlight.size === 0 && batch.filter((p) => !p.shownValid).length <= INLINE_MAX_BATCH) this.checkHere(batch)
      else this.send(batch)
    },
    (batch) => batch.length >= MAX_BATCH || this.queuedBytes >= MAX_BATCH_BYTES,
  )
  private readonly inFlight = new Map<number, Pending[]>()
  private nextId = 1
  private closed = false
  /**
   * Per channel, the native check (broker/native/payload-check.c) where it is built and the schema
   * within its reach (telemetry: about 0.8 µs a payload against 3-5 µs for JSON.parse and zod). It
   * answers only "certainly valid"; anything else, and any payload whose parsed data is wanted, goes
   * the JSON.parse and zod way below.
   */
  private readonly native = CHECKED_CHANNELS.map((channel) => nativePayloadCheck(agentPayloadSchemas[channel]!))

  constructor(private readonly useWorker = true) {
    // Started now, not with the first payload: loading the schemas takes the worker a few hundred
    // milliseconds, which the first agents' orders would otherwise wait out (past a gate closure, say).
    if (useWorker) this.startWorker()
  }

  /** Checks `payload` of an agent's `channel` (one of CHECKED_CHANNELS) and calls `done` with the verdict. */
  check(channel: string, payload: Uint8Array, wantData: boolean, done: Done): void {
    const code = CHECKED_CHANNELS.indexOf(channel)
    if (code < 0) return done({ ok: true })
    const shownValid = !wantData && !!this.native[code]?.(payload)
    // Nothing waiting before it: its verdict is final now (the common case, and no thread hop).
    if (shownValid && this.inFlight.size === 0 && this.queue.first === undefined) return done(PASSED[code]!)
    const pending = { channel: code, payload, wantData, shownValid, done }
    if (!this.useWorker || this.closed) return this.checkHere([pending])
    // Only the bytes the worker will be sent count toward a batch's size.
    if (!shownValid) this.queuedBytes += payload.byteLength
    this.queue.add(pending)
  }

  async close(): Promise<void> {
    this.closed = true
    const worker = this.worker
    this.worker = null
    this.checkHere([...this.inFlight.values()].flat().concat(this.queue.take()))
    this.queuedBytes = 0
    this.inFlight.clear()
    await worker?.terminate()
  }

  private send(batch: Pending[]): void {
    const worker = this.worker ?? this.startWorker()
    if (!worker) return this.checkHere(batch)
    let size = 0
    for (const p of batch) if (!p.shownValid) size += p.payload.byteLength
    const bytes = new Uint8Array(size)
    const ends = new Uint32Array(batch.length)
    const channels = new Uint8Array(batch.length)
    const wantData = new Uint8Array(batch.length)
    let at = 0
    batch.forEach((p, i) => {
      if (!p.shownValid) {
        bytes.set(p.payload, at)
        at += p.payload.byteLength
      }
      ends[i] = at
      channels[i] = p.shownValid ? SHOWN_VALID : p.channel
      wantData[i] = p.wantData ? 1 : 0
    })
    const id = this.nextId++
    this.inFlight.set(id, batch)
    worker.ref()
    const message: PayloadBatch = { id, bytes, ends, channels, wantData }
    worker.postMessage(message, [bytes.buffer, ends.buffer, channels.buffer, wantData.buffer])
  }

  private startWorker(): Worker | null {
    try {
      const worker = new Worker(new URL('./payload-check-worker-bootstrap.mjs', import.meta.url))
      worker.on('message', (m: PayloadBatchVerdicts) => this.answer(m))
      // A worker that fails takes none of its payloads with it: they are checked here, and the next
      // batch starts a new worker.
      const lost = () => {
        if (this.worker !== worker) return
        this.worker = null
        const pending = [...this.inFlight.values()].flat()
        this.inFlight.clear()
        this.checkHere(pending)
      }
      worker.on('error', lost)
      worker.on('exit', lost)
      worker.unref()
      this.worker = worker
      return worker
    } catch {
      return null
    }
  }

  private answer(m: PayloadBatchVerdicts): void {
    const batch = this.inFlight.get(m.id)
    if (!batch) return
    this.inFlight.delete(m.id)
    if (this.inFlight.size === 0) this.worker?.unref()
    const verdicts: PayloadVerdict[] = batch.map((p) => PASSED[p.channel]!)
    for (const [i, reason, detail] of m.failures) verdicts[i] = { ok: false, reason, detail }
    for (const [i, data] of m.data) verdicts[i] = { ok: true, channel: CHECKED_CHANNELS[batch[i]!.channel], data }
    batch.forEach((p, i) => p.done(verdicts[i]!))
  }

  /** The verdicts the worker would give: data only where it was asked for. */
  private checkHere(batch: Pending[]): void {
    for (const p of batch) {
      if (p.shownValid) {
        p.done(PASSED[p.channel]!)
        continue
      }
      const verdict = checkChannelPayload(CHECKED_CHANNELS[p.channel]!, p.payload)
      p.done(verdict.ok && !p.wantData ? PASSED[p.channel]! : verdict)
    }
  }
}
