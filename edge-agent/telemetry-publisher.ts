import type { MqttClient } from 'mqtt'
import type { Counters } from '../platform/counters.ts'
import { agentChannels, type OutboxChannel } from '../protocol/channels.ts'
import type { Snapshot } from '../protocol/snapshot.ts'
import { publishOptions } from '../protocol/topics.ts'
import type { DurableOutbox } from './outbox.ts'

/** QoS 1 messages from the outbox awaiting their PUBACK at once. */
const PUBLISH_WINDOW = 32

/**
 * What the agent sends that must not be lost, telemetry and signed meter readings, through its
 * durable outbox: samples gather until a flush makes them one message, every message waits on disk
 * and leaves the outbox only on the broker's PUBACK, oldest first, a window at a time.
 */
export class TelemetryPublisher {
  private pending: Snapshot[] = []
  private client: MqttClient | undefined
  private closed = false

  constructor(
    private readonly outbox: DurableOutbox,
    private readonly topicOf: (channel: OutboxChannel) => string,
    private readonly counters: Counters,
  ) {}

  /** The connection to publish on; the outbox is pumped whenever it (re)connects. */
  attach(client: MqttClient): void {
    this.client = client
  }

  sample(snapshot: Snapshot): void {
    this.pending.push(snapshot)
  }

  /** Samples since the last flush become one telemetry message in the outbox, sent when the broker can take it. */
  flush(): void {
    if (this.pending.length === 0) return
    this.outbox.appendTelemetry(this.pending)
    this.counters.increment('telemetry_samples_stored', this.pending.length)
    this.pending = []
    this.pump()
  }

  /** A signed meter reading (JSON), kept until the broker has it. */
  meterReading(payload: string): void {
    if (this.closed) return
    this.outbox.appendMeter(payload)
    this.counters.increment('meter_readings_stored')
    this.pump()
  }

  /** Publishes the outbox oldest first, a window at a time; a message leaves it only on its PUBACK. */
  pump(): void {
    const client = this.client
    if (this.closed || !client?.connected || this.outbox.inFlightCount >= PUBLISH_WINDOW) return
    for (const message of this.outbox.take(PUBLISH_WINDOW - this.outbox.inFlightCount)) {
      // mqtt.js keeps an unacknowledged QoS 1 message across reconnects and calls back on its PUBACK;
      // an error means it was not sent (the client ended): it stays in the outbox for the next start.
      client.publish(this.topicOf(message.channel), message.payload, publishOptions(agentChannels[message.channel]), (error) => {
        if (this.closed) return // the agent stopped: the message is still on disk for the next start
        if (error) return this.outbox.release(message.id)
        this.outbox.acknowledge(message.id)
        this.counters.increment(`${message.channel}_acknowledged`)
        this.pump()
      })
    }
  }

  /** Messages waiting in the outbox (sent or not) for the broker's acknowledgement. */
  get size(): number {
    return this.outbox.size
  }

  /** Stops publishing and closes the outbox; unacknowledged messages stay on disk for the next start. */
  close(): void {
    this.closed = true
    this.outbox.close()
  }
}
