import { z } from 'zod'
import { topicIdSchema } from '../protocol/topic-id.ts'
import { addressSchema } from '../protocol/order.ts'
import { VppError } from '../protocol/errors.ts'
import { parseModbusUrl } from './modbus/modbus-url.ts'
import { strategyParamsSchema } from './strategy.ts'
import { batteryLimitsSchema } from './battery-controller.ts'
import { homeAssistantConfigSchema } from './home-assistant.ts'

/** How often the agent samples its devices unless configured otherwise, s (the study's agents learn at this rate too). */
export const DEFAULT_POLL_SECONDS = 1

const topicId = topicIdSchema

/**
 * `agent.yaml` for `vpp agent --config`: one home, its device, its broker and its key. Unknown keys
 * are errors, so a misspelt key never silently falls back to a default.
 */
export const agentConfigSchema = z
  .object({
    agentId: topicId,
    community: topicId,
    mqtt: z
      .object({
        url: z.string().regex(/^(mqtts?|wss?):\/\/[^/]+/, 'must be mqtt://HOST:1883, mqtts://HOST:8883 or wss://HOST/mqtt'),
        passwordFile: z.string().min(1),
        /** The broker's CA certificate (PEM) when it is not signed by a public CA. */
        caFile: z.string().min(1).optional(),
      })
      .strict(),
    /** The agent's signing key, made by `vpp keys new` (mode 0600). */
    keyFile: z.string().min(1),
    device: z
      .object({
        modbus: z.string().transform((text, ctx) => {
          try {
            return parseModbusUrl(text)
          } catch (error) {
            // The parser's own words, without its error code: the config error names its code once.
            ctx.addIssue({ code: 'custom', message: error instanceof VppError ? error.message.slice(error.code.length + 2) : String(error) })
            return z.NEVER
          }
        }),
        /** Unit id; default 1, or the vendor profile's. */
        unit: z.number().int().min(0).max(247).optional(),
        /** A vendor profile (edge-agent/device-maps/maps) for devices that are not plain SunSpec. */
        profile: z.string().optional(),
        /** How long one request may take, ms. */
        timeoutMs: z.number().int().min(50).max(60_000).default(2000),
        /** Pause between requests, ms (some RS-485 devices and gateways need 20–100). */
        interRequestDelayMs: z.number().int().min(0).max(10_000).default(0),
        /** Pause after connecting before the first request, ms. */
        warmupMs: z.number().int().min(0).max(60_000).default(0),
      })
      .strict(),
    pollSeconds: z.number().min(0.2).max(3600).default(DEFAULT_POLL_SECONDS),
    telemetrySeconds: z.number().min(1).max(3600).default(5),
    /** Where the outbox keeps telemetry and meter readings while the broker is unreachable. */
    dataDir: z.string().min(1).default('/var/lib/openvpp/agent'),
    outboxMaxMessages: z.number().int().min(10).default(20_000),
    strategy: strategyParamsSchema,
    /** Steer the battery (SunSpec 124) to deliver what the home sold; absent: the inverter keeps its own mode. */
    battery: batteryLimitsSchema.and(z.object({ controlSeconds: z.number().min(1).max(60).default(5) })).optional(),
    /** Never write a register (monitoring and trading only). */
    readOnly: z.boolean().default(false),
    /** Show the home in Home Assistant through the homeowner's own MQTT broker (optional). */
    homeAssistant: homeAssistantConfigSchema.optional(),
    /** The chain and settlement contract, for `vpp wallet` (the homeowner's escrow); the agent itself needs neither. */
    chain: z.object({ rpcUrl: z.url({ message: 'must be the chain RPC URL, e.g. https://mainnet.base.org' }), settlement: addressSchema }).strict().optional(),
    /** The market's URL: the agent asks it what its escrow has free and bids only what that covers; `vpp wallet balance` shows what open orders hold. */
    marketUrl: z.url().optional(),
  })
  .strict()
export type AgentConfig = z.infer<typeof agentConfigSchema>
