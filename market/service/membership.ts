import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { recoverTypedDataAddress, type Address } from 'viem'
import { hashPasswordAsync } from '../../broker/credentials.ts'
import { VppError } from '../../protocol/errors.ts'
import { joinDomain, joinMessage, joinTypes, type AddMemberRequest, type BrokerUsers, type JoinStatus, type Member, type MemberEvent, type SignedJoinRequest } from '../../protocol/members.ts'
import { MemberRegistry } from './member-registry.ts'
import type { AgentRegistry } from './agent-registry.ts'

/** A join request is taken only this close to the market's clock, so an old signed one cannot be replayed later. */
const JOIN_CLOCK_SKEW_SECONDS = 600

export interface MembershipContext {
  community: string
  chainId: number
  settlement: Address
  /** Grid nodes of the topology; a member must be at one of them. */
  nodes: ReadonlySet<string>
  /** Tells the broker the registry's accounts; resolves once the broker has them. */
  publish: (users: BrokerUsers) => Promise<void>
  /** Cancels the open orders signed by `address`; how many. */
  cancelOpenOrders: (address: Address) => number
}

/** What changed: the event logged, and the member as it now is. */
export interface MembershipChange {
  event: MemberEvent
  member: Member
}

/**
 * Membership while everything runs: the operator adds, removes and re-keys members; a home asks to
 * join with a request signed by its key, and the operator approves it. Every change is written to the
 * registry, told to the broker before the call returns (so a new member can log in at once and a
 * removed one is disconnected), and emitted as `change` for the market and the dashboard.
 */
export class Membership extends EventEmitter<{ change: [MembershipChange] }> {
  constructor(
    readonly registry: MemberRegistry,
    private readonly ctx: MembershipContext,
  ) {
    super()
  }

  /** Adds a member; with no password given, makes one and returns it (the only time it is seen). */
  async add(request: AddMemberRequest): Promise<{ member: Member; password?: string }> {
    this.checkNode(request.node)
    const password = request.password ?? randomBytes(18).toString('base64url')
    const event = this.registry.add({ agentId: request.agentId, address: request.address, node: request.node }, await hashPasswordAsync(password))
    const member = await this.changed(event)
    return { member, ...(request.password ? {} : { password }) }
  }

  /** Removes a member: its open orders are cancelled and the broker disconnects it. Its escrow stays its own. */
  async remove(agentId: string): Promise<{ member: Member; cancelledOrders: number }> {
    const current = this.registry.get(agentId)
    const event = this.registry.remove(agentId)
    if (!event || !current) throw new VppError('VPP_ERR_NOT_FOUND', `${agentId} is not an active member of ${this.ctx.community}`)
    const cancelledOrders = this.ctx.cancelOpenOrders(current.address)
    return { member: await this.changed(event), cancelledOrders }
  }

  /** Binds a member to a new key: orders signed by the old key and still open are cancelled. */
  async rotateKey(agentId: string, address: Address): Promise<{ member: Member; cancelledOrders: number }> {
    const rotated = this.registry.rotateKey(agentId, address)
    if (!rotated) throw new VppError('VPP_ERR_NOT_FOUND', `${agentId} is not an active member of ${this.ctx.community}`)
    const cancelledOrders = this.ctx.cancelOpenOrders(rotated.previous)
    return { member: await this.changed(rotated.event), cancelledOrders }
  }

  /** Takes a home's signed request to join, once its signature, community, clock and node check out. */
  async requestJoin(signed: SignedJoinRequest, nowSeconds: number): Promise<JoinStatus> {
    const { request } = signed
    if (request.community !== this.ctx.community) throw new VppError('VPP_ERR_CONFIG', `this market is community ${this.ctx.community}, not ${request.community}`)
    if (Math.abs(request.requestedAt - nowSeconds) > JOIN_CLOCK_SKEW_SECONDS) {
      throw new VppError('VPP_ERR_CONFIG', `requestedAt ${request.requestedAt} is more than ${JOIN_CLOCK_SKEW_SECONDS} s from the market's clock (${Math.floor(nowSeconds)}): check the home's clock and ask again`)
    }
    this.checkNode(request.node || undefined)
    const signer = await recoverTypedDataAddress({
      domain: joinDomain(this.ctx.chainId, this.ctx.settlement),
      types: joinTypes,
      primaryType: 'JoinRequest',
      message: joinMessage(request),
      signature: signed.signature,
    }).catch(() => null)
    if (!signer || signer.toLowerCase() !== request.owner.toLowerCase()) throw new VppError('VPP_ERR_UNAUTHORIZED', 'the join request is not signed by the key it names (owner)')
    const event = this.registry.requestJoin(request)
    this.emit('change', { event, member: { agentId: request.agentId, address: request.owner, ...(request.node ? { node: request.node } : {}), status: 'active', since: event.at } })
    return this.joinStatus(request.agentId)!
  }

  /** A join request's state; once approved, what the home needs to connect (its password is its own). */
  joinStatus(agentId: string): JoinStatus | undefined {
    const status = this.registry.joinStatus(agentId)
    if (!status) return undefined
    if (status.status !== 'approved') return status
    return { ...status, connect: { username: agentId, community: this.ctx.community, chainId: this.ctx.chainId, settlement: this.ctx.settlement } }
  }

  async approve(agentId: string): Promise<Member> {
    return this.changed(this.registry.approveJoin(agentId))
  }

  refuse(agentId: string, reason: string | null): MemberEvent {
    const event = this.registry.refuseJoin(agentId, reason)
    const status = this.registry.joinStatus(agentId)!
    this.emit('change', { event, member: { agentId, address: status.owner, status: 'removed', since: event.at } })
    return event
  }

  /** Tells the broker the registry's accounts (at start, after a reconnect, after every change). */
  publishToBroker(): Promise<void> {
    return this.ctx.publish(this.registry.brokerUsers())
  }

  private async changed(event: MemberEvent): Promise<Member> {
    await this.publishToBroker()
    const member = this.registry.get(event.agentId)!
    this.emit('change', { event, member })
    return member
  }

  private checkNode(node: string | undefined): void {
    if (node !== undefined && !this.ctx.nodes.has(node)) {
      throw new VppError('VPP_ERR_CONFIG', `node "${node}" is not in the community's topology (nodes: ${[...this.ctx.nodes].join(', ')})`)
    }
  }
}

/**
 * The community's membership at start: the registry opened at `path` (market.yaml's members only seed
 * it: members it does not know yet), every member's node checked against the topology, the active
 * members put in the agent registry, which is kept in step with every change from then on.
 */
export function openMembership(path: string, seed: readonly { agentId: string; address: Address; node?: string }[], ctx: MembershipContext, agents: AgentRegistry): Membership {
  for (const m of seed) {
    if (m.node !== undefined && !ctx.nodes.has(m.node)) throw new VppError('VPP_ERR_CONFIG', `member ${m.agentId} is at node "${m.node}", which is not in the topology`)
  }
  const registry = new MemberRegistry(path)
  registry.importMembers(seed)
  for (const m of registry.active()) {
    if (m.node !== undefined && !ctx.nodes.has(m.node)) {
      registry.close()
      throw new VppError('VPP_ERR_CONFIG', `member ${m.agentId} is at node "${m.node}", which is no longer in the topology: put the node back or move the member`)
    }
    agents.set(m)
  }
  const membership = new Membership(registry, ctx)
  membership.on('change', (change) => {
    const member = registry.get(change.member.agentId)
    if (member?.status === 'active') agents.set(member)
    else if (member) agents.remove(member.agentId)
  })
  return membership
}
