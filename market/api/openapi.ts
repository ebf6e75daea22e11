import { z } from 'zod'
import { agentViewSchema, bookEntrySchema, tradeViewSchema } from '../../protocol/api.ts'
import { topologySchema } from '../engine/topology.ts'
import { intervalResultSchema, marketStateSchema } from '../../protocol/messages.ts'
import { orderRequestSchema } from '../../protocol/order.ts'

const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' })
const json = (s: z.ZodType) => ({ 'application/json': { schema: schema(s) } })
const error = { description: 'Refused: `{error, message}`; `error` is a stable reason code', content: json(z.object({ error: z.string(), message: z.string() })) }

/** The OpenAPI 3.1 description of the market's REST API, served at `/api/openapi.json`. */
export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: { title: 'OpenVPP market API', version: '1', description: 'Energy in Wh, prices in token base units per kWh, money in token base units: all integers.' },
    paths: {
      '/api/health': { get: { summary: 'Status and counters', responses: { 200: { description: 'OK' } } } },
      '/api/market': { get: { summary: 'The open interval and everything needed to sign an order for it', responses: { 200: { description: 'Market state', content: json(marketStateSchema) } } } },
      '/api/agents': { get: { summary: 'Every home: address, online, latest telemetry', responses: { 200: { description: 'Homes', content: json(z.array(agentViewSchema)) } } } },
      '/api/agents/{agentId}/telemetry': {
        get: {
          summary: 'Telemetry history of one home',
          parameters: [
            { name: 'agentId', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'resolution', in: 'query', schema: { enum: ['raw', '1m', '15m'], default: 'raw' } },
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
          ],
          responses: { 200: { description: 'Samples' }, 400: error },
        },
      },
      '/api/topology': { get: { summary: "The community's grid tree: nodes, levels, fees and line capacities", responses: { 200: { description: 'Nodes', content: json(topologySchema) } } } },
      '/api/book': {
        get: {
          summary: "An interval's order book, anonymised (side, energy, limit); the open interval by default",
          parameters: [{ name: 'interval', in: 'query', schema: { type: 'integer', minimum: 0 } }],
          responses: { 200: { description: 'Book', content: json(z.object({ interval: z.number().int(), orders: z.array(bookEntrySchema) })) }, 400: error },
        },
      },
      '/api/intervals': { get: { summary: 'Clearing results, newest first; a result with more than 500 trades comes without them (tradesOmitted says how many): page them with /api/trades?interval=', parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } }], responses: { 200: { description: 'Results', content: json(z.array(intervalResultSchema)) } } } },
      '/api/trades': {
        get: {
          summary: 'Trades with their settlement transaction',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
            { name: 'owner', in: 'query', schema: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' } },
            { name: 'interval', in: 'query', schema: { type: 'integer', minimum: 0 } },
            { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0 } },
          ],
          responses: { 200: { description: 'Trades', content: json(z.array(tradeViewSchema)) } },
        },
      },
      '/api/orders': {
        post: {
          summary: 'Submit, replace or cancel an EIP-712 signed order in the open interval',
          description:
            'An order is acknowledged (201) only after it is durably stored; with `replaces` it takes the place of an open order of the same owner in one step. A signed `Cancel(owner, orderHash)` removes an open order (200). The signature authenticates every request: the owner must be a registered home.',
          requestBody: { required: true, content: json(orderRequestSchema) },
          responses: {
            200: { description: 'Cancelled', content: json(z.object({ hash: z.string(), kind: z.literal('cancel') })) },
            201: { description: 'Accepted or replaced', content: json(z.object({ hash: z.string(), kind: z.enum(['order', 'replace']) })) },
            404: error,
            400: error,
            402: error,
            403: error,
            409: error,
            429: error,
          },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text/plain exposition format' } } } },
    },
  }
}
