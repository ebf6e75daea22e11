import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import express, { type NextFunction, type Request, type Response } from 'express'
import { Server as SocketServer } from 'socket.io'
import { z } from 'zod'
import type { Logger } from '../../platform/logger.ts'
import { listen } from '../../platform/listen.ts'
import { addressSchema } from '../../protocol/order.ts'
import type { MarketService } from '../service/market-service.ts'
import { broadcastResult } from '../service/interval-result.ts'
import type { IntervalResult } from '../../protocol/messages.ts'
import type { RejectReason } from '../service/order-validation.ts'
import { openApiDocument } from './openapi.ts'
import { clientKey } from '../service/client-key.ts'
import { RateLimiter } from '../service/rate-limiter.ts'
import { memberRoutes } from './member-routes.ts'
import { escrowRoutes } from './escrow-routes.ts'
import { resolutionSchema } from '../../protocol/telemetry-history.ts'
import { orderRejections } from '../../protocol/errors.ts'

/** HTTP status for each reason an order is refused. */

export interface ApiServerOptions {
  market: MarketService
  host?: string
  /** 0 picks a free port. */
  port?: number
  /** The built dashboard (Vite `dist/`); served at `/` when present. */
  dashboardDir?: string
  /** Origins besides the API's own that may open the socket.io feed, e.g. `https://dashboard.example`. */
  allowedOrigins?: string[]
  /** Bearer token for the operator's calls (members, join approvals); without one they are refused. */
  operatorToken?: string
  logger: Logger
}

export interface RunningApiServer {
  url: string
  port: number
  close(): Promise<void>
}

const historyQuery = z.object({
  resolution: resolutionSchema.default('raw'),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
})
/** How far back history goes when no `from` is given. */
const DEFAULT_HISTORY_MS = { raw: 3_600_000, '1m': 86_400_000, '15m': 7 * 86_400_000 }

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  owner: addressSchema.optional(),
})

/**
 * The market's HTTP face: REST under `/api`, live events on socket.io, and the dashboard.
 *
 * @example
 * const api = await startApiServer({ market, port: 8080, logger })
 * // GET http://127.0.0.1:8080/api/trades
 */
export async function startApiServer(options: ApiServerOptions): Promise<RunningApiServer> {
  const { market, logger } = options
  const app = express()
  app.disable('x-powered-by')

  app.get('/api/health', (_req, res) => {
    const agents = market.agentViews()
    res.json({
      status: 'ok',
      community: market.state().community,
      openInterval: market.state().openInterval,
      agentsOnline: agents.filter((a) => a.online).length,
      agents: agents.length,
      counters: market.counters.toJSON(),
    })
  })
  app.get('/api/market', (_req, res) => res.json(market.state()))
  app.get('/api/agents', (_req, res) => res.json(market.agentViews()))
  app.get('/api/agents/:agentId/telemetry', async (req, res) => {
    const query = historyQuery.parse(req.query)
    const toMs = query.to?.getTime() ?? Date.now()
    const fromMs = query.from?.getTime() ?? toMs - DEFAULT_HISTORY_MS[query.resolution]
    res.json({ agentId: req.params.agentId, resolution: query.resolution, store: market.telemetryStoreKind, samples: await market.telemetryHistory({ agentId: req.params.agentId, fromMs, toMs, resolution: query.resolution }) })
  })
  app.get('/api/topology', (_req, res) => res.json(market.topologyNodes()))
  app.get('/api/book', (req, res) => {
    const { interval } = z.object({ interval: z.coerce.number().int().nonnegative().optional() }).parse(req.query)
    const at = interval ?? market.state().openInterval
    res.json(market.book(at))
  })
  app.get('/api/intervals', (req, res) => {
    const query = listQuery.parse(req.query)
    res.json(market.store.recentIntervals(query.limit).map(broadcastResult))
  })
  app.get('/api/trades', (req, res) => {
    const query = listQuery.extend({ interval: z.coerce.number().int().nonnegative().optional(), offset: z.coerce.number().int().nonnegative().default(0) }).parse(req.query)
    res.json(
      market.store.recentTrades(query.limit, query.owner, query.interval, query.offset).map((t) => ({
        ...t,
        buyerAgent: market.agentIdOf(t.buyer) ?? null,
        sellerAgent: market.agentIdOf(t.seller) ?? null,
      })),
    )
  })
  app.post('/api/orders', express.raw({ type: () => true, limit: '16kb' }), async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    const outcome = await market.submitOrder(body, { httpClient: clientKey(req.socket.remoteAddress ?? 'unknown') })
    if (outcome.ok) res.status(outcome.kind === 'cancel' ? 200 : 201).json({ hash: outcome.hash, kind: outcome.kind })
    else res.status(orderRejections[outcome.reason].status).json({ error: outcome.reason, message: outcome.message })
  })
  const openApi = openApiDocument()
  app.get('/api/openapi.json', (_req, res) => res.json(openApi))
  app.get('/metrics', async (_req, res) => {
    res.type(market.metrics.registry.contentType).send(await market.metrics.registry.metrics())
  })
  app.use('/api', escrowRoutes(market))
  app.use('/api', memberRoutes(market, { operatorToken: options.operatorToken, limiter: new RateLimiter(10, 0.2) }))
  app.use('/api', (_req, res) => res.status(404).json({ error: 'not_found', message: 'no such API route: see README "API"' }))

  if (options.dashboardDir && existsSync(join(options.dashboardDir, 'index.html'))) {
    const dir = options.dashboardDir
    app.use(express.static(dir))
    app.get('/{*path}', (_req, res) => res.sendFile(join(dir, 'index.html')))
  } else {
    app.get('/', (_req, res) => res.type('text').send('OpenVPP market API. The dashboard is not built: run `npm run build:dashboard`.'))
  }

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof z.ZodError) {
      const issue = error.issues[0]
      res.status(400).json({ error: 'invalid_request', message: `${issue?.path.join('.')}: ${issue?.message}` })
      return
    }
    // body-parser's own refusals (413 too large, 400 unreadable) are the client's to fix.
    const status = (error as { status?: number }).status
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: status === 413 ? 'too_large' : 'bad_request', message: (error as Error).message })
      return
    }
    logger.error({ err: error }, 'api: request failed')
    res.status(500).json({ error: 'internal', message: 'internal error, see the market log' })
  })

  const server: Server = createServer(app)
  // Browsers send an Origin; only the dashboard's own (or one listed in allowedOrigins) may open the
  // live feed, so another site a neighbour visits cannot read it through their browser. Clients that
  // are not browsers send none.
  const io = new SocketServer(server, {
    serveClient: false,
    allowRequest: (req, callback) => {
      const origin = req.headers.origin
      const ok = !origin || originHost(origin) === req.headers.host || (options.allowedOrigins ?? []).includes(origin)
      callback(ok ? null : 'origin not allowed', ok)
    },
  })
  io.on('connection', (socket) => {
    socket.emit('hello', {
      market: market.state(),
      agents: market.agentViews(),
      intervals: market.store.recentIntervals(20).map(broadcastResult),
    })
  })
  // An interval result goes out as over MQTT: a large interval's trades stay on GET /api/trades.
  const forward = (event: string) => (payload: unknown) => io.emit(event, event === 'interval' ? broadcastResult(payload as IntervalResult) : payload)
  const handlers = (['market', 'agent', 'telemetry', 'interval', 'order', 'member'] as const).map((event) => [event, forward(event)] as const)
  for (const [event, handler] of handlers) market.on(event, handler)

  const host = options.host ?? '127.0.0.1'
  const port = await listen(server, { port: options.port ?? 0, host })
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      for (const [event, handler] of handlers) market.off(event, handler)
      await io.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** `host:port` of an Origin header (what the Host header of a same-origin request says). */
function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host
  } catch {
    return undefined
  }
}
