import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import type { Address, Hex } from 'viem'
import type { Logger } from '../../platform/logger.ts'
import { Counters } from '../../platform/counters.ts'
import type { IntervalResult, MarketState } from '../../protocol/messages.ts'
import { communityKey } from '../../protocol/order.ts'
import type { AgentView, Book } from '../../protocol/api.ts'
import type { HistoryQuery, TelemetryStore } from '../../telemetry/telemetry-store.ts'
import type { TelemetrySample } from '../../protocol/telemetry-history.ts'
import { parseAgentTopic, topics } from '../../protocol/topics.ts'
import { agentPublishedChannels } from '../../protocol/channels.ts'
import { clearHierarchical } from '../engine/hierarchical-clearing.ts'
import { singleNodeTopology, type Topology } from '../engine/topology.ts'
import { digestPrefix } from '../../protocol/order-digest.ts'
import { MarketStore } from './market-store.ts'
import { IntervalClock } from './interval-clock.ts'
import { DEFAULT_INTERVAL_SECONDS, checkDeploymentFits, marketState, type MarketOptions } from './market-options.ts'
import { OrderIntake, type OrderSource, type SubmitOutcome } from './order-intake.ts'
import { AgentRegistry } from './agent-registry.ts'
import { EscrowReader } from './escrow-reader.ts'
import { MarketMetrics } from './market-metrics.ts'
import { SignaturePool } from './signatures/signature-pool.ts'
import { warnWithoutNativeCode } from './native-code.ts'
import { SettlementSubmitter } from './settlement-submitter.ts'
import { SettlementQueue } from './settlement-queue.ts'
import { intervalAwards, intervalResult, publicBook } from './interval-result.ts'
import { MarketPublisher } from './market-publisher.ts'
import { openMembership, type Membership } from './membership.ts'
import { escrowHistory, type EscrowHistory } from '../../contracts/escrow-history.ts'
import { SettledIntervals } from '../../contracts/settled-intervals.ts'
import { MeterIntake } from './meter-intake.ts'
import { AgentMessages } from './agent-messages.ts'

export { DEFAULT_INTERVAL_SECONDS, type Member, type MarketOptions } from './market-options.ts'
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
  /** Members joining, leaving and re-keyed while the market runs (membership.ts). */
  readonly membership: Membership
  private readonly topology: Topology
  private readonly escrow: EscrowReader
  /** Every interval's balance changes, read once as blocks arrive, for escrow histories. */
  private readonly settledIntervals: SettledIntervals
  /** Order intake, as a list of named steps (order-intake.ts). */
  private readonly intake: OrderIntake
  private readonly signatures = new SignaturePool()
  /** Signed meter readings (meter-intake.ts). */
  private readonly meters: MeterIntake
  /** Agents' state and telemetry (agent-messages.ts). */
  private readonly agentMessages: AgentMessages
  private client: MqttClient | undefined
  /** Everything the market publishes over MQTT (market-publisher.ts). */
  private readonly publish: MarketPublisher
  /** Settles cleared intervals on chain, one after another (settlement-queue.ts). */
  private readonly settlements: SettlementQueue
  /** Which interval is open, and its gate closure (interval-clock.ts). */
  private readonly clock: IntervalClock

  constructor(private readonly options: MarketOptions) {
    super()
    mkdirSync(options.dataDir, { recursive: true })
    this.store = new MarketStore(join(options.dataDir, 'market.sqlite'))
    this.communityKey = communityKey(options.community)
    this.intervalSeconds = options.intervalSeconds ?? DEFAULT_INTERVAL_SECONDS
    this.publish = new MarketPublisher(options.community, this.intervalSeconds)
    this.clock = new IntervalClock(
      this.intervalSeconds,
      (interval) => this.closeGate(interval),
      (error) => {
        // A failed clearing must not stop the clock: log, count, and go on to the next interval.
        this.counters.increment('clearing_failed')
        this.log.error({ err: error }, 'market: clearing failed')
      },
    )
    this.escrow = new EscrowReader(options.chain.rpcUrl, options.chain.deployment)
    this.settledIntervals = new SettledIntervals(options.chain.rpcUrl, options.chain.deployment)
    // 0x1901 ‖ the settlement contract's domain separator: what every order's digest starts from.
    const prefix = digestPrefix(options.chain.deployment.chainId, options.chain.deployment.settlement)
    this.intake = new OrderIntake({
      store: this.store,
      deployment: options.chain.deployment,
      maxOrdersPerInterval: options.maxOrdersPerInterval,
      rateLimit: options.rateLimit,
      communityKey: this.communityKey,
      openInterval: () => this.clock.openInterval,
      priceFloor: options.priceFloor,
      priceCap: options.priceCap,
      maxOrderWh: options.maxOrderWh,
      addressOf: (agentId) => this.agents.addressOf(agentId),
      recoverOrder: (order, signature) => this.signatures.recoverOrder(order, signature, prefix),
      escrow: (owner) => this.escrow.account(owner),
      agentIdOf: (address) => this.agents.agentIdOf(address),
      // No limit price: the open book is sealed until gate closure.
      onAccepted: (order) => this.emit('order', { interval: order.interval, side: order.side, energyWh: order.energyWh }),
      counters: this.counters,
      metrics: this.metrics,
      log: options.logger,
    })
    this.settlements = new SettlementQueue({
      communityKey: this.communityKey,
      intervalSeconds: this.intervalSeconds,
      deployment: options.chain.deployment,
      store: this.store,
      submitter: new SettlementSubmitter(options.chain.rpcUrl, options.chain.deployment, options.chain.operatorKey, { logger: options.logger }),
      maxFills: options.settlementMaxFills,
      counters: this.counters,
      log: options.logger,
      onSettled: (status) => {
        this.metrics.settlements.inc({ status })
        this.escrow.invalidate()
      },
      onRecorded: (result) => {
        this.publish.result(result)
        this.emit('interval', result)
      },
    })
    checkDeploymentFits(options, this.communityKey, this.intervalSeconds)
    const d = options.chain.deployment
    this.meters = new MeterIntake({
      store: this.store,
      settlements: this.settlements,
      communityKey: this.communityKey,
      chainId: d.chainId,
      settlement: d.settlement,
      meterSigner: d.meterSigner,
      intervalSeconds: this.intervalSeconds,
      addressOf: (id) => this.agents.addressOf(id),
      // On the signature pool's workers, as orders are: a reading never costs the market's thread a recovery.
      recover: (digest, signature, claimed) => this.signatures.recoverDigest(digest, signature, claimed),
      counters: this.counters,
      log: options.logger,
    })
    this.topology = options.topology ?? singleNodeTopology()
    const nodes = new Set(this.topology.map((n) => n.id))
    this.agents = new AgentRegistry(this.topology.find((n) => n.parent === null)!.id)
    this.agentMessages = new AgentMessages({
      community: options.community,
      agents: this.agents,
      telemetry: options.telemetry,
      onAgent: (view) => this.emit('agent', view),
      onTelemetry: (event) => this.emit('telemetry', event),
      metrics: this.metrics,
      counters: this.counters,
      log: options.logger,
    })
    this.membership = openMembership(join(options.dataDir, 'members.sqlite'), options.members, {
      community: options.community,
      chainId: options.chain.deployment.chainId,
      settlement: options.chain.deployment.settlement,
      nodes,
      publish: async (users) => {
        await this.publish.brokerUsers(users)
      },
      cancelOpenOrders: (address) => this.store.cancelOpenOrdersOf(address, this.clock.openInterval),
    }, this.agents)
    this.membership.on('change', (change) => {
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
    this.clock.openAt(Date.now())
    this.client = this.publish.client = await mqtt.connectAsync(m.url, { username: m.username, password: m.password, clientId: m.username, protocolVersion: 4, clean: true, reconnectPeriod: 1000 })
    this.client.on('message', (topic, payload) => void this.onMessage(topic, payload))
    this.client.on('error', (error) => this.log.warn({ err: error.message }, 'market: MQTT error'))
    // The broker learns the registry's accounts now and after every reconnect (it may have restarted).
    await this.membership.publishToBroker()
    this.client.on('connect', () => void this.membership.publishToBroker().catch((error: unknown) => this.log.warn({ err: String(error) }, 'market: could not send the member list to the broker')))
    await this.client.subscribeAsync(agentPublishedChannels.map((channel) => topics.allAgents(community, channel)), { qos: 1 })
    await this.publishState()
    // Intervals delivered before a restart but not yet settled: settle them now, oldest first.
    for (const interval of this.store.unsettledIntervals(this.clock.deliveringInterval)) this.settlements.queue(interval)
    this.clock.run()
    this.log.info({ community, openInterval: this.clock.openInterval, intervalSeconds: this.intervalSeconds, signatureBatching: this.signatures.batching }, 'market: started')
    warnWithoutNativeCode(this.log, this.signatures.batching)
  }

  async stop(): Promise<void> {
    this.clock.stop()
    await this.settlements.stop()
    await this.client?.endAsync()
    await this.agentMessages.close()
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
    return marketState(this.options, this.communityKey, this.intervalSeconds, this.clock.openInterval)
  }

  agentViews(): AgentView[] {
    return this.agents.all()
  }

  get telemetryStoreKind(): TelemetryStore['kind'] {
    return this.agentMessages.telemetryStoreKind
  }

  telemetryHistory(query: Omit<HistoryQuery, 'community'>): Promise<TelemetrySample[]> {
    return this.agentMessages.history(query)
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
    return publicBook(interval, this.store.ordersFor(interval), interval >= this.clock.openInterval)
  }

  agentIdOf(address: string): string | undefined {
    return this.agents.agentIdOf(address)
  }

  /**
   * Gate closure of the open interval: clear it and open the next. The interval delivered one
   * interval ago has had a whole interval for its meter readings: settle it now (sellers without a
   * reading are paid nothing for it), and try again any interval a failure left unsettled.
   */
  private closeGate(interval: number): void {
    this.escrow.invalidate()
    void this.publishState()
    const result = this.clear(interval)
    this.emit('interval', result)
    for (const unsettled of this.store.unsettledIntervals(interval - this.intervalSeconds)) this.settlements.queue(unsettled)
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
    this.metrics.cleared(result)
    this.publish.result(result)
    this.publish.expireResultsBefore(interval)
    this.publish.awards(intervalAwards(result, orders))
    this.log.info({ interval, orders: orders.length, price: result.clearingPrice, volumeWh: outcome.volumeWh, congested: result.congested }, 'market: cleared')
    return result
  }

  private async publishState(): Promise<void> {
    const state = this.state()
    this.emit('market', state)
    await this.publish.state(state)
  }

  private async onMessage(topic: string, payload: Buffer): Promise<void> {
    const parsed = parseAgentTopic(topic)
    if (!parsed || parsed.community !== this.options.community) return
    try {
      if (parsed.channel === 'orders') await this.submitOrder(payload, { mqttAgentId: parsed.agentId })
      else if (parsed.channel === 'state') this.agentMessages.state(parsed.agentId, payload)
      else if (parsed.channel === 'telemetry') this.agentMessages.telemetry(parsed.agentId, payload)
      else if (parsed.channel === 'meter') await this.meters.accept(parsed.agentId, payload)
    } catch (error) {
      // Whatever one message does, the market goes on.
      this.counters.increment('message_errors')
      this.log.error({ err: error, topic }, 'market: message handling failed')
    }
  }

  /** Order intake for MQTT and HTTP alike (order-intake.ts); acknowledged only once durably stored. */
  submitOrder(payload: Buffer | string, source: OrderSource): Promise<SubmitOutcome> {
    return this.intake.submit(payload, source)
  }
}
