import type Database from 'better-sqlite3'
import { openDurableDatabase } from '../../platform/durable-database.ts'
import type { Address } from 'viem'
import type { BrokerUsers, JoinRequest, JoinStatus, Member, MemberEvent } from '../../protocol/members.ts'
import { VppError } from '../../protocol/errors.ts'

interface MemberRow {
  agent_id: string
  address: string
  node: string | null
  status: Member['status']
  password_hash: string | null
  since: string
}

interface JoinRow {
  agent_id: string
  owner: string
  node: string
  password_hash: string
  requested_at: number
  status: JoinStatus['status']
}

/**
 * The community's members in SQLite: who may trade, from which address, at which grid node, and with
 * which broker password hash (members added before the registry keep theirs in the broker's users
 * file: null here). Every change is logged. The one source of truth for the market's membership and
 * the broker's accounts (docs: README "Running a community").
 */
export class MemberRegistry {
  private readonly db: Database.Database

  constructor(path: string) {
    this.db = openDurableDatabase(path)
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS members (
        agent_id TEXT PRIMARY KEY,
        address TEXT NOT NULL,
        node TEXT,
        status TEXT NOT NULL,
        password_hash TEXT,
        since TEXT NOT NULL
      );
      CREATE TABLE IF NOT EXISTS member_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        address TEXT,
        detail TEXT
      );
      CREATE TABLE IF NOT EXISTS join_requests (
        agent_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        node TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        requested_at INTEGER NOT NULL,
        status TEXT NOT NULL
      );
    `)
  }

  /**
   * Members from market.yaml that the registry does not know yet (by agent id): added as imported,
   * with no password hash (theirs is in the broker's users file). The registry wins for any it knows,
   * so a member removed here stays removed whatever the file says. Returns the events written.
   */
  importMembers(members: readonly { agentId: string; address: Address; node?: string }[]): MemberEvent[] {
    return this.db.transaction(() => members.filter((m) => !this.row(m.agentId)).map((m) => this.insert(m, null, 'imported', 'from market.yaml')))()
  }

  /** Adds a member; refuses an agent id or address already in use (a removed member's id may not come back). */
  add(member: { agentId: string; address: Address; node?: string }, passwordHash: string | null, kind: 'added' | 'join_approved' = 'added'): MemberEvent {
    return this.db.transaction(() => {
      if (this.row(member.agentId)) throw new VppError('VPP_ERR_MEMBER_EXISTS', `agent id ${member.agentId} is already taken in this community: choose another`)
      const holder = this.activeByAddress(member.address)
      if (holder) throw new VppError('VPP_ERR_MEMBER_EXISTS', `address ${member.address} already belongs to member ${holder.agentId}`)
      return this.insert(member, passwordHash, kind, null)
    })()
  }

  /** Marks a member removed (it keeps its history); the event, or null when there is no such active member. */
  remove(agentId: string, detail: string | null = null): MemberEvent | null {
    return this.db.transaction(() => {
      const row = this.row(agentId)
      if (!row || row.status !== 'active') return null
      this.db.prepare(`UPDATE members SET status = 'removed' WHERE agent_id = ?`).run(agentId)
      return this.log('removed', agentId, row.address as Address, detail)
    })()
  }

  /** Binds a member to a new signing address; the event and the old address, or null when there is no such active member. */
  rotateKey(agentId: string, address: Address): { event: MemberEvent; previous: Address } | null {
    return this.db.transaction(() => {
      const row = this.row(agentId)
      if (!row || row.status !== 'active') return null
      const holder = this.activeByAddress(address)
      if (holder && holder.agentId !== agentId) throw new VppError('VPP_ERR_MEMBER_EXISTS', `address ${address} already belongs to member ${holder.agentId}`)
      this.db.prepare(`UPDATE members SET address = ? WHERE agent_id = ?`).run(address, agentId)
      return { event: this.log('key_rotated', agentId, address, `was ${row.address}`), previous: row.address as Address }
    })()
  }

  get(agentId: string): Member | undefined {
    const row = this.row(agentId)
    return row ? toMember(row) : undefined
  }

  list(): Member[] {
    return (this.db.prepare(`SELECT * FROM members ORDER BY agent_id`).all() as MemberRow[]).map(toMember)
  }

  active(): Member[] {
    return this.list().filter((m) => m.status === 'active')
  }

  events(limit = 200): MemberEvent[] {
    const rows = this.db.prepare(`SELECT * FROM member_events ORDER BY id DESC LIMIT ?`).all(limit) as { id: number; at: string; kind: MemberEvent['kind']; agent_id: string; address: string | null; detail: string | null }[]
    return rows.map((r) => ({ id: r.id, at: r.at, kind: r.kind, agentId: r.agent_id, address: r.address as Address | null, detail: r.detail }))
  }

  /** What the broker must know: accounts with a hash here, and every removed agent id. */
  brokerUsers(): BrokerUsers {
    const rows = this.db.prepare(`SELECT agent_id, status, password_hash FROM members`).all() as Pick<MemberRow, 'agent_id' | 'status' | 'password_hash'>[]
    return {
      users: rows.filter((r) => r.status === 'active' && r.password_hash).map((r) => ({ username: r.agent_id, passwordHash: r.password_hash! })),
      removed: rows.filter((r) => r.status === 'removed').map((r) => r.agent_id),
    }
  }

  /**
   * Records a verified join request. A pending request of the same agent id may be replaced (the home
   * asked again); an id that is a member already, or was refused, may not.
   */
  requestJoin(request: JoinRequest): MemberEvent {
    return this.db.transaction(() => {
      if (this.row(request.agentId)) throw new VppError('VPP_ERR_MEMBER_EXISTS', `agent id ${request.agentId} is already taken in this community: choose another`)
      const holder = this.activeByAddress(request.owner)
      if (holder) throw new VppError('VPP_ERR_MEMBER_EXISTS', `address ${request.owner} already belongs to member ${holder.agentId}`)
      const prior = this.joinRow(request.agentId)
      if (prior && prior.status !== 'pending') throw new VppError('VPP_ERR_MEMBER_EXISTS', `agent id ${request.agentId} already asked to join and was ${prior.status}: choose another`)
      if (prior && prior.owner.toLowerCase() !== request.owner.toLowerCase()) {
        throw new VppError('VPP_ERR_MEMBER_EXISTS', `agent id ${request.agentId} has a pending request from another key: choose another id`)
      }
      this.db
        .prepare(`INSERT OR REPLACE INTO join_requests (agent_id, owner, node, password_hash, requested_at, status) VALUES (?, ?, ?, ?, ?, 'pending')`)
        .run(request.agentId, request.owner, request.node, request.passwordHash, request.requestedAt)
      return this.log('join_requested', request.agentId, request.owner, request.node || null)
    })()
  }

  joinStatus(agentId: string): Omit<JoinStatus, 'connect'> | undefined {
    const row = this.joinRow(agentId)
    return row ? { agentId: row.agent_id, status: row.status, owner: row.owner as Address, node: row.node, requestedAt: row.requested_at } : undefined
  }

  pendingJoins(): Omit<JoinStatus, 'connect'>[] {
    const rows = this.db.prepare(`SELECT * FROM join_requests WHERE status = 'pending' ORDER BY requested_at`).all() as JoinRow[]
    return rows.map((r) => ({ agentId: r.agent_id, status: r.status, owner: r.owner as Address, node: r.node, requestedAt: r.requested_at }))
  }

  /** Makes a pending request a member, with the password hash it came with. */
  approveJoin(agentId: string): MemberEvent {
    return this.db.transaction(() => {
      const row = this.joinRow(agentId)
      if (!row || row.status !== 'pending') throw new VppError('VPP_ERR_NOT_FOUND', `no pending join request from ${agentId}`)
      this.db.prepare(`UPDATE join_requests SET status = 'approved' WHERE agent_id = ?`).run(agentId)
      return this.add({ agentId, address: row.owner as Address, node: row.node || undefined }, row.password_hash, 'join_approved')
    })()
  }

  refuseJoin(agentId: string, reason: string | null): MemberEvent {
    return this.db.transaction(() => {
      const row = this.joinRow(agentId)
      if (!row || row.status !== 'pending') throw new VppError('VPP_ERR_NOT_FOUND', `no pending join request from ${agentId}`)
      this.db.prepare(`UPDATE join_requests SET status = 'refused' WHERE agent_id = ?`).run(agentId)
      return this.log('join_refused', agentId, row.owner as Address, reason)
    })()
  }

  close(): void {
    this.db.close()
  }

  private insert(member: { agentId: string; address: Address; node?: string }, passwordHash: string | null, kind: MemberEvent['kind'], detail: string | null): MemberEvent {
    this.db
      .prepare(`INSERT INTO members (agent_id, address, node, status, password_hash, since) VALUES (?, ?, ?, 'active', ?, ?)`)
      .run(member.agentId, member.address, member.node ?? null, passwordHash, new Date().toISOString())
    return this.log(kind, member.agentId, member.address, detail)
  }

  private log(kind: MemberEvent['kind'], agentId: string, address: Address | null, detail: string | null): MemberEvent {
    const at = new Date().toISOString()
    const info = this.db.prepare(`INSERT INTO member_events (at, kind, agent_id, address, detail) VALUES (?, ?, ?, ?, ?)`).run(at, kind, agentId, address, detail)
    return { id: Number(info.lastInsertRowid), at, kind, agentId, address, detail }
  }

  private row(agentId: string): MemberRow | undefined {
    return this.db.prepare(`SELECT * FROM members WHERE agent_id = ?`).get(agentId) as MemberRow | undefined
  }

  private activeByAddress(address: Address): Member | undefined {
    const row = this.db.prepare(`SELECT * FROM members WHERE lower(address) = lower(?) AND status = 'active'`).get(address) as MemberRow | undefined
    return row ? toMember(row) : undefined
  }

  private joinRow(agentId: string): JoinRow | undefined {
    return this.db.prepare(`SELECT * FROM join_requests WHERE agent_id = ?`).get(agentId) as JoinRow | undefined
  }
}

function toMember(row: MemberRow): Member {
  return { agentId: row.agent_id, address: row.address as Address, ...(row.node ? { node: row.node } : {}), status: row.status, since: row.since }
}
