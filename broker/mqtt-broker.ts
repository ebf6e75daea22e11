import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Aedes, type AedesOptions, type Client } from 'aedes'
import type { Logger } from '../platform/logger.ts'
import { Counters } from '../platform/counters.ts'
import { telemetrySchema, type Telemetry } from '../protocol/messages.ts'
import { parseAgentTopic, topics } from '../protocol/topics.ts'
import { DEFAULT_BROKER_LIMITS, Quota, type BrokerLimits } from './connection-limits.ts'
import { canPublish, canSubscribe, type Principal } from './acl.ts'
import { authenticator, SessionCounts } from './authenticator.ts'
import { LiveUsers } from './live-users.ts'
import { openListeners, type ListenerOptions } from './listeners.ts'
import { AuthThrottle } from './auth-throttle.ts'
import { guardPacketSize } from './patches/packet-size-guard.ts'
import { checkPatchedDependencies } from './patches/patched-dependencies.ts'
import { boundEmitterDepth } from './patches/bounded-emitter.ts'
import { checkedChannel } from './payload-policy.ts'
import { PayloadChecker } from './payload-checker.ts'
import { coalesceWrites } from './write-coalescing.ts'
import { cacheTopicMatches } from './patches/match-cache.ts'
import type { TelemetrySink } from '../telemetry/telemetry-sink.ts'
import type { User } from './users.ts'
import { brokerUsersSchema } from '../protocol/members.ts'

const require = createRequire(import.meta.url)

export interface BrokerOptions extends ListenerOptions {
  users: User[]
  /** Largest MQTT packet accepted, in bytes (fixed header excluded). Default 256 KiB. */
  maxPacketBytes?: number
  /** A subscriber that stops reading is dropped after this long, so it cannot stall the others. */
  drainTimeoutMs?: number
  /** Cluster mode: brokers sharing one Redis share subscriptions, retained messages and sessions. */
  redisUrl?: string
  telemetrySink?: TelemetrySink
  authThrottle?: AuthThrottle
  /** What one address, user and client may hold (connection-limits.ts); defaults for a community of homes. */
  limits?: Partial<BrokerLimits>
  /**
   * Check agents' payloads on a worker thread beside aedes (default: when the machine has more than
   * one core); false checks them on the broker's own thread.
   */
  payloadCheckThread?: boolean
  logger: Logger
}

export interface RunningBroker {
  /** The plain TCP listener's URL (or the first listener's when TCP is off). */
  url: string
  urls: { mqtt?: string; mqtts?: string; ws?: string }
  port: number
  counters: Counters
  aedes: Aedes
  close(): Promise<void>
}

/**
 * Where a denied publish goes: no client may subscribe to it and nothing forwards it, so the message is
 * dropped while the publisher keeps its connection (MQTT 3.1.1 has no negative PUBACK) [MQTT-3.3.5-2].
 */
const DROPPED_TOPIC = '$SYS/vpp/dropped'
const DEFAULT_MAX_PACKET_BYTES = 256 * 1024

/**
 * Starts the community's aedes broker: per-user authentication (scrypt) with bad-password throttling,
 * topic ACLs, payload checks for agents' messages, a packet size limit, and any of plain TCP, TLS and
 * WebSocket listeners; optionally clustered through Redis and feeding a telemetry sink.
 *
 * @example
 * const broker = await startBroker({ users, logger })
 * console.log(broker.url) // mqtt://127.0.0.1:41234
 */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  checkPatchedDependencies()
  const { logger } = options
  const counters = new Counters()
  const users = new LiveUsers(options.users)
  const principals = new WeakMap<object, Principal>()
  const sessions = new SessionCounts()
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES
  const limits = { ...DEFAULT_BROKER_LIMITS, ...options.limits }
  const connectionQuota = new Quota(limits.connectionsPerAddress, limits.connections)
  const subscriptions = new WeakMap<object, Set<string>>()

  const drop = (client: Client | null, topic: string, packet: { topic: string; retain: boolean }, counter: string, why: string) => {
    counters.increment(counter)
    counters.increment(`${counter.split('.')[0]}_total`)
    logger.warn({ clientId: client?.id, topic, why }, 'broker: publish dropped')
    packet.topic = DROPPED_TOPIC
    packet.retain = false
  }

  /** The market's current members: accounts replaced, the removed refused and disconnected at once. */
  const applyUsers = (community: string, payload: Buffer) => {
    const parsed = brokerUsersSchema.safeParse(safeJson(payload))
    if (!parsed.success) {
      counters.increment('broker_users_invalid')
      logger.error({ community, issue: parsed.error.issues[0]?.message }, 'broker: member list from the market refused')
      return
    }
    const ignored = users.replace(community, parsed.data)
    counters.increment('broker_users_updates')
    if (ignored.length) logger.warn({ community, ignored }, 'broker: member names that belong to another account were ignored')
    for (const client of Object.values((aedes as unknown as { clients: Record<string, Client> }).clients)) {
      const principal = principals.get(client)
      if (principal?.role === 'agent' && principal.community === community && !users.get(principal.id)) {
        counters.increment('clients_disconnected_removed')
        logger.info({ clientId: client.id, agentId: principal.id }, 'broker: member removed; disconnecting it')
        client.close()
      }
    }
  }

  const sink = options.telemetrySink
  const payloads = new PayloadChecker(options.payloadCheckThread ?? availableParallelism() > 1)
  /** Telemetry already parsed and checked at publish, by payload buffer, until the sink takes it. */
  const checkedTelemetry = new WeakMap<Buffer, Telemetry>()

  const aedesOptions: AedesOptions = {
    drainTimeout: options.drainTimeoutMs ?? 30_000,
    authenticate: authenticator({ users, throttle: options.authThrottle ?? new AuthThrottle(), limits, sessions, principals, counters, logger }),
    authorizePublish(client, packet, done) {
      const who = client ? principals.get(client) : undefined
      if (who?.role === 'market' && packet.topic === topics.brokerUsers(who.community)) {
        // The market's member registry: taken here, forwarded to nobody (it carries password hashes).
        applyUsers(who.community, packet.payload as Buffer)
        packet.topic = DROPPED_TOPIC
        packet.retain = false
        return done(null)
      }
      // aedes publishes a Will with client set to the one whose Will it is (or null when restoring an
      // old one); the Will topic was checked like any publish when that client connected.
      if (!who || !canPublish(who, packet.topic)) {
        drop(client, packet.topic, packet, `publish_denied.${who?.id ?? 'unknown'}`, 'not allowed by the ACL')
        return done(null)
      }
      const channel = who.role === 'agent' ? checkedChannel(packet.topic) : null
      if (!channel) return done(null)
      const payload = packet.payload as Buffer
      payloads.check(channel, payload, !!sink && channel === 'telemetry', (verdict) => {
        if (!verdict.ok) {
          drop(client, packet.topic, packet, `payload_invalid.${who.id}`, verdict.detail)
          return done(null)
        }
        // aedes hands the sink a new packet around the same payload buffer: the sink need not parse it again.
        if (sink && verdict.channel === 'telemetry') checkedTelemetry.set(payload, verdict.data as Telemetry)
        done(null)
      })
    },
    authorizeSubscribe(client, subscription, done) {
      const who = principals.get(client)
      if (!who || !canSubscribe(who, subscription.topic)) {
        counters.increment(`subscribe_denied.${who?.id ?? 'unknown'}`)
        logger.warn({ clientId: client.id, topic: subscription.topic }, 'broker: subscribe denied')
        // A null subscription is refused with SUBACK 0x80 [MQTT-3.9.3-1] without dropping the client.
        return done(null, null)
      }
      // Distinct topic filters one connection may subscribe to: a subscription costs the broker's
      // matcher memory and work on every publish.
      const held = subscriptions.get(client) ?? new Set<string>()
      if (!held.has(subscription.topic) && held.size >= limits.subscriptionsPerClient) {
        counters.increment('subscriptions_refused')
        logger.warn({ clientId: client.id, topic: subscription.topic }, 'broker: too many subscriptions')
        return done(null, null)
      }
      held.add(subscription.topic)
      subscriptions.set(client, held)
      done(null, subscription)
    },
    authorizeForward(_client, packet) {
      return packet.topic === DROPPED_TOPIC ? undefined : packet
    },
  }
  let redisClose = async () => {}
  if (options.redisUrl) {
    const mqemitterRedis = require('mqemitter-redis') as (opts: object) => NonNullable<AedesOptions['mq']>
    const redisPersistence = require('aedes-persistence-redis') as (opts: object) => NonNullable<AedesOptions['persistence']>
    const redis = new URL(options.redisUrl)
    const connection = { host: redis.hostname, port: Number(redis.port || 6379), db: Number(redis.pathname.slice(1) || 0) }
    aedesOptions.mq = cacheTopicMatches(boundEmitterDepth(mqemitterRedis(connection)))
    aedesOptions.persistence = redisPersistence(connection)
    redisClose = async () => {
      await new Promise<void>((resolve) => (aedesOptions.mq as unknown as { close(cb: () => void): void }).close(resolve))
    }
  }
  // aedes's default emitter, with its recursion bounded (bounded-emitter.ts) and its topic matches
  // remembered (match-cache.ts); concurrency as aedes sets it.
  aedesOptions.mq ??= cacheTopicMatches(boundEmitterDepth((require('mqemitter') as (opts: object) => NonNullable<AedesOptions['mq']>)({ concurrency: 100 })))
  const aedes = await Aedes.createBroker(aedesOptions)
  aedes.on('clientError', (client, error) => logger.debug({ clientId: client.id, err: error.message }, 'broker: client error'))
  aedes.on('client', (client) => {
    const who = principals.get(client)
    if (who) sessions.connected(client, who.id)
  })
  aedes.on('clientDisconnect', (client) => sessions.disconnected(client))

  if (sink) {
    // A server-side subscription: every telemetry message that passed the checks above.
    aedes.subscribe(topics.everyCommunity('telemetry'), (packet, callback) => {
      const topic = parseAgentTopic(packet.topic)
      const payload = packet.payload as Buffer
      // Checked at publish (an agent's), or parsed here (the market's own, or one from another broker of the cluster).
      const checked = checkedTelemetry.get(payload)
      checkedTelemetry.delete(payload)
      const parsed = checked ? { success: true as const, data: checked } : telemetrySchema.safeParse(safeJson(payload))
      if (topic && parsed.success) sink.accept(topic.community, topic.agentId, parsed.data)
      callback()
    }, () => {})
  }

  const handle = (stream: Socket | Duplex, remoteAddress: string | undefined) => {
    const address = remoteAddress ?? 'unknown'
    if (!connectionQuota.take(address)) {
      counters.increment('connections_refused')
      logger.warn({ remoteAddress }, 'broker: connection limit reached; connection closed')
      stream.destroy()
      return
    }
    stream.once('close', () => connectionQuota.release(address))
    coalesceWrites(stream)
    const client = aedes.handle(stream as Socket)
    guardPacketSize(client, stream, maxPacketBytes, (declared) => {
      counters.increment('packets_oversized')
      logger.warn({ remoteAddress, declared, maxPacketBytes }, 'broker: oversized packet; connection closed')
    })
  }

  const listeners = await openListeners(options, maxPacketBytes, handle)
  const { urls, port } = listeners
  logger.info({ urls, cluster: !!options.redisUrl }, 'broker: listening')

  return {
    url: urls.mqtt ?? urls.mqtts ?? urls.ws ?? '',
    urls,
    port,
    counters,
    aedes,
    close: async () => {
      await new Promise<void>((resolve) => aedes.close(() => resolve()))
      await payloads.close()
      await listeners.close()
      await sink?.close()
      await redisClose()
    },
  }
}

function safeJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'))
  } catch {
    return undefined
  }
}

