import { randomBytes } from 'node:crypto'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { createServer as createTlsServer } from 'node:tls'
import type { Duplex } from 'node:stream'
import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { Aedes, type AedesOptions, type Client } from 'aedes'
import { WebSocketServer, createWebSocketStream } from 'ws'
import type { Logger } from '../platform/logger.ts'
import { Counters } from '../platform/counters.ts'
import { listen } from '../platform/listen.ts'
import { telemetrySchema, type Telemetry } from '../protocol/messages.ts'
import { parseAgentTopic, topics } from '../protocol/topics.ts'
import { hashCost, hashPassword, SCRYPT, verifyPassword } from './credentials.ts'
import { DEFAULT_BROKER_LIMITS, Quota, type BrokerLimits } from './connection-limits.ts'
import { canPublish, canSubscribe, type Principal } from './acl.ts'
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
import { brokerUsersSchema, type BrokerUsers } from '../protocol/members.ts'

const require = createRequire(import.meta.url)

export interface BrokerOptions {
  users: User[]
  /** Plain MQTT over TCP; `port: null` turns it off. Default loopback, port 0 (any free port). */
  host?: string
  port?: number | null
  tls?: { host?: string; port: number; cert: string | Buffer; key: string | Buffer }
  websocket?: { host?: string; port: number; path?: string }
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

/** CONNACK return code 4: bad user name or password [MQTT-3.2.2-3, table 3.1]. */
const BAD_CREDENTIALS = 4
/** CONNACK return code 3: server unavailable; a client tries again later [MQTT-3.2.2-3, table 3.1]. */
const SERVER_UNAVAILABLE = 3
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
  /** The user each connected client counts against, and the client ids connected (a take-over of one is no new session). */
  const sessionOf = new WeakMap<object, string>()
  const connectedIds = new Map<string, number>()
  const throttle = options.authThrottle ?? new AuthThrottle()
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES
  const limits = { ...DEFAULT_BROKER_LIMITS, ...options.limits }
  const connectionQuota = new Quota(limits.connectionsPerAddress, limits.connections)
  const pendingAuth = new Quota(limits.pendingAuthPerAddress)
  // Counted without a cap: the cap is applied at login, and a take-over briefly holds one more.
  const sessions = new Quota(Number.POSITIVE_INFINITY)
  const subscriptions = new WeakMap<object, Set<string>>()
  // An unknown user name is checked against this hash, at the cost most users' hashes have, so a
  // refusal takes as long whether or not the name exists (no user enumeration by timing).
  const dummyHash = hashPassword(randomBytes(16).toString('hex'), mostCommonCost(options.users.map((u) => hashCost(u.passwordHash))))

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
    authenticate(client, username, password, done) {
      const address = (client.conn as { remoteAddress?: string }).remoteAddress ?? 'unknown'
      const refuse = (returnCode: number, message: string) => done(Object.assign(new Error(message), { returnCode }), false)
      // Parallel guesses from one address wait their turn: each answer is throttled by the failures before it.
      if (!pendingAuth.take(address)) {
        counters.increment('auth_busy')
        return refuse(SERVER_UNAVAILABLE, 'too many logins in progress from this address; try again')
      }
      setTimeout(async () => {
        try {
          const user = username ? users.get(username) : undefined
          counters.increment('password_checks')
          // scrypt runs whatever the name: an unknown one against the dummy hash.
          const verified = await verifyPassword(password?.toString('utf8') ?? '', user?.passwordHash ?? dummyHash).catch(() => false)
          const ok = verified && !!user && !!password && ownsClientId(user.username, client.id)
          if (!ok || !user) {
            throttle.failed(address)
            counters.increment('auth_failed')
            logger.warn({ clientId: client.id, username, address }, 'broker: authentication failed')
            return refuse(BAD_CREDENTIALS, 'bad user name or password')
          }
          throttle.succeeded(address)
          if (sessions.count(user.username) >= limits.sessionsPerUser && !connectedIds.has(client.id)) {
            counters.increment('sessions_refused')
            logger.warn({ clientId: client.id, username }, 'broker: too many sessions for this user')
            return refuse(SERVER_UNAVAILABLE, `at most ${limits.sessionsPerUser} sessions per user`)
          }
          // Only the market keeps a persistent session: for anyone else the broker would queue QoS 1
          // messages while they are away, without bound. Agents ask for clean sessions anyway; a client
          // that asks for a persistent one gets a clean one (CONNACK session present 0).
          if (!client.clean && user.role !== 'market') {
            client.clean = true
            counters.increment('sessions_made_clean')
          }
          principals.set(client, { id: user.username, role: user.role, community: user.community })
          done(null, true)
        } finally {
          pendingAuth.release(address)
        }
      }, throttle.delayMs(address))
    },
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
  // Sessions per user, counted from connect to disconnect; a take-over by the same client id keeps its count.
  aedes.on('client', (client) => {
    const who = principals.get(client)
    if (!who) return
    sessions.take(who.id)
    sessionOf.set(client, who.id)
    connectedIds.set(client.id, (connectedIds.get(client.id) ?? 0) + 1)
  })
  aedes.on('clientDisconnect', (client) => {
    const user = sessionOf.get(client)
    if (user === undefined) return
    sessionOf.delete(client)
    sessions.release(user)
    const n = connectedIds.get(client.id) ?? 0
    if (n <= 1) connectedIds.delete(client.id)
    else connectedIds.set(client.id, n - 1)
  })

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

  const servers: (NetServer | HttpServer)[] = []
  const urls: RunningBroker['urls'] = {}
  const host = options.host ?? '127.0.0.1'
  let port = 0
  if (options.port !== null) {
    const server = createNetServer((socket) => handle(socket, socket.remoteAddress))
    port = await listen(server, { port: options.port ?? 0, host })
    urls.mqtt = `mqtt://${host}:${port}`
    servers.push(server)
  }
  if (options.tls) {
    const server = createTlsServer({ cert: options.tls.cert, key: options.tls.key }, (socket) => handle(socket, socket.remoteAddress))
    const tlsHost = options.tls.host ?? host
    urls.mqtts = `mqtts://${tlsHost}:${await listen(server, { port: options.tls.port, host: tlsHost })}`
    servers.push(server)
  }
  if (options.websocket) {
    const path = options.websocket.path ?? '/mqtt'
    const server = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with an MQTT client'))
    const wss = new WebSocketServer({ server, path, maxPayload: maxPacketBytes + 5 })
    wss.on('connection', (ws, req) => {
      // authenticate() throttles by the connection's remoteAddress, which a WebSocket stream lacks.
      const stream = Object.assign(createWebSocketStream(ws), { remoteAddress: req.socket.remoteAddress })
      handle(stream, req.socket.remoteAddress)
    })
    const wsHost = options.websocket.host ?? host
    urls.ws = `ws://${wsHost}:${await listen(server, { port: options.websocket.port, host: wsHost })}${path}`
    servers.push(server)
  }
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
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              if ('closeAllConnections' in s) s.closeAllConnections()
              s.close(() => resolve())
            }),
        ),
      )
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

/**
 * A client id must be the username, or `username:suffix` for a second tool of the same home: a home
 * can never take over another home's session by connecting with its client id [MQTT-3.1.4-2].
 * `:` is not allowed in usernames, so a suffix cannot collide with another account.
 */
/**
 * The broker's accounts: those of its users file, and those the market's member registry sends for
 * its community, which add agents and refuse removed ones. A service account of the file (market,
 * dashboard) is never replaced or removed by the registry, so a member named "market" cannot take
 * the market's place.
 */
class LiveUsers {
  private readonly fromFile: Map<string, User>
  private readonly fromRegistry = new Map<string, Map<string, User>>()
  private readonly removed = new Map<string, Set<string>>()

  constructor(users: readonly User[]) {
    this.fromFile = new Map(users.map((u) => [u.username, u]))
  }

  get(username: string): User | undefined {
    const file = this.fromFile.get(username)
    if (file && file.role !== 'agent') return file
    for (const [community, names] of this.removed) if (names.has(username) && (!file || file.community === community)) return undefined
    for (const byName of this.fromRegistry.values()) {
      const user = byName.get(username)
      if (user) return user
    }
    return file
  }

  all(): User[] {
    return [...this.fromFile.values(), ...[...this.fromRegistry.values()].flatMap((m) => [...m.values()])]
  }

  /** Sets a community's registry accounts; the names it had to ignore (another account's). */
  replace(community: string, update: BrokerUsers): string[] {
    const ignored: string[] = []
    const accounts = new Map<string, User>()
    for (const u of update.users) {
      const file = this.fromFile.get(u.username)
      const elsewhere = [...this.fromRegistry].some(([c, m]) => c !== community && m.has(u.username))
      if ((file && (file.role !== 'agent' || file.community !== community)) || elsewhere) {
        ignored.push(u.username)
        continue
      }
      accounts.set(u.username, { username: u.username, passwordHash: u.passwordHash, role: 'agent', community })
    }
    this.fromRegistry.set(community, accounts)
    this.removed.set(community, new Set(update.removed))
    return ignored
  }
}

/** The scrypt cost most users' hashes have (the default for none). */
function mostCommonCost(costs: number[]): number {
  const counts = new Map<number, number>()
  for (const c of costs) if (c > 0) counts.set(c, (counts.get(c) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? SCRYPT.N
}

export function ownsClientId(username: string, clientId: string): boolean {
  return clientId === username || clientId.startsWith(`${username}:`)
}
