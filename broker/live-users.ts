import type { BrokerUsers } from '../protocol/members.ts'
import type { User } from './users.ts'

/**
 * The broker's accounts: those of its users file, and those the market's member registry sends for
 * its community, which add agents and refuse removed ones. A service account of the file (market,
 * dashboard) is never replaced or removed by the registry, so a member named "market" cannot take
 * the market's place.
 */
export class LiveUsers {
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
