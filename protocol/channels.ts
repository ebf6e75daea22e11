import type { z } from 'zod'
import { agentStateSchema, awardSchema, intervalResultSchema, marketStateSchema, telemetrySchema } from './messages.ts'
import { brokerUsersSchema } from './members.ts'
import { signedMeterReadingSchema } from './meter-reading.ts'
import { orderRequestSchema } from './order.ts'

/** Who connects to the broker: a home's agent, the market, or a read-only dashboard account. */
export type Role = 'agent' | 'market' | 'dashboard'

/**
 * One channel of a home, `vpp/v1/{community}/agents/{agentId}/{channel}` (docs/architecture.md "MQTT
 * topics"). The broker's ACL and payload checks, the agent's outbox and the topic builders all derive
 * from this table, so they cannot disagree on a channel.
 */
export interface AgentChannelSpec {
  /** What the payload must be; the broker checks it for channels agents publish. */
  schema: z.ZodType
  /** Who publishes: the home's own agent, or the market (to that agent). */
  publisher: 'agent' | 'market'
  /** Who may subscribe besides the market: the home's own agent, and dashboard accounts. */
  ownerReads: boolean
  dashboardReads: boolean
  qos: 0 | 1
  retain: boolean
  /** Kept in the agent's durable outbox while the broker is away (never lost on a restart). */
  outbox: boolean
}

export const agentChannels = {
  state: { schema: agentStateSchema, publisher: 'agent', ownerReads: false, dashboardReads: true, qos: 1, retain: true, outbox: false },
  telemetry: { schema: telemetrySchema, publisher: 'agent', ownerReads: false, dashboardReads: true, qos: 1, retain: false, outbox: true },
  orders: { schema: orderRequestSchema, publisher: 'agent', ownerReads: false, dashboardReads: false, qos: 1, retain: false, outbox: false },
  meter: { schema: signedMeterReadingSchema, publisher: 'agent', ownerReads: false, dashboardReads: false, qos: 1, retain: false, outbox: true },
  awards: { schema: awardSchema, publisher: 'market', ownerReads: true, dashboardReads: false, qos: 1, retain: false, outbox: false },
} as const satisfies Record<string, AgentChannelSpec>

/**
 * The market's own topics of a community: `market/state`, `market/intervals/{interval}` (public: every
 * member and dashboard reads them), and `broker/users` (to the broker alone, never forwarded).
 */
export const marketChannels = {
  state: { schema: marketStateSchema, qos: 1, retain: true },
  intervals: { schema: intervalResultSchema, qos: 1, retain: true },
  brokerUsers: { schema: brokerUsersSchema, qos: 1, retain: false },
} as const satisfies Record<string, { schema: z.ZodType; qos: 0 | 1; retain: boolean }>

export type AgentChannel = keyof typeof agentChannels
type ChannelWhere<K extends keyof AgentChannelSpec, V> = { [C in AgentChannel]: (typeof agentChannels)[C][K] extends V ? C : never }[AgentChannel]
/** The channels an agent publishes on. */
export type AgentPublishedChannel = ChannelWhere<'publisher', 'agent'>
/** The channels the agent's outbox keeps. */
export type OutboxChannel = ChannelWhere<'outbox', true>

const channelNames = Object.keys(agentChannels) as AgentChannel[]
const where = (test: (spec: AgentChannelSpec) => boolean) => channelNames.filter((c) => test(agentChannels[c]))

/** The channels an agent publishes on, each with the schema the broker checks its payloads against. */
export const agentPublishedChannels = where((s) => s.publisher === 'agent') as AgentPublishedChannel[]
/** The channels a dashboard account may read. */
export const dashboardChannels = where((s) => s.dashboardReads)
/** The channels the market publishes to one agent. */
export const marketToAgentChannels = where((s) => s.publisher === 'market')

/** Whether `channel` is one of the table's channels. */
export function isAgentChannel(channel: string): channel is AgentChannel {
  return Object.hasOwn(agentChannels, channel)
}
