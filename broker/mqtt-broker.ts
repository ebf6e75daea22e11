import { createServer, type Server } from 'node:net'
import { Aedes } from 'aedes'
import type { Logger } from '../platform/logger.ts'
import { Counters } from '../platform/counters.ts'
import { listen } from '../platform/listen.ts'
import { verifyPassword } from './credentials.ts'
import { canPublish, canSubscribe, type Principal } from './acl.ts'
import type { User } from './users.ts'

export interface BrokerOptions {
  users: User[]
  host?: string
  /** 0 picks a free port. */
  port?: number
  logger: Logger
}

export interface RunningBroker {
  url: string
  port: number
  counters: Counters
  close(): Promise<void>
}

/** CONNACK return code 4: bad user name or password [MQTT-3.2.2-3, table 3.1]. */
const BAD_CREDENTIALS = 4

/**
 * Starts the community's aedes broker on plain TCP with per-user authentication and topic ACLs.
 * Denied publishes and subscriptions are counted per user.
 *
 * @example
 * const broker = await startBroker({ users, logger })
 * console.log(broker.url) // mqtt://127.0.0.1:41234
 */
export async function startBroker(options: BrokerOptions): Promise<RunningBroker> {
  const { logger } = options
  const counters = new Counters()
  const users = new Map(options.users.map((u) => [u.username, u]))
  const principals = new WeakMap<object, Principal>()

  const aedes = await Aedes.createBroker({
    drainTimeout: 30_000,
    authenticate(client, username, password, done) {
      const user = username ? users.get(username) : undefined
      const ok = !!user && !!password && ownsClientId(user.username, client.id) && verifyPassword(password.toString('utf8'), user.passwordHash)
      if (!ok || !user) {
        counters.increment('auth_failed')
        logger.warn({ clientId: client.id, username }, 'broker: authentication failed')
        const error = Object.assign(new Error('bad user name or password'), { returnCode: BAD_CREDENTIALS })
        return done(error, false)
      }
      principals.set(client, { id: user.username, role: user.role, community: user.community })
      done(null, true)
    },
    authorizePublish(client, packet, done) {
      const who = client ? principals.get(client) : undefined
      if (!who || !canPublish(who, packet.topic)) {
        counters.increment(`publish_denied.${who?.id ?? 'unknown'}`)
        logger.warn({ clientId: client?.id, topic: packet.topic }, 'broker: publish denied')
        return done(new Error(`publish to ${packet.topic} is not allowed`))
      }
      done(null)
    },
    authorizeSubscribe(client, subscription, done) {
      const who = principals.get(client)
      if (!who || !canSubscribe(who, subscription.topic)) {
        counters.increment(`subscribe_denied.${who?.id ?? 'unknown'}`)
        logger.warn({ clientId: client.id, topic: subscription.topic }, 'broker: subscribe denied')
        // A null subscription is refused with SUBACK 0x80 [MQTT-3.9.3-1] without dropping the client.
        return done(null, null)
      }
      done(null, subscription)
    },
  })

  const server: Server = createServer(aedes.handle as (socket: import('node:net').Socket) => void)
  const host = options.host ?? '127.0.0.1'
  const port = await listen(server, { port: options.port ?? 0, host })
  logger.info({ port }, 'broker: listening')

  return {
    url: `mqtt://${host}:${port}`,
    port,
    counters,
    close: () =>
      new Promise<void>((resolve) => {
        aedes.close(() => server.close(() => resolve()))
        // Open client sockets keep server.close() waiting; aedes.close() ends them.
      }),
  }
}

/**
 * A client id must be the username, or `username:suffix` for a second tool of the same home: a home
 * can never take over another home's session by connecting with its client id [MQTT-3.1.4-2].
 * `:` is not allowed in usernames, so a suffix cannot collide with another account.
 */
export function ownsClientId(username: string, clientId: string): boolean {
  return clientId === username || clientId.startsWith(`${username}:`)
}
