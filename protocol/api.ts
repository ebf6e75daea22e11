import { z } from 'zod'
import { snapshotSchema } from './snapshot.ts'
import { addressSchema } from './order.ts'
import { intervalResultSchema, tradeSchema } from './messages.ts'

/** `GET /api/agents` item and socket.io `agent` event: one home as the market sees it. */
export const agentViewSchema = z.object({
  agentId: z.string(),
  address: addressSchema,
  online: z.boolean(),
  session: z.number().int().nullable(),
  lastSeen: z.string().nullable(),
  snapshot: snapshotSchema.nullable(),
  /** The grid node (transformer) the home is connected to. */
  node: z.string().optional(),
  /** The agent's last word on its escrow: true while it cannot cover the bids it wants to make (it bids less). */
  escrowShort: z.boolean().optional(),
})
export type AgentView = z.infer<typeof agentViewSchema>

/** `GET /api/trades` item: a trade with its settlement and the agents behind the addresses. */
export const tradeViewSchema = tradeSchema.extend({
  settlementTx: z.string().nullable(),
  settlementStatus: intervalResultSchema.shape.settlement.shape.status,
  buyerAgent: z.string().nullable(),
  sellerAgent: z.string().nullable(),
})
export type TradeView = z.infer<typeof tradeViewSchema>

/** `GET /api/book` item: one order of an interval's book, anonymised. */
export const bookEntrySchema = z.object({ side: z.union([z.literal(0), z.literal(1)]), energyWh: z.number().int().positive(), limitPrice: z.number().int().nonnegative() })
export type BookEntry = z.infer<typeof bookEntrySchema>

/**
 * `GET /api/book?interval=…`: a cleared interval's orders, or, for the open interval, only how many
 * bids and asks it holds: limit prices are sealed until gate closure, so nobody (the operator's
 * dashboard included) can bid against them.
 */
export const bookSchema = z.object({
  interval: z.number().int().nonnegative(),
  sealed: z.boolean(),
  orders: z.array(bookEntrySchema),
  bids: z.number().int().nonnegative(),
  asks: z.number().int().nonnegative(),
})
export type Book = z.infer<typeof bookSchema>

/** The text an owner signs (EIP-191) to see what its own open orders hold and what its escrow has free. */
export const escrowQueryMessage = (owner: string, at: number) => `OpenVPP: escrow of ${owner.toLowerCase()} at ${at}`

const baseUnitsText = z.string().regex(/^\d+$/, 'must be a whole number of base units')

/**
 * `GET /api/escrow/{address}`: what the owner's escrow is holding for. The parts only the owner may
 * see (what its sealed open orders hold, and so what is free for more) are null unless the query is
 * signed by the owner (`escrowQueryMessage`).
 */
export const escrowViewSchema = z.object({
  owner: addressSchema,
  unsettledTradesBaseUnits: baseUnitsText,
  openOrdersBaseUnits: baseUnitsText.nullable(),
  /** Escrow less withdrawals under way, open orders and unsettled trades: what a new order can still be backed by, as intake counts it. */
  freeBaseUnits: baseUnitsText.nullable(),
  /** What a seller that delivers nothing pays per kWh, and so what a sell order holds (protocol/collateral.ts). */
  imbalancePrice: z.number().int().nonnegative(),
})
export type EscrowView = z.infer<typeof escrowViewSchema>
