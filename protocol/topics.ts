import type { AgentChannel } from './channels.ts'

export type { AgentChannel } from './channels.ts'

/**
 * MQTT topic builders for `vpp/v1/{community}/...` (docs/architecture.md "MQTT topics"). Every part builds and
 * parses topics here so the ACL, the market and the agents can never disagree on a name.
 */
const ROOT = 'vpp/v1'


export const topics = {
  agent: (community: string, agentId: string, channel: AgentChannel) => `${ROOT}/${community}/agents/${agentId}/${channel}`,
  allAgents: (community: string, channel: AgentChannel) => `${ROOT}/${community}/agents/+/${channel}`,
  /** One channel of every agent of every community (the telemetry sink of a shared broker). */
  everyCommunity: (channel: AgentChannel) => `${ROOT}/+/agents/+/${channel}`,
  /** Everything of one community: the market subscribes below it. */
  community: (community: string) => `${ROOT}/${community}/`,
  /** The public market topics of a community, all below this prefix. */
  marketPrefix: (community: string) => `${ROOT}/${community}/market/`,
  marketState: (community: string) => `${ROOT}/${community}/market/state`,
  marketInterval: (community: string, interval: number) => `${ROOT}/${community}/market/intervals/${interval}`,
  marketAll: (community: string) => `${ROOT}/${community}/market/#`,
  /** The market tells the broker its members' accounts here; the broker takes it and forwards it to nobody. */
  brokerUsers: (community: string) => `${ROOT}/${community}/broker/users`,
}

export interface ParsedAgentTopic {
  community: string
  agentId: string
  channel: string
}

/**
 * Topics parsed before. The broker parses each message's topic up to three times (ACL, payload check,
 * telemetry sink), and a home uses the same few topics all day. Bounded: when full it starts over, so
 * a client inventing topics costs memory only up to the bound.
 */
const parsedTopics = new Map<string, Readonly<ParsedAgentTopic> | null>()
const PARSED_TOPICS_MAX = 50_000

/** Splits `vpp/v1/{community}/agents/{agentId}/{channel}`; null for any other topic. */
export function parseAgentTopic(topic: string): Readonly<ParsedAgentTopic> | null {
  let parsed = parsedTopics.get(topic)
  if (parsed !== undefined) return parsed
  const parts = topic.split('/')
  parsed = parts.length !== 6 || parts[0] !== 'vpp' || parts[1] !== 'v1' || parts[3] !== 'agents' ? null : Object.freeze({ community: parts[2]!, agentId: parts[4]!, channel: parts[5]! })
  if (parsedTopics.size >= PARSED_TOPICS_MAX) parsedTopics.clear()
  parsedTopics.set(topic, parsed)
  return parsed
}

/**
 * How a channel's messages are published (QoS, retain), from its row of the channel table:
 * `publishOptions(agentChannels.awards)`, `publishOptions(marketChannels.intervals)`.
 */
export function publishOptions({ qos, retain }: { qos: 0 | 1; retain: boolean }): { qos: 0 | 1; retain: boolean } {
  return { qos, retain }
}
