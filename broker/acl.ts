import { parseAgentTopic, topics } from '../protocol/topics.ts'

export type Role = 'agent' | 'market' | 'dashboard'

export interface Principal {
  /** The agent id (for role `agent`), or the service account name. */
  id: string
  role: Role
  community: string
}

/**
 * May `who` publish to `topic`? (DESIGN.md "MQTT topics", ACL): an agent only under its own
 * `agents/{agentId}/`, never `awards`; the market under its community's `market/` and agents' `awards`.
 */
export function canPublish(who: Principal, topic: string): boolean {
  if (who.role === 'dashboard') return false
  const agentTopic = parseAgentTopic(topic)
  if (who.role === 'agent') {
    return (
      agentTopic !== null &&
      agentTopic.community === who.community &&
      agentTopic.agentId === who.id &&
      ['state', 'telemetry', 'orders', 'meter'].includes(agentTopic.channel)
    )
  }
  if (agentTopic) return agentTopic.community === who.community && agentTopic.channel === 'awards'
  return topic.startsWith(`vpp/v1/${who.community}/market/`) || topic === topics.brokerUsers(who.community)
}

/**
 * May `who` subscribe to `filter`? An agent: its own awards and the public market topics only. A
 * dashboard (read-only): the market topics and every home's state and telemetry, never orders or awards.
 */
export function canSubscribe(who: Principal, filter: string): boolean {
  if (who.role === 'market') return filter.startsWith(`vpp/v1/${who.community}/`)
  if (who.role === 'dashboard') {
    const agentFilter = parseAgentTopic(filter)
    if (agentFilter) return agentFilter.community === who.community && ['state', 'telemetry'].includes(agentFilter.channel)
    return filter.startsWith(`vpp/v1/${who.community}/market/`)
  }
  if (filter === topics.agent(who.community, who.id, 'awards')) return true
  const market = `vpp/v1/${who.community}/market/`
  // A wildcard that could reach beyond market/ (e.g. vpp/v1/c/#) is refused, so no filter leaks agents' topics.
  return filter.startsWith(market) || filter === `vpp/v1/${who.community}/market/#`
}
