import { randomBytes } from 'node:crypto'
import type { AedesOptions } from 'aedes'
import type { Logger } from '../platform/logger.ts'
import type { Counters } from '../platform/counters.ts'
import { hashCost, hashPassword, SCRYPT, verifyPassword } from './credentials.ts'
import { Quota, type BrokerLimits } from './connection-limits.ts'
import type { Principal } from './acl.ts'
import type { AuthThrottle } from './auth-throttle.ts'
import type { LiveUsers } from './live-users.ts'

/** CONNACK return code 4: bad user name or password [MQTT-3.2.2-3, table 3.1]. */
const BAD_CREDENTIALS = 4
/** CONNACK return code 3: server unavailable; a client tries again later [MQTT-3.2.2-3, table 3.1]. */
const SERVER_UNAVAILABLE = 3

/**
 * Sessions per user, counted from connect to disconnect; a take-over by the same client id is no new
 * session and keeps its count.
 */
export class SessionCounts {
  // Counted without a cap: the cap is applied at login, and a take-over briefly holds one more.
  private readonly perUser = new Quota(Number.POSITIVE_INFINITY)
  private readonly userOf = new WeakMap<object, string>()
  private readonly connectedIds = new Map<string, number>()

  count(user: string): number {
    return this.perUser.count(user)
  }

  isConnected(clientId: string): boolean {
    return this.connectedIds.has(clientId)
  }

  connected(client: { id: string }, user: string): void {
    this.perUser.take(user)
    this.userOf.set(client, user)
    this.connectedIds.set(client.id, (this.connectedIds.get(client.id) ?? 0) + 1)
  }

  disconnected(client: { id: string }): void {
    const user = this.userOf.get(client)
    if (user === undefined) return
    this.userOf.delete(client)
    this.perUser.release(user)
    const n = this.connectedIds.get(client.id) ?? 0
    if (n <= 1) this.connectedIds.delete(client.id)
    else this.connectedIds.set(client.id, n - 1)
  }
}

export interface AuthenticatorOptions {
  users: LiveUsers
  throttle: AuthThrottle
  limits: BrokerLimits
  sessions: SessionCounts
  /** Filled with who each authenticated client is, for the ACL. */
  principals: WeakMap<object, Principal>
  counters: Counters
  logger: Logger
}

/**
 * aedes' `authenticate`: a scrypt password check per login, throttled per address after failures
 * (auth-throttle.ts), a bound on logins in progress per address, the client id owned by the user
 * (`ownsClientId`), and at most `sessionsPerUser` sessions per user.
 */
export function authenticator(options: AuthenticatorOptions): NonNullable<AedesOptions['authenticate']> {
  const { users, throttle, limits, sessions, principals, counters, logger } = options
  const pendingAuth = new Quota(limits.pendingAuthPerAddress)
  // An unknown user name is checked against this hash, at the cost most users' hashes have, so a
  // refusal takes as long whether or not the name exists (no user enumeration by timing).
  const dummyHash = hashPassword(randomBytes(16).toString('hex'), mostCommonCost(users.all().map((u) => hashCost(u.passwordHash))))

  return (client, username, password, done) => {
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
        if (sessions.count(user.username) >= limits.sessionsPerUser && !sessions.isConnected(client.id)) {
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

/** The scrypt cost most users' hashes have (the default for none). */
function mostCommonCost(costs: number[]): number {
  const counts = new Map<number, number>()
  for (const c of costs) if (c > 0) counts.set(c, (counts.get(c) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? SCRYPT.N
}
