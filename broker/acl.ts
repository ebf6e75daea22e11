import { agentChannels, isAgentChannel, type Role } from '../protocol/channels.ts'
import { parseAgentTopic, topics } from '../protocol/topics.ts'

export type { Role } from '../protocol/channels.ts'

export interface Principal {
  /** The agent id (for role `agent`), or the service account name. */
  id: string
  role: Role
  community: string
}

/**
 * May `who` publish to `topic`? (docs/architecture.md "MQTT topics", ACL; each agent channel's
 * publisher is in protocol/channels.ts): an agent only its own channels that agents publish; the
 * market its community's `market/` topics, `broker/users` and the channels the market publishes to
 * agents; a dashboard nothing.
 */
export function canPublish(who: Principal, topic: string): boolean {
  if (who.role === 'dashboard') return false
  const agentTopic = parseAgentTopic(topic)
  if (agentTopic) {
    if (agentTopic.community !== who.community || !isAgentChannel(agentTopic.channel)) return false
    const publisher = agentChannels[agentTopic.channel].publisher
    return who.role === 'agent' ? publisher === 'agent' && agentTopic.agentId === who.id : publisher === 'market'
  }
  return who.role === 'market' && (topic.startsWith(topics.marketPrefix(who.community)) || topic === topics.brokerUsers(who.community))
}

/**
 * May `who` subscribe to `filter`? The market: everything of its community. A dashboard (read-only):
 * the market topics and the agent channels dashboards read (state and telemetry, never orders or
 * awards). An agent: the public market topics and its own channels that it reads (its awards).
 */
export function canSubscribe(who: Principal, filter: string): boolean {
  if (who.role === 'market') return filter.startsWith(topics.community(who.community))
  // A wildcard that could reach beyond market/ (e.g. vpp/v1/c/#) is refused, so no filter leaks agents' topics.
  if (filter.startsWith(topics.marketPrefix(who.community))) return true
  const agentFilter = parseAgentTopic(filter)
  if (!agentFilter || agentFilter.community !== who.community || !isAgentChannel(agentFilter.channel)) return false
  const channel = agentChannels[agentFilter.channel]
  return who.role === 'dashboard' ? channel.dashboardReads : channel.ownerReads && agentFilter.agentId === who.id
}
