import type { Address } from 'viem'
import type { AgentView } from '../../protocol/api.ts'
import type { AgentState, Telemetry } from '../../protocol/messages.ts'

/**
 * The homes the market trades for, as it sees them right now: each member's address and grid node,
 * and its live view for the dashboard (online, session, escrow flag, latest snapshot), kept across
 * membership changes. Pure state; the service feeds it the members and the agents' messages.
 */
export class AgentRegistry {
  private readonly views = new Map<string, AgentView>()
  private readonly byAddress = new Map<string, string>()

  /** `root`: the grid node of members that name none. */
  constructor(private readonly root: string) {}

  /** Adds a member, or updates its address and node (its view is kept). */
  set(member: { agentId: string; address: Address; node?: string }): void {
    const node = member.node ?? this.root
    const view = this.views.get(member.agentId)
    this.views.set(member.agentId, view ? { ...view, address: member.address, node } : { agentId: member.agentId, address: member.address, online: false, session: null, lastSeen: null, snapshot: null, node })
    this.byAddress.set(member.address.toLowerCase(), member.agentId)
  }

  /**
   * A member removed: it no longer trades (intake finds no address for it). Its addresses still name
   * it, so its past trades keep their home's name.
   */
  remove(agentId: string): void {
    this.views.delete(agentId)
  }

  all(): AgentView[] {
    return [...this.views.values()]
  }

  addressOf(agentId: string): Address | undefined {
    return this.views.get(agentId)?.address
  }

  /** The member an address belongs or belonged to (a key it rotated away from still names it). */
  agentIdOf(address: string): string | undefined {
    return this.byAddress.get(address.toLowerCase())
  }

  /** The grid node a member trades at (the root for one that names none); undefined for a stranger. */
  nodeOf(agentId: string): string | undefined {
    return this.views.get(agentId)?.node
  }

  get onlineCount(): number {
    let n = 0
    for (const v of this.views.values()) if (v.online) n++
    return n
  }

  /** The agent's retained state message; its updated view, or undefined for a stranger. */
  applyState(agentId: string, state: AgentState): AgentView | undefined {
    const view = this.views.get(agentId)
    if (!view) return undefined
    view.online = state.online
    view.session = state.session ?? view.session
    // The Will ({online:false}) says nothing about escrow: the last word stands.
    if (state.escrowShort !== undefined) view.escrowShort = state.escrowShort
    view.lastSeen = state.ts ?? new Date().toISOString()
    return view
  }

  /** A telemetry message: the view keeps its latest sample; undefined for a stranger. */
  applyTelemetry(agentId: string, telemetry: Telemetry): AgentView | undefined {
    const view = this.views.get(agentId)
    if (!view) return undefined
    view.snapshot = telemetry.samples[telemetry.samples.length - 1]!
    view.lastSeen = view.snapshot.ts
    return view
  }
}
