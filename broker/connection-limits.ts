/** How much of the broker one address, one user and one client may hold. */
export interface BrokerLimits {
  /** Open connections in all (default 20,000). */
  connections: number
  /** Open connections from one remote address (default 100; a NAT or gateway may carry several homes). */
  connectionsPerAddress: number
  /** Authentications from one address awaiting their answer (default 4): parallel guessing waits its turn. */
  pendingAuthPerAddress: number
  /** Connected sessions of one user (client ids `user` and `user:suffix`; default 4). */
  sessionsPerUser: number
  /** Subscriptions one client may hold (default 50; an agent needs three). */
  subscriptionsPerClient: number
}

export const DEFAULT_BROKER_LIMITS: BrokerLimits = {
  connections: 20_000,
  connectionsPerAddress: 100,
  pendingAuthPerAddress: 4,
  sessionsPerUser: 4,
  subscriptionsPerClient: 50,
}

/**
 * Counts what is held against each limit: `take` answers whether one more fits and, if so, counts it;
 * `release` gives it back. One instance per kind of thing (connections, sessions, …). Pure.
 * @example
 * const perAddress = new Quota(100)
 * if (!perAddress.take('10.0.0.7')) socket.destroy()
 */
export class Quota {
  private readonly held = new Map<string, number>()
  private total = 0

  constructor(
    private readonly perKey: number,
    private readonly overall = Number.POSITIVE_INFINITY,
  ) {}

  take(key: string): boolean {
    const n = this.held.get(key) ?? 0
    if (n >= this.perKey || this.total >= this.overall) return false
    this.held.set(key, n + 1)
    this.total++
    return true
  }

  release(key: string): void {
    const n = this.held.get(key)
    if (!n) return
    if (n === 1) this.held.delete(key)
    else this.held.set(key, n - 1)
    this.total--
  }

  count(key: string): number {
    return this.held.get(key) ?? 0
  }
}
