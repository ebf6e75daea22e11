import { z } from 'zod'
import type { Hex } from 'viem'
import { snapshotSchema } from './snapshot.ts'
import { addressSchema, bytes32Schema } from './order.ts'

const unixSeconds = z.number().int().nonnegative().max(2 ** 40)
const hash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 0x-prefixed 32-byte hash').transform((h) => h as Hex)

/** `agents/{agentId}/state`, retained; the MQTT Will publishes `{online:false}`. */
export const agentStateSchema = z.object({
  online: z.boolean(),
  session: z.number().int().nonnegative().optional(),
  ts: z.iso.datetime().optional(),
  address: addressSchema.optional(),
  /** True while the agent's escrow cannot cover the bids it wants to make, so it bids only what it can cover. */
  escrowShort: z.boolean().optional(),
})
export type AgentState = z.infer<typeof agentStateSchema>

/** `agents/{agentId}/telemetry`: `seq` is monotonic per agent so the sink drops redelivered duplicates. */
export const telemetrySchema = z.object({
  seq: z.number().int().nonnegative(),
  samples: z.array(snapshotSchema).min(1).max(3600),
})
export type Telemetry = z.infer<typeof telemetrySchema>

/** `market/state`, retained: everything an agent needs to sign an order for the open interval. */
export const marketStateSchema = z.object({
  community: z.string(),
  communityKey: bytes32Schema,
  openInterval: unixSeconds,
  gateClosure: unixSeconds,
  intervalSeconds: z.number().int().min(1).max(86_400),
  chainId: z.number().int().positive(),
  settlement: addressSchema,
  token: addressSchema,
  tokenDecimals: z.number().int().min(0).max(36),
  tokenSymbol: z.string().max(16),
  priceFloor: z.number().int().nonnegative(),
  priceCap: z.number().int().positive(),
  /** The utility's tariffs (base units per kWh) that trading is compared with: what export earns and import costs without it. */
  referenceTariffs: z.object({ feedInPrice: z.number().int().nonnegative(), retailPrice: z.number().int().nonnegative() }).optional(),
  ts: z.iso.datetime(),
})
export type MarketState = z.infer<typeof marketStateSchema>

export const tradeSchema = z.object({
  interval: unixSeconds,
  buyer: addressSchema,
  seller: addressSchema,
  buyOrder: hash,
  sellOrder: hash,
  energyWh: z.number().int().positive(),
  /** What the buyer pays per kWh. */
  price: z.number().int().nonnegative(),
  /** What the seller receives per kWh: `price` less the grid fee of `node`. */
  sellerPrice: z.number().int().nonnegative(),
  /** The grid node where buyer and seller met: their nearest common transformer, feeder or substation. */
  node: z.string(),
})
export type Trade = z.infer<typeof tradeSchema>

/** `market/intervals/{interval}`, retained: the clearing result, later its settlement. */
export const intervalResultSchema = z.object({
  community: z.string(),
  interval: unixSeconds,
  /** The volume-weighted mean of what buyers paid per kWh (rounded down); null when nothing traded. */
  clearingPrice: z.number().int().nonnegative().nullable(),
  volumeWh: z.number().int().nonnegative(),
  bestBid: z.number().int().nonnegative().nullable(),
  bestAsk: z.number().int().nonnegative().nullable(),
  orders: z.number().int().nonnegative(),
  trades: z.array(tradeSchema),
  /** Over MQTT only: this many trades were left out so the message fits the broker's packet limit; `GET /api/trades?interval=` has them all. */
  tradesOmitted: z.number().int().positive().optional(),
  /** Per grid node: its pay-as-clear buyer and seller price and the energy traded there. */
  nodes: z.array(
    z.object({
      node: z.string(),
      level: z.string(),
      buyerPrice: z.number().int().nonnegative().nullable(),
      sellerPrice: z.number().int().nonnegative().nullable(),
      volumeWh: z.number().int().nonnegative(),
      feePerKwh: z.number().int().nonnegative(),
    }),
  ),
  /** Links (named by their lower node) that were full and curtailed trades. */
  congested: z.array(z.string()),
  /** Energy bid for and offered in the interval, Wh: the demand and supply the market saw. */
  demandWh: z.number().int().nonnegative().optional(),
  supplyWh: z.number().int().nonnegative().optional(),
  /** Every line of the grid tree (named by its lower node): its capacity for the interval and the energy traded across it each way. */
  links: z
    .array(z.object({ node: z.string(), capacityWh: z.number().int().nonnegative().nullable(), upWh: z.number().int().nonnegative(), downWh: z.number().int().nonnegative() }))
    .optional(),
  settlement: z.object({
    /** `submitted`: a transaction is out and its receipt not yet seen. */
    /** `expired`: its settlement window closed first; it never settles and holds no escrow. */
    status: z.enum(['pending', 'submitted', 'settled', 'failed', 'nothing', 'expired']),
    tx: hash.nullable(),
    error: z.string().nullable(),
    /** The settling transaction's receipt, once mined. */
    receipt: z.object({ blockNumber: z.number().int().nonnegative(), gasUsed: z.number().int().nonnegative() }).optional(),
    /** Sellers that delivered less than they sold, by their signed meter readings, once settled. */
    shortfalls: z
      .array(
        z.object({
          seller: addressSchema,
          soldWh: z.number().int().nonnegative(),
          deliveredWh: z.number().int().nonnegative(),
          /** What the seller paid at the imbalance price, base units as a decimal string. */
          charged: z.string().regex(/^\d+$/),
        }),
      )
      .optional(),
    /**
     * An interval too large for one transaction settles in several, of at most `maxFills` fills each
     * (EnergySettlement's `settleIntervalPart`, then `settleInterval`): the parts settled so far, in
     * order; `tx` is null for a part whose every trade was left out.
     */
    parts: z
      .object({
        maxFills: z.number().int().min(2),
        count: z.number().int().min(2),
        settled: z.array(z.object({ tx: hash.nullable(), fills: z.number().int().nonnegative(), gasUsed: z.number().int().nonnegative() })),
      })
      .optional(),
    /** Orders left out because the contract would refuse them (cancelled on chain, escrow gone, …): their trades do not settle, every other trade does. */
    dropped: z.array(z.object({ order: hash, owner: addressSchema, reason: z.string() })).optional(),
  }),
})
export type IntervalResult = z.infer<typeof intervalResultSchema>

/** `agents/{agentId}/awards`: what each of the agent's orders was filled for an interval. */
export const awardSchema = z.object({
  interval: unixSeconds,
  fills: z.array(
    z.object({
      orderHash: hash,
      side: z.union([z.literal(0), z.literal(1)]),
      energyWh: z.number().int().positive(),
      filledWh: z.number().int().nonnegative(),
      price: z.number().int().nonnegative().nullable(),
    }),
  ),
  netWh: z.number().int(),
})
export type Award = z.infer<typeof awardSchema>
