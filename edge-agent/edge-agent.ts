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
import { IntervalMeter } from './interval-meter.ts'
import { signMeterReading } from './meter-reading-signer.ts'
import { DurableOutbox } from './outbox.ts'
import type { VendorMap } from './device-maps/vendor-map.ts'
import type { BatteryLimits } from './battery-controller.ts'
import { BatterySteering } from './battery-steering.ts'
import { HomeAssistantBridge, type HomeAssistantOptions } from './home-assistant-bridge.ts'
import { IntervalTrader } from './interval-trader.ts'
import { GridEnergyIntegrator } from './grid-energy-integrator.ts'
import { deviceReader, type DeviceReader } from './device-reader.ts'
import { TelemetryPublisher } from './telemetry-publisher.ts'
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
  homeAssistant?: HomeAssistantOptions
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
/** How many intervals of awards the agent remembers. */
const AWARDS_KEPT = 16

/**
 * The agent of one home: reads its device over Modbus (device-reader.ts), publishes telemetry
 * (telemetry-publisher.ts), trades each interval (interval-trader.ts), meters and signs what it
 * delivered, and steers its battery to deliver what it sold (battery-steering.ts).
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
  /** The battery, steered to deliver awards; absent when the agent may not write (battery-steering.ts). */
  private readonly battery: BatterySteering | undefined
  /** Forecast, orders and escrow, once per interval (interval-trader.ts). */
  private readonly trader: IntervalTrader
  /** Telemetry and meter readings through the durable outbox (telemetry-publisher.ts). */
  private readonly telemetry: TelemetryPublisher
  private client: MqttClient | undefined
  private homeAssistant: HomeAssistantBridge | undefined
  private session = 0
  private market: MarketState | undefined
  private marketSeenAt = 0
  /** Grid counters integrated from grid_w for products that keep none. */
  private readonly gridEnergy = new GridEnergyIntegrator()
  private meter: IntervalMeter | undefined
  private timers: NodeJS.Timeout[] = []
  private polling = false
  private pollFailures = 0
  private nextPollAt = 0
  private stopped = false

  constructor(private readonly options: EdgeAgentOptions) {
    this.account = privateKeyToAccount(options.privateKey)
    this.link = new ModbusLink(options.modbus, options.modbusLink)
    if (options.dataDir) mkdirSync(options.dataDir, { recursive: true })
    const outbox = new DurableOutbox({ path: options.dataDir ? join(options.dataDir, 'outbox.sqlite') : ':memory:', maxMessages: options.outboxMaxMessages })
    this.telemetry = new TelemetryPublisher(outbox, (channel) => topics.agent(options.community, options.agentId, channel), this.counters)
    this.reader = deviceReader(this.link, { unitId: options.unitId, profile: options.profile, normalize: options.normalize })
    const { battery, readOnly, logger: log } = options
    if (battery && !readOnly) {
      this.battery = new BatterySteering({ link: this.link, unitId: options.unitId, reader: this.reader, profile: options.profile, limits: battery, dataDir: options.dataDir, marketSilenceSeconds: options.marketSilenceSeconds, counters: this.counters, log })
    }
    this.trader = new IntervalTrader({
      account: this.account,
      strategy: options.strategy,
      battery,
      marketUrl: options.marketUrl,
      publishOrder: (signed) => this.client?.publish(topics.agent(options.community, options.agentId, 'orders'), JSON.stringify(signed), publishOptions(agentChannels.orders)),
      onEscrowFlag: () => this.publishState(),
      counters: this.counters,
      log,
    })
  }

  /** Whether the escrow could not cover the last interval's plan (published in the agent's state); unknown until asked. */
  get escrowShort(): boolean | undefined {
    return this.trader.escrowShort
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

    if (this.options.homeAssistant) this.homeAssistant = new HomeAssistantBridge(agentId, this.options.homeAssistant, this.account.address.slice(2, 10), () => this.lastSnapshot?.device, this.log)
    this.timers.push(setInterval(() => void this.poll(), this.options.pollMs))
    this.timers.push(setInterval(() => this.flushTelemetry(), this.options.telemetryMs))
    const battery = this.battery
    if (battery && this.options.profile?.batteryControl) {
      // A product without a revert timer may still be in a forced mode an earlier run left: hand it back first.
      try {
        if (!this.link.isOpen) await this.link.connect()
        await battery.write(null, this.lastSnapshot)
      } catch (error) {
        this.log.warn({ err: (error as Error).message }, 'agent: could not hand the battery back at start; will keep trying through control')
      }
    }
    if (battery) {
      const step = () => (this.stopped ? undefined : battery.step({ market: this.market, marketSeenAt: this.marketSeenAt, awards: this.awards, snapshot: this.lastSnapshot, meter: this.meter }))
      this.timers.push(setInterval(() => void step(), battery.controlSeconds * 1000))
    }
    await this.poll()
    if (battery?.reservesLeftHeld) {
      // An earlier run died while holding the battery through its reserve limits: give the owner's back.
      await battery.write(null, this.lastSnapshot).catch((error) => this.log.warn({ err: (error as Error).message }, 'agent: could not restore the battery reserve limits at start; will keep trying through control'))
    }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const t of this.timers) clearInterval(t)
    this.trader.stop()
    const stateTopic = topics.agent(this.options.community, this.options.agentId, 'state')
    this.flushTelemetry() // what was sampled since the last flush waits in the outbox for the next start
    if (this.battery?.holding) await this.battery.write(null, this.lastSnapshot).catch((error) => this.log.error({ err: error }, 'agent: could not hand the battery back on stop'))
    if (this.client?.connected) await this.client.publishAsync(stateTopic, JSON.stringify({ online: false, session: this.session, ts: new Date().toISOString() }), publishOptions(agentChannels.state))
    await this.client?.endAsync()
    await this.homeAssistant?.close()
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
        this.battery?.reconnected()
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
      this.trader.observe(checked.data)
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

  /** Samples since the last flush become one telemetry message in the outbox; Home Assistant sees the latest. */
  private flushTelemetry(): void {
    // Before the market is known there is no trading to show, only the device.
    const award = this.market ? this.awards.get(intervalStart(Date.now() / 1000, this.market.intervalSeconds)) : undefined
    this.homeAssistant?.publish(this.lastSnapshot, award)
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
      this.trader.marketState(parsed.data)
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

  /** The retained `state` message: online, this connection's session, the key, and the escrow flag. */
  private publishState(): void {
    const state: AgentState = { online: true, session: this.session, ts: new Date().toISOString(), address: this.account.address, ...(this.escrowShort === undefined ? {} : { escrowShort: this.escrowShort }) }
    this.client?.publish(topics.agent(this.options.community, this.options.agentId, 'state'), JSON.stringify(state), publishOptions(agentChannels.state))
  }
}
