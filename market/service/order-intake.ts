import type { Address, Hex } from 'viem'
import type { Logger } from '../../platform/logger.ts'
import type { Deployment } from '../../contracts/deploy.ts'
import type { Counters } from '../../platform/counters.ts'
import type { SignedCancel, SignedOrder } from '../../protocol/order.ts'
import { coversOrder, freeBaseUnits, orderHoldBaseUnits } from '../../protocol/collateral.ts'
import type { MarketStore } from './market-store.ts'
import type { EscrowAccount } from './escrow-reader.ts'
import type { MarketMetrics } from './market-metrics.ts'
import { RateLimiter } from './rate-limiter.ts'
import { cancelSigner, parseOrderRequest, validateOrder, type IntakeContext, type RejectReason } from './order-validation.ts'

/** Default cap on one agent's open orders in one interval. */
export const DEFAULT_MAX_ORDERS_PER_INTERVAL = 24

/** Where an order came from: an agent authenticated by the broker, or an HTTP client by address. */
export type OrderSource = { mqttAgentId: string } | { httpClient: string }

export type SubmitOutcome = { ok: true; hash: Hex; kind: 'order' | 'cancel' | 'replace' } | { ok: false; reason: RejectReason; message: string }

type Refusal = { reason: RejectReason; message: string }

/** An order whose signature checked out, with its owner's escrow as read under the owner's lock. */
interface Candidate {
  agentId: string
  hash: Hex
  signed: SignedOrder
  account: EscrowAccount
}

export interface IntakeOptions {
  store: MarketStore
  /** The settlement contract: what orders and cancellations are signed for, and its imbalance price (what a sell holds of its owner's escrow per kWh). */
  deployment: Pick<Deployment, 'chainId' | 'settlement' | 'imbalancePrice'>
  /** Cap on one agent's open orders in one interval (default 24). */
  maxOrdersPerInterval?: number
  /** Per agent (default 40 at once, 2 per second) and per HTTP client address (default 400, 20). */
  rateLimit?: { agent?: { burst: number; perSecond: number }; http?: { burst: number; perSecond: number } }
  communityKey: Hex
  /** The interval open for orders now (it moves at every gate closure). */
  openInterval(): number
  /** Base units per kWh, and the largest order. */
  priceFloor: number
  priceCap: number
  maxOrderWh: number
  addressOf(agentId: string): Address | undefined
  /** An order's signer and digest, worked out on the signature pool (order-validation.ts). */
  recoverOrder: IntakeContext['recoverOrder']
  escrow(owner: Address): Promise<EscrowAccount>
  agentIdOf(address: string): string | undefined
  /** Told of every order accepted (not of cancellations). */
  onAccepted(order: SignedOrder['order']): void
  counters: Counters
  metrics: MarketMetrics
  log: Logger
}

/**
 * Order intake for MQTT and HTTP alike, as a list of named steps (docs/architecture.md, "Order intake").
 * Each step is a check settlement would make (EnergySettlement.sol): an order that passes them all
 * cannot make its interval's batch revert for everyone.
 *
 *   rate limit → parse → member, community, interval, range, signature (order-validation.ts)
 *   → under the owner's lock: order cap → nonce → collateral → gate still open → store
 *
 * The locked steps read and reserve one owner's escrow atomically: concurrent orders each see the
 * ones before them. An order is acknowledged only once durably stored.
 */
export class OrderIntake {
  private readonly agentLimiter: RateLimiter
  private readonly httpLimiter: RateLimiter
  private readonly ownerLocks = new Map<string, Promise<unknown>>()

  /** The steps run under the owner's lock, in order; the first refusal ends intake. */
  private readonly lockedSteps: ReadonlyArray<readonly [string, (c: Candidate) => Refusal | null]> = [
    ['order cap', (c) => this.withinOrderCap(c)],
    ['nonce', (c) => this.nonceNotCancelled(c)],
    ['collateral', (c) => this.collateralCovers(c)],
    ['gate still open', (c) => this.gateStillOpen(c)],
    ['store', (c) => this.store(c)],
  ]

  constructor(private readonly options: IntakeOptions) {
    const { agent = { burst: 40, perSecond: 2 }, http = { burst: 400, perSecond: 20 } } = options.rateLimit ?? {}
    this.agentLimiter = new RateLimiter(agent.burst, agent.perSecond)
    // A gateway may speak for many homes from one address.
    this.httpLimiter = new RateLimiter(http.burst, http.perSecond)
  }

  async submit(payload: Buffer | string, source: OrderSource): Promise<SubmitOutcome> {
    // Parsed once, here where it arrives; everything after works on the typed request.
    const parsed = parseOrderRequest(payload)
    const viaBroker = 'mqttAgentId' in source
    const claimedOwner = parsed.ok ? ('cancel' in parsed.request ? parsed.request.cancel.owner : parsed.request.order.owner) : ''
    const agentId = viaBroker ? source.mqttAgentId : (this.options.agentIdOf(claimedOwner) ?? 'unregistered')
    // Keyed by what is authenticated before the signature is checked: the broker's login, or the
    // HTTP client's address (an owner named in an unverified body proves nothing).
    const allowed = viaBroker ? this.agentLimiter.take(agentId) : this.httpLimiter.take(source.httpClient)
    if (!allowed) return this.reject(agentId, { reason: 'rate_limited', message: 'too many orders; slow down' })
    if (!parsed.ok) return this.reject(agentId, parsed)
    if ('cancel' in parsed.request) return this.cancel(parsed.request, agentId, viaBroker)

    const verdict = await validateOrder(parsed.request, agentId, this.context())
    if (!verdict.ok) return this.reject(agentId, verdict)
    const { signed, hash } = verdict
    const refusal = await this.withOwnerLock(signed.order.owner, async () => {
      const candidate: Candidate = { agentId, hash, signed, account: await this.options.escrow(signed.order.owner) }
      for (const [, step] of this.lockedSteps) {
        const refused = step(candidate)
        if (refused) return refused
      }
      return null
    })
    if (refusal) return this.reject(agentId, refusal)
    const replaces = signed.replaces !== undefined
    this.options.counters.increment(replaces ? 'orders_replaced' : 'orders_accepted')
    this.options.metrics.ordersAccepted.inc()
    this.options.onAccepted(signed.order)
    return { ok: true, hash, kind: replaces ? 'replace' : 'order' }
  }

  /**
   * What `owner`'s escrow holds for, in base units: its open orders in the open interval and its
   * trades not yet settled; and what is left free for new orders, counted exactly as intake counts it.
   */
  async escrowHolds(owner: Address): Promise<{ openOrders: bigint; unsettledTrades: bigint; free: bigint; imbalancePrice: number }> {
    const { deployment: { imbalancePrice }, store } = this.options
    const { available } = await this.options.escrow(owner)
    const openOrders = store.openOrdersHold(owner, this.openInterval, imbalancePrice)
    const unsettledTrades = store.unsettledTradesHold(owner, imbalancePrice)
    return { openOrders, unsettledTrades, free: freeBaseUnits(available, openOrders + unsettledTrades), imbalancePrice }
  }

  private get openInterval(): number {
    return this.options.openInterval()
  }

  /** What the checks before the lock need (order-validation.ts), as of now. */
  private context(): IntakeContext {
    const { communityKey, deployment, priceFloor, priceCap, maxOrderWh, addressOf, recoverOrder } = this.options
    return { communityKey, openInterval: this.openInterval, chainId: deployment.chainId, settlement: deployment.settlement, priceFloor, priceCap, maxOrderWh, addressOf, recoverOrder }
  }

  /** Bounds the work, and the settlement transaction, that one member can cause. */
  private withinOrderCap({ agentId, signed }: Candidate): Refusal | null {
    const cap = this.options.maxOrdersPerInterval ?? DEFAULT_MAX_ORDERS_PER_INTERVAL
    if (signed.replaces || this.options.store.openOrderCount(agentId, signed.order.interval) < cap) return null
    return { reason: 'too_many_orders', message: `${cap} orders are already open for interval ${signed.order.interval}: replace or cancel one` }
  }

  /** The contract refuses an order below the owner's `cancelUpTo` mark, and with it the whole batch. */
  private nonceNotCancelled({ signed: { order }, account }: Candidate): Refusal | null {
    if (BigInt(order.nonce) >= account.minNonce) return null
    return { reason: 'order_cancelled', message: `nonce ${order.nonce} is below ${account.minNonce}, cancelled on chain by cancelUpTo: sign with a nonce of at least ${account.minNonce}` }
  }

  /** The escrow must hold this order on top of everything else the owner could still owe (protocol/collateral.ts). */
  private collateralCovers({ signed: { order, replaces }, account }: Candidate): Refusal | null {
    const { deployment: { imbalancePrice }, store } = this.options
    const needed = orderHoldBaseUnits(order, imbalancePrice)
    // A replaced order stops holding escrow the moment its successor is accepted.
    const replacedHold = replaces ? store.openOrderHold(replaces, order.owner, imbalancePrice) : 0n
    const exposure = store.openExposure(order.owner, this.openInterval, imbalancePrice) - replacedHold
    if (coversOrder(account.available, exposure, needed)) return null
    const what = order.side === 0 ? 'this buy at its limit' : "this sell's imbalance collateral"
    return { reason: 'insufficient_collateral', message: `escrow ${account.available} does not cover ${needed} for ${what} on top of ${exposure} held by open orders and unsettled trades: deposit more` }
  }

  /** Signature recovery and the escrow read are asynchronous: the gate may have closed meanwhile. */
  private gateStillOpen({ signed: { order } }: Candidate): Refusal | null {
    return order.interval === this.openInterval ? null : { reason: 'interval_not_open', message: `gate closed for interval ${order.interval}` }
  }

  private store({ agentId, hash, signed }: Candidate): Refusal | null {
    const { order, replaces } = signed
    if (replaces) {
      const outcome = this.options.store.replaceOrder(agentId, replaces, hash, signed)
      if (outcome === 'no_open_order') return { reason: 'unknown_order', message: `no open order ${replaces} of ${order.owner} in interval ${order.interval} to replace` }
      if (outcome === 'duplicate') return { reason: 'duplicate', message: `order ${hash} was already accepted` }
      return null
    }
    return this.options.store.insertOrder(agentId, hash, signed) ? null : { reason: 'duplicate', message: `order ${hash} was already accepted` }
  }

  /** A signed cancellation: the owner's own open order leaves the book before gate closure. */
  private cancel(request: SignedCancel, agentId: string, viaBroker: boolean): SubmitOutcome {
    const { owner, orderHash } = request.cancel
    const registered = this.options.addressOf(agentId)
    if (!registered) return this.reject(agentId, { reason: 'unknown_agent', message: `agent ${agentId} is not registered in this community` })
    if (viaBroker && registered.toLowerCase() !== owner.toLowerCase()) return this.reject(agentId, { reason: 'owner_mismatch', message: `agent ${agentId} is registered as ${registered}, not ${owner}` })
    const signer = cancelSigner(request, this.options.deployment.chainId, this.options.deployment.settlement)
    if (!signer || signer.toLowerCase() !== owner.toLowerCase()) return this.reject(agentId, { reason: 'bad_signature', message: 'the cancellation is not signed by the order owner' })
    if (!this.options.store.cancelOrder(orderHash, owner, this.openInterval)) return this.reject(agentId, { reason: 'unknown_order', message: `no open order ${orderHash} of ${owner} in interval ${this.openInterval}` })
    this.options.counters.increment('orders_cancelled')
    return { ok: true, hash: orderHash, kind: 'cancel' }
  }

  /** Runs `work` after every earlier call for the same owner has finished. */
  private async withOwnerLock<T>(owner: string, work: () => Promise<T>): Promise<T> {
    const key = owner.toLowerCase()
    const before = this.ownerLocks.get(key) ?? Promise.resolve()
    const run = before.then(work, work)
    const settled = run.catch(() => undefined)
    this.ownerLocks.set(key, settled)
    try {
      return await run
    } finally {
      if (this.ownerLocks.get(key) === settled) this.ownerLocks.delete(key)
    }
  }

  private reject(agentId: string, { reason, message }: Refusal): SubmitOutcome {
    const { counters, metrics, log } = this.options
    counters.increment('orders_rejected')
    counters.increment(`orders_rejected.${reason}`)
    metrics.ordersRejected.inc({ reason })
    log.warn({ agentId, reason, message }, 'market: order rejected')
    return { ok: false, reason, message }
  }
}
