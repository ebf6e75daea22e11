import type { Logger } from '../../platform/logger.ts'
import type { Counters } from '../../platform/counters.ts'
import type { AgentView } from '../../protocol/api.ts'
import { agentStateSchema, telemetrySchema } from '../../protocol/messages.ts'
import type { Snapshot } from '../../protocol/snapshot.ts'
import type { TelemetrySink } from '../../telemetry/telemetry-sink.ts'
import type { AgentRegistry } from './agent-registry.ts'
import type { MarketMetrics } from './market-metrics.ts'

export interface AgentMessagesOptions {
  community: string
  agents: AgentRegistry
  /** The market's own telemetry writer, when it fills its own store (not when the broker's sink does). */
  telemetrySink: TelemetrySink | undefined
  onAgent(view: AgentView): void
  onTelemetry(event: { agentId: string; snapshot: Snapshot }): void
  metrics: MarketMetrics
  counters: Counters
  log: Logger
}

/**
 * Agents' retained state and telemetry as the market hears them: parsed with the protocol's schemas,
 * applied to the agent registry (presence, last snapshot) and passed on. A member's invalid payload
 * is dropped and counted; one from a non-member is dropped silently (the broker refused it already).
 */
export class AgentMessages {
  constructor(private readonly options: AgentMessagesOptions) {}

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
    this.options.telemetrySink?.accept(community, agentId, parsed.data)
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
