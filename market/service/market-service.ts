import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import type { Address, Hex } from 'viem'
import type { Logger } from '../../platform/logger.ts'
import { Counters } from '../../platform/counters.ts'
import { agentStateSchema, telemetrySchema, type IntervalResult, type MarketState } from '../../protocol/messages.ts'
import { communityKey } from '../../protocol/order.ts'
import type { AgentView, Book } from '../../protocol/api.ts'
import { MemoryTelemetryStore } from '../../telemetry/memory-telemetry-store.ts'
import { TelemetrySink } from '../../telemetry/telemetry-sink.ts'
import type { HistoryQuery, TelemetryStore } from '../../telemetry/telemetry-store.ts'
import type { TelemetrySample } from '../../protocol/telemetry-history.ts'
import { parseAgentTopic, publishOptions, topics } from '../../protocol/topics.ts'
import { agentChannels, agentPublishedChannels, marketChannels } from '../../protocol/channels.ts'
import { intervalStart } from '../../protocol/units.ts'
import type { Deployment } from '../../contracts/deploy.ts'
import { clearHierarchical, type PricingRule } from '../engine/hierarchical-clearing.ts'
import { singleNodeTopology, type Topology } from '../engine/topology.ts'
import { VppError } from '../../protocol/errors.ts'
import { digestPrefix } from '../../protocol/order-digest.ts'
import { isUnsettled, MarketStore } from './market-store.ts'
import type { IntakeContext } from './order-validation.ts'
import { RateLimiter } from './rate-limiter.ts'
import { DEFAULT_MAX_ORDERS_PER_INTERVAL, OrderIntake, type OrderSource, type SubmitOutcome } from './order-intake.ts'
import { AgentRegistry } from './agent-registry.ts'
import { EscrowReader } from './escrow-reader.ts'
import { MarketMetrics } from './market-metrics.ts'
import { SignaturePool } from './signatures/signature-pool.ts'
import { nativeClearing } from '../engine/native-clearing.ts'
import { batchVerifier } from './signatures/batch-verifier.ts'
import { SettlementSubmitter } from './settlement-submitter.ts'
import { SettlementQueue } from './settlement-queue.ts'
import { broadcastResult, intervalAwards, intervalResult } from './interval-result.ts'
import { MemberRegistry } from './member-registry.ts'
import { Membership } from './membership.ts'
import { escrowHistory, type EscrowHistory } from '../../contracts/escrow-history.ts'
import { SettledIntervals } from '../../contracts/settled-intervals.ts'
import { validateMeterReading } from './meter-validation.ts'

export interface Member {
  agentId: string
  address: Address
  /** The grid node (transformer) the home is connected to; the root when absent. */
  node?: string
}

/** A real market's interval: 15 minutes, the settlement period of most European power markets. */
export const DEFAULT_INTERVAL_SECONDS = 900
/** How many past clearing results stay retained on the broker for late subscribers. */
const RETAINED_RESULTS = 96

export interface MarketOptions {
  community: string
  /** Default 900 (15 min). */
  intervalSeconds?: number
  /** The community's grid tree; one node with no fee or limit when absent. */
  topology?: Topology
  /** Default pay-as-clear. */
  pricing?: PricingRule
  mqtt: { url: string; username: string; password: string }
  members: Member[]
  chain: { rpcUrl: string; deployment: Deployment; operatorKey: Hex }
  dataDir: string
  /** Base units per kWh. */
  priceFloor: number
  priceCap: number
  maxOrderWh: number
  /** The utility's feed-in and retail tariffs, for the dashboard's earnings and savings. */
  referenceTariffs?: { feedInPrice: number; retailPrice: number }
  /**
   * Where telemetry history is read from. Absent: an in-memory store the market fills from its own
   * subscription. Given with `writtenBy: 'broker'`: the broker's sink fills it (InfluxDB) and the
   * market only reads.
   */
  telemetry?: { store: TelemetryStore; writtenBy: 'broker' | 'market' }
  /**
   * Orders one agent (MQTT) may send at once and per second after that (default 40, 2), and one HTTP
   * client address (default 400, 20: a gateway may speak for many homes).
   */
  rateLimit?: { agent?: { burst: number; perSecond: number }; http?: { burst: number; perSecond: number } }
  /**
   * Orders one agent may have open in one interval (default 24): bounds the work, and the size of the
   * settlement transaction, that one member can cause.
   */
  maxOrdersPerInterval?: number
  /**
   * Most fills one settlement transaction carries; an interval with more settles in parts. Default:
   * what half of the chain's block gas limit holds (settlement-parts.ts).
   */
  settlementMaxFills?: number
  logger: Logger
}

export { DEFAULT_MAX_ORDERS_PER_INTERVAL, type OrderSource, type SubmitOutcome } from './order-intake.ts'

/**
 * The market service for one community: runs the interval clock, takes signed orders over MQTT,
 * clears each interval at gate closure, publishes results and awards, and settles each interval on
 * chain once it has been delivered. Emits `market`, `agent`, `telemetry`, `interval` and `order`
 * events for the API.
 */
export class MarketService extends EventEmitter {
  readonly counters = new Counters()
  readonly metrics = new MarketMetrics()
  readonly store: MarketStore
  readonly communityKey: Hex
  readonly intervalSeconds: number
  private readonly agents: AgentRegistry
  private readonly telemetry: { store: TelemetryStore; writtenBy: 'broker' | 'market' }
  /** The one telemetry writer (telemetry/telemetry-sink.ts), here when the market fills its own store. */
  private readonly telemetrySink: TelemetrySink | undefined
  private readonly root: string
  /** Members joining, leaving and re-keyed while the market runs (membership.ts). */
  readonly membership: Membership
  private readonly topology: Topology
  private readonly submitter: SettlementSubmitter
  private readonly escrow: EscrowReader
  /** Every interval's balance changes, read once as blocks arrive, for escrow histories. */
  private readonly settledIntervals: SettledIntervals
  /** Order intake, as a list of named steps (order-intake.ts). */
  private readonly intake: OrderIntake
  private readonly signatures = new SignaturePool()
  /** 0x1901 ‖ the settlement contract's domain separator: what every order's digest starts from. */
  private readonly digestPrefix: Uint8Array
  /** Meter readings per agent: one per interval is all an honest agent sends. */
  private readonly meterLimiter = new RateLimiter(4, 1)
  private client: MqttClient | undefined
  private timer: NodeJS.Timeout | undefined
  /** Settles cleared intervals on chain, one after another (settlement-queue.ts). */
  private readonly settlements: SettlementQueue
  private openInterval = 0
  private stopped = false

  constructor(private readonly options: MarketOptions) {
    super()
    mkdirSync(options.dataDir, { recursive: true })
    this.store = new MarketStore(join(options.dataDir, 'market.sqlite'))
    this.communityKey = communityKey(options.community)
    this.intervalSeconds = options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS
    this.telemetry = options.telemetry ?? { store: new MemoryTelemetryStore(), writtenBy: 'market' }
    if (this.telemetry.writtenBy === 'market') this.telemetrySink = new TelemetrySink(this.telemetry.store, { flushMs: 100, logger: options.logger, counters: this.counters })
    this.escrow = new EscrowReader(options.chain.rpcUrl, options.chain.deployment)
    this.settledIntervals = new SettledIntervals(options.chain.rpcUrl, options.chain.deployment)
    this.digestPrefix = digestPrefix(options.chain.deployment.chainId, options.chain.deployment.settlement)
    this.intake = new OrderIntake({
      store: this.store,
      chainId: options.chain.deployment.chainId,
      settlement: options.chain.deployment.settlement,
      imbalancePrice: options.chain.deployment.imbalancePrice,
      maxOrdersPerInterval: options.maxOrdersPerInterval ?? DEFAULT_MAX_ORDERS_PER_INTERVAL,
      rateLimit: {
        agent: { burst: options.rateLimit?.agent?.burst ?? 40, perSecond: options.rateLimit?.agent?.perSecond ?? 2 },
        http: { burst: options.rateLimit?.http?.burst ?? 400, perSecond: options.rateLimit?.http?.perSecond ?? 20 },
      },
      context: () => this.intakeContext(),
      escrow: (owner) => this.escrow.account(owner),
      agentIdOf: (address) => this.agents.agentIdOf(address),
      // No limit price: the open book is sealed until gate closure.
      onAccepted: (order) => this.emit('order', { interval: order.interval, side: order.side, energyWh: order.energyWh }),
      counters: this.counters,
      metrics: this.metrics,
      log: options.logger,
    })
    this.submitter = new SettlementSubmitter(options.chain.rpcUrl, options.chain.deployment, options.chain.operatorKey, { logger: options.logger })
    this.settlements = new SettlementQueue({
      communityKey: this.communityKey,
      intervalSeconds: this.intervalSeconds,
      deployment: options.chain.deployment,
      store: this.store,
      submitter: this.submitter,
      maxFills: options.settlementMaxFills,
      counters: this.counters,
      log: options.logger,
      onSettled: (status) => {
        this.metrics.settlements.inc({ status })
        this.escrow.invalidate()
      },
      onRecorded: (result) => {
        this.publishResult(result)
        this.emit('interval', result)
      },
    })
    if (options.chain.deployment.community.toLowerCase() !== this.communityKey.toLowerCase()) {
      throw new VppError('VPP_ERR_CONFIG', `the settlement contract at ${options.chain.deployment.settlement} settles another community (key ${options.chain.deployment.community}), not "${options.community}" (key ${this.communityKey}): give the market the contract deployed for this community (vpp contracts deploy --community ${options.community})`)
    }
    const contractInterval = options.chain.deployment.intervalLength
    if (this.intervalSeconds !== contractInterval) {
      throw new VppError('VPP_ERR_CONFIG', `intervalSeconds ${this.intervalSeconds} is not the settlement contract's interval length (${contractInterval} s): set the market's interval to ${contractInterval} s, or deploy a contract for this interval length (vpp contracts deploy --interval)`)
    }
    this.topology = options.topology ?? singleNodeTopology()
    const root = this.topology.find((n) => n.parent === null)!.id
    const nodes = new Set(this.topology.map((n) => n.id))
    this.root = root
    this.agents = new AgentRegistry(root)
    for (const m of options.members) {
      if (m.node !== undefined && !nodes.has(m.node)) throw new VppError('VPP_ERR_CONFIG', `member ${m.agentId} is at node "${m.node}", which is not in the topology`)
    }
    // The registry is the membership; market.yaml's list only seeds it (members it does not know yet).
    const registry = new MemberRegistry(join(options.dataDir, 'members.sqlite'))
    registry.importMembers(options.members)
    for (const m of registry.active()) {
      if (m.node !== undefined && !nodes.has(m.node)) throw new VppError('VPP_ERR_CONFIG', `member ${m.agentId} is at node "${m.node}", which is no longer in the topology: put the node back or move the member`)
      this.agents.set(m)
    }
    this.membership = new Membership(registry, {
      community: options.community,
      chainId: options.chain.deployment.chainId,
      settlement: options.chain.deployment.settlement,
      nodes,
      publish: async (users) => {
        await this.client?.publishAsync(topics.brokerUsers(options.community), JSON.stringify(users), publishOptions(marketChannels.brokerUsers))
      },
      cancelOpenOrders: (address) => this.store.cancelOpenOrdersOf(address, this.openInterval),
    })
    this.membership.on('change', (change) => {
      const member = registry.get(change.member.agentId)
      if (member?.status === 'active') this.agents.set(member)
      else if (member) this.agents.remove(member.agentId)
      this.counters.increment(`members.${change.event.kind}`)
      this.log.info({ event: change.event }, 'market: membership changed')
      this.emit('member', change)
    })
  }

  get log(): Logger {
    return this.options.logger
  }

  async start(): Promise<void> {
    const { mqtt: m, community } = this.options
    this.openInterval = intervalStart(Date.now() / 1000, this.intervalSeconds) + this.intervalSeconds
    this.client = await mqtt.connectAsync(m.url, { username: m.username, password: m.password, clientId: m.username, protocolVersion: 4, clean: true, reconnectPeriod: 1000 })
    this.client.on('message', (topic, payload) => void this.onMessage(topic, payload))
    this.client.on('error', (error) => this.log.warn({ err: error.message }, 'market: MQTT error'))
    // The broker learns the registry's accounts now and after every reconnect (it may have restarted).
    await this.membership.publishToBroker()
    this.client.on('connect', () => void this.membership.publishToBroker().catch((error: unknown) => this.log.warn({ err: String(error) }, 'market: could not send the member list to the broker')))
    await this.client.subscribeAsync(agentPublishedChannels.map((channel) => topics.allAgents(community, channel)), { qos: 1 })
    await this.publishState()
    // Intervals delivered before a restart but not yet settled: settle them now, oldest first.
    for (const interval of this.store.unsettledIntervals(this.deliveringInterval)) this.settlements.queue(interval)
    this.schedule()
    this.log.info({ community, openInterval: this.openInterval, intervalSeconds: this.intervalSeconds, signatureBatching: this.signatures.batching }, 'market: started')
    const verifier = batchVerifier()
    if (!this.signatures.batching) this.log.warn({ reason: verifier.available ? 'disabled' : verifier.reason }, 'market: signatures are recovered one by one (about half the intake speed); npm run build:native builds the batch verifier')
    const engine = nativeClearing()
    if (!engine.available) this.log.warn({ reason: engine.reason }, 'market: clearing with the TypeScript engine (same results, about half the speed); npm run build:native builds the C engine')
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.settlements.stop()
    await this.client?.endAsync()
    await this.telemetrySink?.close()
    await this.signatures.close()
    this.store.close()
    this.membership.registry.close()
  }

  /** What `owner`'s escrow holds for and has free, counted exactly as intake counts it. */
  escrowHolds(owner: Address): ReturnType<OrderIntake['escrowHolds']> {
    return this.intake.escrowHolds(owner)
  }

  /** `owner`'s escrow rebuilt from the contract's events (contracts/escrow-history.ts). */
  escrowHistory(owner: Address): Promise<EscrowHistory> {
    return escrowHistory(this.options.chain.rpcUrl, this.options.chain.deployment, owner, this.settledIntervals)
  }

  state(): MarketState {
    const d = this.options.chain.deployment
    return {
      community: this.options.community,
      communityKey: this.communityKey,
      openInterval: this.openInterval,
      gateClosure: this.openInterval,
      intervalSeconds: this.intervalSeconds,
      chainId: d.chainId,
      settlement: d.settlement,
      token: d.token,
      tokenDecimals: d.tokenDecimals,
      tokenSymbol: d.tokenSymbol,
      priceFloor: this.options.priceFloor,
      priceCap: this.options.priceCap,
      ...(this.options.referenceTariffs ? { referenceTariffs: this.options.referenceTariffs } : {}),
      ts: new Date().toISOString(),
    }
  }

  agentViews(): AgentView[] {
    return this.agents.all()
  }

  get telemetryStoreKind(): TelemetryStore['kind'] {
    return this.telemetry.store.kind
  }

  telemetryHistory(query: Omit<HistoryQuery, 'community'>): Promise<TelemetrySample[]> {
    return this.telemetry.store.history({ ...query, community: this.options.community })
  }

  /** The community's grid tree. */
  topologyNodes(): Topology {
    return this.topology
  }

  /**
   * An interval's book, anonymised: side, energy and limit of every order once the interval has
   * cleared; before that, only how many bids and asks it holds (limits are sealed until gate closure).
   */
  book(interval: number): Book {
    const orders = this.store.ordersFor(interval)
    const sealed = interval >= this.openInterval
    const bids = orders.filter((o) => o.side === 0).length
    return { interval, sealed, bids, asks: orders.length - bids, orders: sealed ? [] : orders.map((o) => ({ side: o.side, energyWh: o.energyWh, limitPrice: o.limitPrice })) }
  }

  agentIdOf(address: string): string | undefined {
    return this.agents.agentIdOf(address)
  }

  private schedule(): void {
    if (this.stopped) return
    const delay = Math.max(0, this.openInterval * 1000 - Date.now())
    this.timer = setTimeout(() => {
      try {
        this.closeGate()
      } catch (error) {
        // A failed clearing must not stop the clock: log, count, and go on to the next interval.
        this.counters.increment('clearing_failed')
        this.log.error({ err: error }, 'market: clearing failed')
      }
      this.schedule()
    }, delay)
  }

  /**
   * Gate closure of the open interval: clear it and open the next. The interval delivered one
   * interval ago has had a whole interval for its meter readings: settle it now (sellers without a
   * reading are paid nothing for it), and try again any interval a failure left unsettled.
   */
  private closeGate(): void {
    this.escrow.invalidate()
    const interval = this.openInterval
    this.openInterval = interval + this.intervalSeconds
    void this.publishState()
    const result = this.clear(interval)
    this.emit('interval', result)
    for (const unsettled of this.store.unsettledIntervals(interval - this.intervalSeconds)) this.settlements.queue(unsettled)
  }

  /** The interval whose delivery ended at the last gate closure, or earlier ones. */
  private get deliveringInterval(): number {
    return this.openInterval - this.intervalSeconds
  }

  private clear(interval: number): IntervalResult {
    const orders = this.store.ordersFor(interval)
    const stopTimer = this.metrics.clearingSeconds.startTimer()
    const outcome = clearHierarchical(
      orders.map((o) => ({ ...o, node: this.agents.nodeOf(o.agentId)! })),
      this.topology,
      { intervalSeconds: this.intervalSeconds, pricing: this.options.pricing ?? 'pay-as-clear' },
    )
    stopTimer()
    const result = intervalResult(this.options.community, interval, orders, outcome)
    this.store.saveClearing(result)
    this.counters.increment('intervals_cleared')
    this.counters.increment('energy_traded_wh', outcome.volumeWh)
    this.metrics.intervalsCleared.inc()
    this.metrics.tradedWh.inc(outcome.volumeWh)
    this.metrics.lastVolumeWh.set(outcome.volumeWh)
    if (result.clearingPrice !== null) this.metrics.clearingPrice.set(result.clearingPrice)
    this.publishResult(result)
    // An empty retained payload deletes the retained message [MQTT-3.3.1-10]: the broker keeps a bounded history.
    const expired = interval - RETAINED_RESULTS * this.intervalSeconds
    this.client?.publish(topics.marketInterval(this.options.community, expired), '', publishOptions(marketChannels.intervals))

    for (const [agentId, award] of intervalAwards(result, orders)) {
      this.client?.publish(topics.agent(this.options.community, agentId, 'awards'), JSON.stringify(award), publishOptions(agentChannels.awards))
    }
    this.log.info({ interval, orders: orders.length, price: result.clearingPrice, volumeWh: outcome.volumeWh, congested: result.congested }, 'market: cleared')
    return result
  }

  /**
   * A signed meter reading for a delivered interval: stored once verified; when it is the last one
   * the interval's sellers owed, the interval settles at once instead of at the next gate closure.
   */
  private async onMeterReading(agentId: string, payload: Buffer): Promise<void> {
    const d = this.options.chain.deployment
    const verdict = await validateMeterReading(payload, agentId, {
      communityKey: this.communityKey,
      chainId: d.chainId,
      settlement: d.settlement,
      meterSigner: d.meterSigner,
      intervalSeconds: this.intervalSeconds,
      nowSeconds: Date.now() / 1000,
      addressOf: (id) => this.agents.addressOf(id),
      allow: () => this.meterLimiter.take(agentId),
      // On the signature pool's workers, as orders are: a reading never costs the market's thread a recovery.
      recover: (digest, signature, claimed) => this.signatures.recoverDigest(digest, signature, claimed),
      // Only a seller's reading of an interval still to settle matters; anything else is refused
      // before its signature costs anything, and so is a second reading.
      expected: (interval, owner) => {
        const result = this.store.interval(interval)
        if (!result || !isUnsettled(result.settlement.status)) return 'not_settling'
        if (!result.trades.some((t) => t.seller.toLowerCase() === owner.toLowerCase())) return 'not_a_seller'
        return this.store.hasMeterReading(interval, owner) ? 'duplicate' : 'ok'
      },
    })
    if (!verdict.ok) {
      // A reading nobody needs (no sale in it, or settled already) is set aside unverified, not held
      // against the agent: an agent that missed its award sends one rather than risk going unpaid.
      const unneeded = verdict.reason === 'not_a_seller' || verdict.reason === 'not_settling'
      const counter = unneeded ? 'meter_ignored' : 'meter_rejected'
      this.counters.increment(counter)
      this.counters.increment(`${counter}.${verdict.reason}`)
      if (!unneeded) this.log.warn({ agentId, reason: verdict.reason, message: verdict.message }, 'market: meter reading rejected')
      return
    }
    if (!this.store.insertMeterReading(verdict.signed)) {
      // A second reading whose check overlapped the first's on the workers: the first stands.
      this.counters.increment('meter_rejected')
      this.counters.increment('meter_rejected.duplicate')
      return
    }
    this.counters.increment('meter_readings')
    const interval = verdict.signed.reading.interval
    const result = this.store.interval(interval)
    if (result?.settlement.status !== 'pending') return
    const readings = this.store.meterReadingsFor(interval)
    const sellers = new Set(result.trades.map((t) => t.seller.toLowerCase()))
    if (![...sellers].every((s) => readings.has(s))) return
    // Every seller's reading is in: settle now rather than at the next gate closure, but not before
    // the interval has ended, which the contract requires.
    this.settlements.queueAt(interval, (interval + this.intervalSeconds) * 1000 + 1000)
  }

  private publishResult(result: IntervalResult): void {
    this.client?.publish(topics.marketInterval(this.options.community, result.interval), JSON.stringify(broadcastResult(result)), publishOptions(marketChannels.intervals))
  }

  private async publishState(): Promise<void> {
    const state = this.state()
    this.emit('market', state)
    await this.client?.publishAsync(topics.marketState(this.options.community), JSON.stringify(state), publishOptions(marketChannels.state))
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseAgentTopic(topic)
    if (!parsed || parsed.community !== this.options.community) return
    try {
      if (parsed.channel === 'orders') await this.submitOrder(payload, { mqttAgentId: parsed.agentId })
      else if (parsed.channel === 'state') this.onAgentState(parsed.agentId, payload)
      else if (parsed.channel === 'telemetry') this.onTelemetry(parsed.agentId, payload)
      else if (parsed.channel === 'meter') await this.onMeterReading(parsed.agentId, payload)
    } catch (error) {
      // Whatever one message does, the market goes on.
      this.counters.increment('message_errors')
      this.log.error({ err: error, topic }, 'market: message handling failed')
    }
  }

  private intakeContext(): IntakeContext {
    const d = this.options.chain.deployment
    return {
      communityKey: this.communityKey,
      openInterval: this.openInterval,
      chainId: d.chainId,
      settlement: d.settlement,
      priceFloor: this.options.priceFloor,
      priceCap: this.options.priceCap,
      maxOrderWh: this.options.maxOrderWh,
      addressOf: (agentId) => this.agents.addressOf(agentId),
      recoverOrder: (order, signature) => this.signatures.recoverOrder(order, signature, this.digestPrefix),
    }
  }

  /** Order intake for MQTT and HTTP alike (order-intake.ts); acknowledged only once durably stored. */
  submitOrder(payload: Buffer | string, source: OrderSource): Promise<SubmitOutcome> {
    return this.intake.submit(payload, source)
  }

  private onAgentState(agentId: string, payload: Buffer): void {
    const parsed = agentStateSchema.safeParse(safeJson(payload))
    if (!parsed.success) return this.agents.addressOf(agentId) ? this.countInvalid('state', agentId) : undefined
    const view = this.agents.applyState(agentId, parsed.data)
    if (!view) return
    this.metrics.agentsOnline.set(this.agents.onlineCount)
    this.emit('agent', view)
  }

  private onTelemetry(agentId: string, payload: Buffer): void {
    const parsed = telemetrySchema.safeParse(safeJson(payload))
    if (!parsed.success) return this.agents.addressOf(agentId) ? this.countInvalid('telemetry', agentId) : undefined
    const view = this.agents.applyTelemetry(agentId, parsed.data)
    if (!view) return
    this.telemetrySink?.accept(this.options.community, agentId, parsed.data)
    this.counters.increment('telemetry_samples', parsed.data.samples.length)
    this.emit('telemetry', { agentId, snapshot: view.snapshot! })
  }

  private countInvalid(channel: string, agentId: string): void {
    this.counters.increment(`invalid_${channel}`)
    this.log.warn({ agentId, channel }, 'market: invalid payload dropped')
  }
}

function safeJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString())
  } catch {
    return undefined
  }
}
