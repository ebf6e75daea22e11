import mqtt, { type MqttClient } from 'mqtt'
import type { Logger } from '../platform/logger.ts'
import type { Award } from '../protocol/messages.ts'
import type { Snapshot } from '../protocol/snapshot.ts'
import { homeAssistantDiscovery, homeAssistantState, homeAssistantTopics } from './home-assistant.ts'

export interface HomeAssistantOptions {
  url: string
  username?: string
  password?: string
  discoveryPrefix: string
}

const UNKNOWN_DEVICE: Snapshot['device'] = { manufacturer: null, model: null, serial: null, version: null }

/**
 * The home in Home Assistant through the homeowner's own MQTT broker (home-assistant.ts): discovery
 * configs and availability on every connect, then the latest snapshot and award with every telemetry
 * flush; `offline` by the Will when the agent dies, and on stop.
 */
export class HomeAssistantBridge {
  private readonly client: MqttClient
  private readonly topics

  constructor(agentId: string, options: HomeAssistantOptions, clientSuffix: string, device: () => Snapshot['device'] | undefined, log: Logger) {
    const t = (this.topics = homeAssistantTopics(agentId, options.discoveryPrefix))
    this.client = mqtt.connect(options.url, {
      username: options.username,
      password: options.password,
      clientId: `${t.node}_${clientSuffix}`,
      reconnectPeriod: 5000,
      will: { topic: t.availability, payload: Buffer.from('offline'), qos: 1, retain: true },
    })
    this.client.on('connect', () => {
      for (const d of homeAssistantDiscovery(agentId, options.discoveryPrefix, device() ?? UNKNOWN_DEVICE)) this.client.publish(d.topic, d.payload, { qos: 1, retain: true })
      this.client.publish(t.availability, 'online', { qos: 1, retain: true })
    })
    this.client.on('error', (error) => log.warn({ err: error.message }, 'agent: Home Assistant broker error'))
  }

  /** The home's state; before the market is known there is no award, only the device. */
  publish(snapshot: Snapshot | undefined, award: Award | undefined): void {
    if (!this.client.connected || !snapshot) return
    this.client.publish(this.topics.state, homeAssistantState(snapshot, award), { qos: 0, retain: true })
  }

  async close(): Promise<void> {
    if (this.client.connected) await this.client.publishAsync(this.topics.availability, 'offline', { qos: 1, retain: true })
    await this.client.endAsync()
  }
}
