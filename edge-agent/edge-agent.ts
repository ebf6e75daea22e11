import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import mqtt, { type MqttClient } from 'mqtt'
import type { Hex } from 'viem'
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts'
import type { Logger } from '../platform/logger.ts'
import { Counters } from '../platform/counters.ts'
import { awardSchema, marketStateSchema, type AgentState, type Award, type MarketState } from '../protocol/messages.ts'
import type { Snapshot } from '../protocol/snapshot.ts'
import { snapshotSchema } from '../protocol/snapshot.ts'
import { publishOptions, topics } from '../protocol/topics.ts'
import { agentChannels } from '../protocol/channels.ts'
import { ModbusLink, type ModbusLinkOptions } from './modbus/modbus-link.ts'
import type { ModbusEndpoint } from './modbus/modbus-url.ts'
import type { NormalizeOptions } from './snapshot-normalizer.ts'
import type { StrategyParams } from './strategy.ts'
import type { EscrowFit } from './escrow-budget.ts'
import { fetchOwnEscrow } from './escrow-client.ts'
import { LoadProfile, forecastInterval, type IntervalForecast } from './forecast.ts'
import { signOrder } from './order-signer.ts'
import { IntervalMeter } from './interval-meter.ts'
import { signMeterReading } from './meter-reading-signer.ts'
import { DurableOutbox } from './outbox.ts'
import { homeAssistantDiscovery, homeAssistantState, homeAssistantTopics } from './home-assistant.ts'
import type { VendorMap } from './device-maps/vendor-map.ts'
import { batterySetpointW, type BatteryLimits } from './battery-controller.ts'
import { ReserveKeeper } from './battery-reserves.ts'
import { GridEnergyIntegrator } from './grid-energy-integrator.ts'
import { deviceReader, type DeviceReader } from './device-reader.ts'
import { chooseBatteryRoute, type BatteryRoute } from './battery-routes.ts'
import { TelemetryPublisher } from './telemetry-publisher.ts'
import { planIntervalOrders } from './interval-orders.ts'
import { intervalStart } from '../protocol/units.ts'

export interface EdgeAgentOptions {
  agentId: string
  community: string
  /** `ca`: the broker's CA certificate (PEM) for mqtts:// or wss:// with a private CA. */
  mqtt: { url: string; password: string; ca?: Buffer }
  modbus: ModbusEndpoint
  unitId: number
  privateKey: Hex
  pollMs: number
  telemetryMs: number
  strategy: StrategyParams
  normalize?: NormalizeOptions
  /** Where the outbox lives (survives restarts); in memory when absent. */
  dataDir?: string
  /** Outbox bound in messages; past it the oldest telemetry is downsampled. */
  outboxMaxMessages?: number
  /** Steer the battery (the vendor profile's commands, else SunSpec 124, 704 or 802) to deliver awards, within these limits; absent: never. */
  battery?: BatteryLimits & { controlSeconds?: number }
  /** Never write a register, whatever else is configured. */
  readOnly?: boolean
  /** Timeouts, spacing and retries of the Modbus link, for devices and gateways that need them. */
  modbusLink?: ModbusLinkOptions
  /** A vendor register map for a device that is not plain SunSpec. */
  profile?: VendorMap
  /** Show the home in Home Assistant through the homeowner's own MQTT broker. */
  homeAssistant?: { url: string; username?: string; password?: string; discoveryPrefix: string }
  /** With no market state for this long, the market is out of reach: the battery goes back to self-consumption. Default 2 intervals. */
  marketSilenceSeconds?: number
  /**
   * The market's HTTP API: before each interval's orders the agent asks it (with a query signed by its
   * key) what its escrow has free, and bids only what that covers. Absent: orders go out as planned.
   */
  marketUrl?: string
  logger: Logger
}

/** Longest pause between attempts to reach a device that does not answer. */
const MAX_RECONNECT_BACKOFF_MS = 60_000
/** How often the battery setpoint is worked out and written again. */
const DEFAULT_CONTROL_SECONDS = 5
/** A written setpoint lapses on the device after this many control periods unless written again. */
const REVERT_PERIODS = 3

/** How many intervals of awards the agent remembers. */
const AWARDS_KEPT = 16
/** How much recent grid power the forecast looks at. */
const FORECAST_WINDOW_SAMPLES = 60

/**
 * The agent of one home: reads its SunSpec device over Modbus, publishes telemetry, and before each
 * gate closure signs and publishes its orders for the open interval.
 */
export class EdgeAgent {
  readonly counters = new Counters()
  readonly account: PrivateKeyAccount
  lastSnapshot: Snapshot | undefined
  /** Awards of the last few intervals, by interval start: what the home must deliver. */
  readonly awards = new Map<number, Award>()
  private readonly link: ModbusLink
  /** SunSpec or the vendor map, chosen once (device-reader.ts). */
  private readonly reader: DeviceReader
  /** How the battery is steered, chosen once the device is known (battery-routes.ts); forgotten on reconnect. */
  private route: BatteryRoute | undefined
  /** Telemetry and meter readings through the durable outbox (telemetry-publisher.ts). */
  private readonly telemetry: TelemetryPublisher
  private client: MqttClient | undefined
  private homeAssistant: MqttClient | undefined
  private readonly recent: Snapshot[] = []
  private readonly loadProfile = new LoadProfile()
  private readonly reserves: ReserveKeeper
  private session = 0
  private orderedInterval = 0
  private market: MarketState | undefined
  private marketSeenAt = 0
  /** Grid counters integrated from grid_w for products that keep none. */
  private readonly gridEnergy = new GridEnergyIntegrator()
  /** The battery setpoint last written; null: handed back to the inverter (self-consumption). */
  private steering: number | null = null
  private meter: IntervalMeter | undefined
  private timers: NodeJS.Timeout[] = []
  private orderTimer: NodeJS.Timeout | undefined
  private polling = false
  private pollFailures = 0
  private nextPollAt = 0
  private stopped = false
  /** Whether the escrow could not cover the last interval's plan (published in the agent's state); unknown until asked. */
  escrowShort: boolean | undefined

  constructor(private readonly options: EdgeAgentOptions) {
    this.account = privateKeyToAccount(options.privateKey)
    this.link = new ModbusLink(options.modbus, options.modbusLink)
    if (options.dataDir) mkdirSync(options.dataDir, { recursive: true })
    const outbox = new DurableOutbox({ path: options.dataDir ? join(options.dataDir, 'outbox.sqlite') : ':memory:', maxMessages: options.outboxMaxMessages })
    this.telemetry = new TelemetryPublisher(outbox, (channel) => topics.agent(options.community, options.agentId, channel), this.counters)
    this.reader = deviceReader(this.link, { unitId: options.unitId, profile: options.profile, normalize: options.normalize })
    this.reserves = new ReserveKeeper(options.dataDir, (message) => this.log.warn(message))
  }

  private get log(): Logger {
    return this.options.logger
  }

  async start(): Promise<void> {
    const { agentId, community } = this.options
    const stateTopic = topics.agent(community, agentId, 'state')
    this.client = mqtt.connect(this.options.mqtt.url, {
      clientId: agentId,
      username: agentId,
      password: this.options.mqtt.password,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      will: { topic: stateTopic, payload: Buffer.from(JSON.stringify({ online: false })), ...publishOptions(agentChannels.state) },
      ...(this.options.mqtt.ca ? { ca: this.options.mqtt.ca } : {}),
    })
    this.telemetry.attach(this.client)
    this.client.on('connect', () => {
      this.session++
      this.publishState()
      this.client?.subscribe([topics.marketState(community), topics.agent(community, agentId, 'awards')], { qos: publishOptions(agentChannels.awards).qos })
      this.telemetry.pump()
    })
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload))
    this.client.on('error', (error) => this.log.warn({ err: error.message }, 'agent: MQTT error'))

    if (this.options.homeAssistant) this.connectHomeAssistant(this.options.homeAssistant)
    this.timers.push(setInterval(() => void this.poll(), this.options.pollMs))
    this.timers.push(setInterval(() => this.flushTelemetry(), this.options.telemetryMs))
    if (this.options.battery && !this.options.readOnly && this.options.profile?.batteryControl) {
      // A product without a revert timer may still be in a forced mode an earlier run left: hand it back first.
      try {
        if (!this.link.isOpen) await this.link.connect()
        await this.writeBattery(null)
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, 'agent: could not hand the battery back at start; will keep trying through control')
      }
    }
    if (this.options.battery && !this.options.readOnly) {
      this.timers.push(setInterval(() => void this.steerBattery(), (this.options.battery.controlSeconds ?? DEFAULT_CONTROL_SECONDS) * 1000))
    }
    await this.poll()
    if (this.options.battery && !this.options.readOnly && this.reserves.saved()) {
      // An earlier run died while holding the battery through its reserve limits: give the owner's back.
      await this.writeBattery(null).catch((error) => this.log.warn({ err: (error as Error).message }, 'agent: could not restore the battery reserve limits at start; will keep trying through control'))
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const t of this.timers) clearInterval(t)
    clearTimeout(this.orderTimer)
    const stateTopic = topics.agent(this.options.community, this.options.agentId, 'state')
    this.flushTelemetry() // what was sampled since the last flush waits in the outbox for the next start
    if (this.steering !== null) await this.writeBattery(null).catch((error) => this.log.error({ err: error }, 'agent: could not hand the battery back on stop'))
    if (this.client?.connected) await this.client.publishAsync(stateTopic, JSON.stringify({ online: false, session: this.session, ts: new Date().toISOString() }), publishOptions(agentChannels.state))
    await this.client?.endAsync()
    if (this.homeAssistant?.connected) await this.homeAssistant.publishAsync(homeAssistantTopics(this.options.agentId, this.options.homeAssistant!.discoveryPrefix).availability, 'offline', { qos: 1, retain: true })
    await this.homeAssistant?.endAsync()
    await this.link.close()
    this.telemetry.close()
  }

  /** One Modbus poll: (re)connect and discover when needed, read every model, normalize. */
  private async poll(): Promise<void> {
    // After failures the device is tried again after a growing pause (capped), not at every poll.
    if (this.polling || this.stopped || Date.now() < this.nextPollAt) return
    this.polling = true
    try {
      if (!this.link.isOpen) {
        await this.link.connect()
        // The device may have changed while the link was down: discover it and its battery route again.
        this.reader.reconnected()
        this.route = undefined
      }
      const snapshot = await this.reader.read(new Date())
      const checked = snapshotSchema.safeParse(this.gridEnergy.fill(snapshot))
      if (!checked.success) {
        this.counters.increment('device_values_out_of_range')
        this.log.warn({ issue: checked.error.issues[0] }, 'agent: device reported values out of range; sample dropped')
        return
      }
      this.lastSnapshot = checked.data
      this.meterInterval(checked.data)
      this.telemetry.sample(checked.data)
      this.recent.push(checked.data)
      if (checked.data.load_w !== null) {
        const d = new Date(checked.data.ts)
        this.loadProfile.observe(d.getHours() + d.getMinutes() / 60, checked.data.load_w)
      }
      if (this.recent.length > FORECAST_WINDOW_SAMPLES) this.recent.shift()
      this.counters.increment('polls_ok')
      this.pollFailures = 0
    } catch (error) {
      this.counters.increment('polls_failed')
      this.pollFailures++
      const backoffMs = Math.min(MAX_RECONNECT_BACKOFF_MS, this.options.pollMs * 2 ** (this.pollFailures - 1))
      this.nextPollAt = Date.now() + backoffMs
      this.log.warn({ err: (error as Error).message, retryInMs: backoffMs }, 'agent: device poll failed; will reconnect')
      await this.link.close()
    } finally {
      this.polling = false
    }
  }

  /** Discovery configs and availability on the homeowner's broker, then state with every telemetry flush. */
  private connectHomeAssistant(ha: NonNullable<EdgeAgentOptions['homeAssistant']>): void {
    const t = homeAssistantTopics(this.options.agentId, ha.discoveryPrefix)
    const client = mqtt.connect(ha.url, {
      username: ha.username,
      password: ha.password,
      clientId: `${t.node}_${this.account.address.slice(2, 10)}`,
      reconnectPeriod: 5000,
      will: { topic: t.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
    })
    client.on('connect', () => {
      const device = this.lastSnapshot?.device ?? { manufacturer: null, model: null, serial: null, version: null }
      for (const d of homeAssistantDiscovery(this.options.agentId, ha.discoveryPrefix, device)) client.publish(d.topic, d.payload, { qos: 1, retain: true })
      client.publish(t.availability, 'online', { qos: 1, retain: true })
    })
    client.on('error', (error) => this.log.warn({ err: error.message }, 'agent: Home Assistant broker error'))
    this.homeAssistant = client
  }

  private publishHomeAssistantState(): void {
    const client = this.homeAssistant
    if (!client?.connected || !this.lastSnapshot) return
    // Before the market is known there is no trading to show, only the device.
    const award = this.market ? this.awards.get(intervalStart(Date.now() / 1000, this.market.intervalSeconds)) : undefined
    client.publish(homeAssistantTopics(this.options.agentId, this.options.homeAssistant!.discoveryPrefix).state, homeAssistantState(this.lastSnapshot, award), { qos: 0, retain: true })
  }

  /** Samples since the last flush become one telemetry message in the outbox; Home Assistant sees the latest. */
  private flushTelemetry(): void {
    this.publishHomeAssistantState()
    this.telemetry.flush()
  }

  /** Messages waiting in the outbox (sent or not) for the broker's acknowledgement. */
  get outboxSize(): number {
    return this.telemetry.size
  }

  private onMessage(topic: string, payload: Buffer): void {
    let json: unknown
    try {
      json = JSON.parse(payload.toString())
    } catch {
      this.counters.increment('invalid_messages')
      return
    }
    if (topic === topics.marketState(this.options.community)) {
      const parsed = marketStateSchema.safeParse(json)
      if (!parsed.success) return this.counters.increment('invalid_messages')
      const fresh = !this.meter || this.market?.intervalSeconds !== parsed.data.intervalSeconds
      this.market = parsed.data
      this.marketSeenAt = Date.now()
      if (fresh) {
        this.meter = new IntervalMeter(parsed.data.intervalSeconds)
        // A sample taken before the market was known still says where the counters stood. Without it,
        // the first interval the home trades in could begin before the meter's first reading and go
        // unmetered, and a seller without a reading is not paid.
        if (this.lastSnapshot) this.meterInterval(this.lastSnapshot)
      }
      if (parsed.data.openInterval > this.orderedInterval) this.scheduleOrders(parsed.data)
    } else {
      const parsed = awardSchema.safeParse(json)
      if (!parsed.success) return this.counters.increment('invalid_messages')
      this.awards.set(parsed.data.interval, parsed.data)
      for (const interval of this.awards.keys()) if (this.awards.size > AWARDS_KEPT) this.awards.delete(interval)
      this.counters.increment('awards')
    }
  }

  /**
   * After each interval, a signed reading of what the home exported and imported in it (docs/architecture.md
   * step 4): settlement pays a seller only for what its reading shows it delivered.
   */
  private meterInterval(snapshot: Snapshot): void {
    const { grid_export_wh: exportWh, grid_import_wh: importWh } = snapshot.energy
    const market = this.market
    if (!this.meter || !market || exportWh === null || importWh === null) return
    for (const energy of this.meter.observe(Date.parse(snapshot.ts) / 1000, exportWh, importWh)) {
      // The market takes readings of sellers only (SECURITY.md: readings are rate-limited and checked
      // against the interval's trades); with no award known, send it anyway rather than go unpaid.
      const award = this.awards.get(energy.interval)
      if (award && !award.fills.some((f) => f.side === 1 && f.filledWh > 0)) continue
      const reading = { owner: this.account.address, community: market.communityKey, ...energy }
      void signMeterReading(this.account, reading, market.chainId, market.settlement)
        .then((signed) => {
          if (!this.stopped) this.telemetry.meterReading(JSON.stringify(signed))
        })
        .catch((error) => this.log.error({ err: error }, 'agent: signing the meter reading failed'))
    }
  }

  /**
   * One control step: with an award for the interval under way and the market in reach, the battery
   * setpoint that delivers it; otherwise, or on any error, the battery back in the inverter's own
   * self-consumption mode. Written every period with a revert timer of a few periods, so a setpoint
   * of an agent that died lapses on the device by itself.
   */
  private async steerBattery(): Promise<void> {
    const limits = this.options.battery
    const market = this.market
    const snapshot = this.lastSnapshot
    if (!limits || this.stopped) return
    try {
      const now = Date.now()
      const silenceS = this.options.marketSilenceSeconds ?? 2 * (market?.intervalSeconds ?? 900)
      const inReach = market !== undefined && now - this.marketSeenAt <= silenceS * 1000
      const interval = market ? intervalStart(now / 1000, market.intervalSeconds) : 0
      const award = inReach ? this.awards.get(interval) : undefined
      const { grid_export_wh: exportWh, grid_import_wh: importWh } = snapshot?.energy ?? { grid_export_wh: null, grid_import_wh: null }
      const delivered = exportWh !== null && importWh !== null ? this.meter?.sinceStart(now / 1000, exportWh, importWh) : undefined
      if (!market || !award || award.netWh === 0 || !snapshot || snapshot.pv_w === null || snapshot.load_w === null || !delivered) {
        if (this.steering !== null) await this.writeBattery(null)
        return
      }
      const setpoint = batterySetpointW(
        { awardNetWh: award.netWh, deliveredWh: delivered.exportedWh - delivered.importedWh, secondsLeft: interval + market.intervalSeconds - now / 1000, pvW: snapshot.pv_w, loadW: snapshot.load_w, socPct: snapshot.battery_soc_pct },
        limits,
      )
      await this.writeBattery(setpoint)
    } catch (error) {
      this.counters.increment('battery_control_errors')
      this.log.error({ err: error }, 'agent: battery control failed; handing the battery back to the inverter')
      await this.writeBattery(null).catch(() => undefined)
    }
  }

  /** Writes a setpoint (or null: self-consumption) by the device's battery route, and counts it. */
  private async writeBattery(setpointW: number | null): Promise<void> {
    const limits = this.options.battery
    if (this.options.readOnly || !limits) return
    this.route ??= chooseBatteryRoute({
      reader: this.reader,
      profile: this.options.profile,
      readModel: (address, length) => this.link.readHolding(this.options.unitId, address, length),
      revertSeconds: (limits.controlSeconds ?? DEFAULT_CONTROL_SECONDS) * REVERT_PERIODS,
      limits,
      reserves: this.reserves,
    })
    const s = this.lastSnapshot
    const writes = await this.route?.writes(setpointW, { pvW: s?.pv_w ?? null, loadW: s?.load_w ?? null, socPct: s?.battery_soc_pct ?? null })
    if (!writes) {
      // Nothing on this device takes a setpoint: the battery stays the inverter's.
      this.steering = null
      return
    }
    for (const w of writes) await this.link.writeRegisters(this.options.unitId, w.address, w.values)
    if (setpointW === null) this.reserves.clear()
    this.steering = setpointW
    this.counters.increment(setpointW === null ? 'battery_released' : 'battery_setpoints')
  }

  /** Orders go out a little after the interval opens, spread so the homes do not all publish at once. */
  private scheduleOrders(market: MarketState): void {
    this.orderedInterval = market.openInterval
    const window = Math.max(0, market.gateClosure * 1000 - Date.now())
    const delay = Math.min(window * 0.5, 200 + Math.random() * window * 0.3)
    clearTimeout(this.orderTimer)
    this.orderTimer = setTimeout(() => void this.placeOrders(market).catch((error) => this.log.error({ err: error }, 'agent: placing orders failed')), delay)
  }

  /** The home's forecast position for the open interval, from its recent samples, its learned load and its battery. */
  forecast(market: MarketState): IntervalForecast {
    const mean = (values: (number | null)[]) => {
      const present = values.filter((v): v is number => v !== null)
      return present.length ? present.reduce((a, b) => a + b, 0) / present.length : 0
    }
    const hourOf = (unixSeconds: number) => {
      const d = new Date(unixSeconds * 1000)
      return d.getHours() + d.getMinutes() / 60 + d.getSeconds() / 3600
    }
    const b = this.options.battery
    const soc = this.lastSnapshot?.battery_soc_pct ?? null
    return forecastInterval({
      recentPvW: mean(this.recent.map((s) => s.pv_w)),
      recentLoadW: mean(this.recent.map((s) => s.load_w)),
      nowHour: hourOf(Date.now() / 1000),
      targetStartHour: hourOf(market.openInterval),
      intervalSeconds: market.intervalSeconds,
      profile: this.loadProfile,
      battery: b?.capacityWh && soc !== null ? { socPct: soc, capacityWh: b.capacityWh, maxW: b.maxW, floorPct: b.socFloorPct } : undefined,
    })
  }

  /** The retained `state` message: online, this connection's session, the key, and the escrow flag. */
  private publishState(): void {
    const state: AgentState = { online: true, session: this.session, ts: new Date().toISOString(), address: this.account.address, ...(this.escrowShort === undefined ? {} : { escrowShort: this.escrowShort }) }
    this.client?.publish(topics.agent(this.options.community, this.options.agentId, 'state'), JSON.stringify(state), publishOptions(agentChannels.state))
  }

  /**
   * What the escrow has free, asked of the market with a query signed by the home's key; undefined
   * when there is no market URL or it cannot be asked (then the plan goes out whole and intake refuses
   * what the escrow does not cover).
   */
  private async freeEscrow(): Promise<{ freeBaseUnits: bigint; imbalancePrice: number } | undefined> {
    if (!this.options.marketUrl) return undefined
    try {
      const escrow = await fetchOwnEscrow(this.options.marketUrl, this.account)
      return { freeBaseUnits: escrow.free, imbalancePrice: escrow.imbalancePrice }
    } catch (error) {
      this.counters.increment('escrow_query_failed')
      this.log.warn({ err: (error as Error).message }, 'agent: could not ask the market what the escrow has free; orders go out as planned')
      return undefined
    }
  }

  /** Signs and publishes the interval's orders (interval-orders.ts), bidding only what the escrow covers. */
  private async placeOrders(market: MarketState): Promise<void> {
    const input = { netWh: this.forecast(market).netWh, strategy: this.options.strategy, market, owner: this.account.address }
    // Only a home with something to trade asks the market about its escrow.
    if (planIntervalOrders(input).orders.length === 0) return
    const escrow = await this.freeEscrow()
    const { orders, fit } = planIntervalOrders({ ...input, escrow })
    if (fit) this.noteEscrow(fit, escrow!.freeBaseUnits, market.openInterval)
    for (const order of orders) {
      const signed = await signOrder(this.account, order, market.chainId, market.settlement)
      this.client?.publish(topics.agent(this.options.community, this.options.agentId, 'orders'), JSON.stringify(signed), publishOptions(agentChannels.orders))
      this.counters.increment('orders_sent')
    }
    this.log.debug({ interval: market.openInterval, orders: orders.length }, 'agent: orders sent')
  }

  /** When the escrow cut the plan: a warning and a count; whenever that changes, the state flag. */
  private noteEscrow(fit: EscrowFit, freeBaseUnits: bigint, interval: number): void {
    if (fit.short) {
      this.counters.increment('orders_cut_for_escrow')
      this.log.warn(
        { interval, freeBaseUnits: freeBaseUnits.toString(), plannedHoldBaseUnits: fit.plannedHoldBaseUnits.toString(), keptHoldBaseUnits: fit.keptHoldBaseUnits.toString() },
        'agent: escrow cannot cover the planned orders; bidding only what it covers (vpp wallet deposit adds money)',
      )
    }
    if (fit.short !== this.escrowShort) {
      this.escrowShort = fit.short
      this.publishState()
    }
  }
}
