import { z } from 'zod'
import { addressSchema } from '../../protocol/order.ts'
import { topicIdSchema } from '../../protocol/topic-id.ts'
import { topologySchema } from '../engine/topology.ts'

const rate = z.object({ burst: z.number().int().positive(), perSecond: z.number().positive() }).strict()

/** `vpp market --config market.yaml`: one community's market, validated with errors that name the key. */
export const marketConfigSchema = z
  .object({
    community: topicIdSchema,
    intervalSeconds: z.number().int().min(2).max(86_400).default(900),
    mqtt: z.object({ url: z.string().regex(/^(mqtts?|wss?):\/\//, 'must be an mqtt://, mqtts:// or ws:// URL'), username: z.string().default('market'), passwordFile: z.string() }).strict(),
    /** Seeds the member registry: members it does not know yet are imported at start (vpp members manages them after that). */
    members: z.array(z.object({ agentId: topicIdSchema, address: addressSchema, node: z.string().optional() }).strict()).default([]),
    /** A file holding the operator's bearer token for `vpp members …` (mode 0600); without it operator calls are refused. */
    operatorTokenFile: z.string().optional(),
    /** The grid tree (transformers, feeders, substation) with fees and capacities; one node when absent. */
    topology: topologySchema.optional(),
    pricing: z.enum(['pay-as-clear', 'pay-as-bid']).default('pay-as-clear'),
    chain: z.object({ rpcUrl: z.url(), settlement: addressSchema, operatorKeyFile: z.string() }).strict(),
    dataDir: z.string().default('.vpp/market'),
    http: z.object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) }).strict().default({ host: '127.0.0.1', port: 8080 }),
    priceFloor: z.number().int().nonnegative().default(0),
    priceCap: z.number().int().positive().default(1_000_000),
    maxOrderWh: z.number().int().positive().default(1_000_000),
    /** Orders one agent may have open in one interval: bounds what one member can add to a settlement batch. */
    maxOrdersPerInterval: z.number().int().min(1).max(1000).default(24),
    /** Most fills in one settlement transaction (an interval with more settles in parts); default from the chain's block gas limit. */
    settlementMaxFills: z.number().int().min(2).max(65_535).optional(),
    /** The utility's tariffs in base units per kWh, shown beside trading's earnings and savings. */
    referenceTariffs: z.object({ feedInPrice: z.number().int().nonnegative(), retailPrice: z.number().int().nonnegative() }).strict().optional(),
    rateLimit: z.object({ agent: rate.optional(), http: rate.optional() }).strict().optional(),
    influx: z.object({ url: z.url() }).strict().optional(),
    dashboardDir: z.string().optional(),
  })
  .strict()
  .refine((c) => c.priceCap > c.priceFloor, { message: 'priceCap must be above priceFloor', path: ['priceCap'] })
export type MarketConfig = z.infer<typeof marketConfigSchema>
