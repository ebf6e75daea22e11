import { z } from 'zod'
import { addressSchema, orderDomain, signatureSchema } from './order.ts'
import { topicIdSchema } from './topic-id.ts'

// A community's members: who may trade (an agent id bound to the address that signs its orders, at a
// grid node) and log in to the broker. The market's member registry is the one source of truth; the
// broker is told of every change on its own topic (topics.brokerUsers).

const topicId = topicIdSchema

/**
 * A broker password hash as `hashPassword` writes it (`scrypt$N$r$p$salt$hash`), with parameters a
 * broker can afford to check: a joining home chooses its own, so a cost is bounded here (N from 2^10
 * to 2^17, r 8, p 1, 16-byte salt, 32-byte hash) or one request could make every login of it cost
 * the broker gigabytes.
 */
export const passwordHashSchema = z
  .string()
  .max(200)
  .refine(
    (h) => {
      const [scheme, n, r, p, salt, hash] = h.split('$')
      const N = Number(n)
      return (
        scheme === 'scrypt' &&
        Number.isInteger(N) &&
        N >= 1024 &&
        N <= 131_072 &&
        (N & (N - 1)) === 0 &&
        r === '8' &&
        p === '1' &&
        Buffer.from(salt ?? '', 'base64').length === 16 &&
        Buffer.from(hash ?? '', 'base64').length === 32
      )
    },
    { message: 'must be a scrypt hash from `vpp broker adduser` or `vpp agent join` (N 2^10…2^17, r 8, p 1)' },
  )

export const memberStatusSchema = z.enum(['active', 'removed'])

/** One member as the registry keeps it (its password hash stays inside the market and the broker). */
export const memberSchema = z.object({
  agentId: topicId,
  address: addressSchema,
  /** Its grid node; the topology's root when absent. */
  node: z.string().min(1).max(64).optional(),
  status: memberStatusSchema,
  /** When it joined (ISO 8601). */
  since: z.string(),
})
export type Member = z.infer<typeof memberSchema>

/** One change to the membership, for the log the dashboard shows. */
export const memberEventSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  kind: z.enum(['imported', 'added', 'removed', 'key_rotated', 'join_requested', 'join_approved', 'join_refused']),
  agentId: topicId,
  /** The address concerned (the new one for a rotation). */
  address: addressSchema.nullable(),
  detail: z.string().nullable(),
})
export type MemberEvent = z.infer<typeof memberEventSchema>

/** `POST /api/members` (operator): a new member; without a password the market makes one and answers it once. */
export const addMemberRequestSchema = z
  .object({
    agentId: topicId,
    address: addressSchema,
    node: z.string().min(1).max(64).optional(),
    password: z.string().min(12, 'must be at least 12 characters').max(200).optional(),
  })
  .strict()
export type AddMemberRequest = z.infer<typeof addMemberRequestSchema>

/** `POST /api/members/{agentId}/rotate-key` (operator): the member's orders are signed by `address` from now on. */
export const rotateKeyRequestSchema = z.object({ address: addressSchema }).strict()

/**
 * A home's request to join, signed (EIP-712, `joinTypes`) by the key its orders will be signed with:
 * proof that it holds the key. The broker password is the home's own; only its hash travels.
 */
export const joinRequestSchema = z
  .object({
    request: z
      .object({
        community: topicId,
        agentId: topicId,
        owner: addressSchema,
        node: z.string().max(64),
        passwordHash: passwordHashSchema,
        /** Unix seconds; the market takes a request only within 10 minutes of its own clock. */
        requestedAt: z.number().int().positive(),
      })
      .strict(),
    signature: signatureSchema,
  })
  .strict()
export type JoinRequest = z.infer<typeof joinRequestSchema>['request']
export type SignedJoinRequest = z.infer<typeof joinRequestSchema>

export const joinTypes = {
  JoinRequest: [
    { name: 'community', type: 'string' },
    { name: 'agentId', type: 'string' },
    { name: 'owner', type: 'address' },
    { name: 'node', type: 'string' },
    { name: 'passwordHash', type: 'string' },
    { name: 'requestedAt', type: 'uint64' },
  ],
} as const

/** Join requests are signed under the community's settlement contract, as orders are. */
export const joinDomain = orderDomain

export function joinMessage(request: JoinRequest) {
  return { ...request, requestedAt: BigInt(request.requestedAt) }
}

/** `GET /api/join/{agentId}`: where a join request stands, and, once approved, how to connect. */
export const joinStatusSchema = z.object({
  agentId: topicId,
  status: z.enum(['pending', 'approved', 'refused']),
  owner: addressSchema,
  node: z.string(),
  requestedAt: z.number().int(),
  /** Once approved: the broker account (the password is the one the home chose) and the chain. */
  connect: z
    .object({
      username: topicId,
      community: topicId,
      chainId: z.number().int(),
      settlement: addressSchema,
    })
    .optional(),
})
export type JoinStatus = z.infer<typeof joinStatusSchema>

/**
 * What the market tells the broker on `topics.brokerUsers`: the accounts of the registry's members
 * (those added with a password) and the agent ids removed, whom the broker refuses and disconnects
 * even if its users file still lists them.
 */
export const brokerUsersSchema = z.object({
  users: z.array(z.object({ username: topicId, passwordHash: passwordHashSchema })).max(100_000),
  removed: z.array(topicId).max(100_000),
})
export type BrokerUsers = z.infer<typeof brokerUsersSchema>
