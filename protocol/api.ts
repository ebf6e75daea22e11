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
