import type { Logger } from '../../platform/logger.ts'
import type { Counters } from '../../platform/counters.ts'
import type { AgentView } from '../../protocol/api.ts'
import { agentStateSchema, telemetrySchema } from '../../protocol/messages.ts'
import type { Snapshot } from '../../protocol/snapshot.ts'
import { TelemetrySink } from '../../telemetry/telemetry-sink.ts'
import { MemoryTelemetryStore } from '../../telemetry/memory-telemetry-store.ts'
import type { HistoryQuery, TelemetryStore } from '../../telemetry/telemetry-store.ts'
import type { TelemetrySample } from '../../protocol/telemetry-history.ts'
import type { AgentRegistry } from './agent-registry.ts'
import type { MarketMetrics } from './market-metrics.ts'

export interface AgentMessagesOptions {
  community: string
  agents: AgentRegistry
  /**
   * Where telemetry history is kept. Absent: an in-memory store the market fills itself, through the
   * one telemetry writer (telemetry/telemetry-sink.ts). With `writtenBy: 'broker'`, the broker's sink
   * fills it (InfluxDB) and the market only reads.
   */
  telemetry?: { store: TelemetryStore; writtenBy: 'broker' | 'market' }
  onAgent(view: AgentView): void
  onTelemetry(event: { agentId: string; snapshot: Snapshot }): void
  metrics: MarketMetrics
  counters: Counters
  log: Logger
}

/**
 * Agents' retained state and telemetry as the market hears them: parsed with the protocol's schemas,
 * applied to the agent registry (presence, last snapshot), written to the telemetry history (unless
 * the broker writes it) and passed on. A member's invalid payload is dropped and counted; one from a
 * non-member is dropped silently (the broker refused it already).
 */
export class AgentMessages {
  private readonly store: TelemetryStore
  private readonly sink: TelemetrySink | undefined

  constructor(private readonly options: AgentMessagesOptions) {
    const telemetry = options.telemetry ?? { store: new MemoryTelemetryStore(), writtenBy: 'market' }
    this.store = telemetry.store
    if (telemetry.writtenBy === 'market') this.sink = new TelemetrySink(telemetry.store, { flushMs: 100, logger: options.log, counters: options.counters })
  }

  get telemetryStoreKind(): TelemetryStore['kind'] {
    return this.store.kind
  }

  /** One home's telemetry history, from whichever store keeps it. */
  history(query: Omit<HistoryQuery, 'community'>): Promise<TelemetrySample[]> {
    return this.store.history({ ...query, community: this.options.community })
  }

  /** Writes what the sink still holds. */
  async close(): Promise<void> {
    await this.sink?.close()
  }

  state(agentId: string, payload: Buffer): void {
    const { agents, metrics } = this.options
    const parsed = agentStateSchema.safeParse(safeJson(payload))
    if (!parsed.success) return this.invalid('state', agentId)
    const view = agents.applyState(agentId, parsed.data)
    if (!view) return
    metrics.agentsOnline.set(agents.onlineCount)
    this.options.onAgent(view)
  }

  telemetry(agentId: string, payload: Buffer): void {
    const { agents, counters, community } = this.options
    const parsed = telemetrySchema.safeParse(safeJson(payload))
    if (!parsed.success) return this.invalid('telemetry', agentId)
    const view = agents.applyTelemetry(agentId, parsed.data)
    if (!view) return
    this.sink?.accept(community, agentId, parsed.data)
    counters.increment('telemetry_samples', parsed.data.samples.length)
    this.options.onTelemetry({ agentId, snapshot: view.snapshot! })
  }

  private invalid(channel: string, agentId: string): void {
    if (!this.options.agents.addressOf(agentId)) return
    this.options.counters.increment(`invalid_${channel}`)
    this.options.log.warn({ agentId, channel }, 'market: invalid payload dropped')
  }
}

function safeJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString())
  } catch {
    return undefined
  }
}
