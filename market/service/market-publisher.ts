import type { MqttClient } from 'mqtt'
import type { Award, IntervalResult, MarketState } from '../../protocol/messages.ts'
import type { BrokerUsers } from '../../protocol/members.ts'
import { agentChannels, marketChannels } from '../../protocol/channels.ts'
import { publishOptions, topics } from '../../protocol/topics.ts'
import { broadcastResult } from './interval-result.ts'

/** How many past clearing results stay retained on the broker for late subscribers. */
const RETAINED_RESULTS = 96

/**
 * Everything the market publishes over MQTT, each on its channel's topic with its QoS and retain
 * flag (protocol/channels.ts). Publishing before the connection is up does nothing: the state and the
 * member list are sent again on connect.
 */
export class MarketPublisher {
  client: MqttClient | undefined

  constructor(
    private readonly community: string,
    private readonly intervalSeconds: number,
  ) {}

  async state(state: MarketState): Promise<void> {
    await this.client?.publishAsync(topics.marketState(this.community), JSON.stringify(state), publishOptions(marketChannels.state))
  }

  /** A cleared (or since settled) interval; a large one without its trades (interval-result.ts). */
  result(result: IntervalResult): void {
    this.client?.publish(topics.marketInterval(this.community, result.interval), JSON.stringify(broadcastResult(result)), publishOptions(marketChannels.intervals))
  }

  /**
   * After `interval` cleared: the result that has been retained longest is deleted (an empty retained
   * payload deletes it [MQTT-3.3.1-10]), so the broker keeps a bounded history.
   */
  expireResultsBefore(interval: number): void {
    const expired = interval - RETAINED_RESULTS * this.intervalSeconds
    this.client?.publish(topics.marketInterval(this.community, expired), '', publishOptions(marketChannels.intervals))
  }

  awards(awards: Iterable<[string, Award]>): void {
    for (const [agentId, award] of awards) this.client?.publish(topics.agent(this.community, agentId, 'awards'), JSON.stringify(award), publishOptions(agentChannels.awards))
  }

  /** The member registry's accounts, for the broker only (it takes them and forwards them to nobody). */
  async brokerUsers(users: BrokerUsers): Promise<void> {
    await this.client?.publishAsync(topics.brokerUsers(this.community), JSON.stringify(users), publishOptions(marketChannels.brokerUsers))
  }
}
