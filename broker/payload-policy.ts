import type { z } from 'zod'
import { agentStateSchema, telemetrySchema } from '../protocol/messages.ts'
import { signedMeterReadingSchema } from '../protocol/meter-reading.ts'
import { orderRequestSchema } from '../protocol/order.ts'
import { parseAgentTopic } from '../protocol/topics.ts'

/** What an agent may publish on each of its channels. The market checks signatures; the broker checks shape. */
const agentPayloadSchemas: Record<string, z.ZodType> = {
  state: agentStateSchema,
  telemetry: telemetrySchema,
  orders: orderRequestSchema,
  meter: signedMeterReadingSchema,
}

export type PayloadVerdict = { ok: true; channel?: string; data?: unknown } | { ok: false; reason: 'not_json' | 'invalid_schema'; detail: string }

/**
 * Checks an agent's payload at the broker, so malformed telemetry or orders never reach the market or
 * the telemetry sink. A valid payload comes back parsed, with its channel, for whoever needs it next.
 * Pure: topic and bytes in, verdict out.
 */
export function checkAgentPayload(topic: string, payload: Buffer): PayloadVerdict {
  const parsed = parseAgentTopic(topic)
  const schema = parsed ? agentPayloadSchemas[parsed.channel] : undefined
  if (!schema) return { ok: true }
  let json: unknown
  try {
    json = JSON.parse(payload.toString('utf8'))
  } catch {
    return { ok: false, reason: 'not_json', detail: 'payload is not JSON' }
  }
  const result = schema.safeParse(json)
  if (result.success) return { ok: true, channel: parsed!.channel, data: result.data }
  const issue = result.error.issues[0]
  return { ok: false, reason: 'invalid_schema', detail: `${issue?.path.join('.') || 'payload'}: ${issue?.message}` }
}
