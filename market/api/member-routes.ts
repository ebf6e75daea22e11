import { createHash, timingSafeEqual } from 'node:crypto'
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import { z } from 'zod'
import { VppError, type VppErrorCode } from '../../protocol/errors.ts'
import { addMemberRequestSchema, joinRequestSchema, rotateKeyRequestSchema } from '../../protocol/members.ts'
import type { MarketService } from '../service/market-service.ts'
import type { RateLimiter } from '../service/rate-limiter.ts'
import { clientKey } from '../service/client-key.ts'

/** HTTP status of each membership error. */
const STATUS_FOR: Partial<Record<VppErrorCode, number>> = {
  VPP_ERR_MEMBER_EXISTS: 409,
  VPP_ERR_NOT_FOUND: 404,
  VPP_ERR_CONFIG: 400,
  VPP_ERR_UNAUTHORIZED: 403,
}

const refuseSchema = z.object({ reason: z.string().max(500).optional() }).strict()

/**
 * Membership over HTTP. Public: the member list, its change log, a home's signed join request and its
 * status. Operator only (`Authorization: Bearer <operator token>`): adding, removing and re-keying
 * members, and the pending join requests with their approval or refusal.
 */
export function memberRoutes(market: MarketService, options: { operatorToken?: string; limiter: RateLimiter }): Router {
  const router = express.Router()
  const json = express.json({ limit: '16kb' })
  const operator = requireOperator(options.operatorToken)
  const membership = market.membership

  router.get('/members', (_req, res) => res.json(membership.registry.list()))
  router.get('/members/events', (req, res) => {
    const { limit } = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200) }).parse(req.query)
    res.json(membership.registry.events(limit))
  })
  router.post('/members', operator, json, handle(async (req, res) => res.status(201).json(await membership.add(addMemberRequestSchema.parse(req.body)))))
  router.delete('/members/:agentId', operator, handle(async (req, res) => res.json(await membership.remove(String(req.params.agentId)))))
  router.post(
    '/members/:agentId/rotate-key',
    operator,
    json,
    handle(async (req, res) => res.json(await membership.rotateKey(String(req.params.agentId), rotateKeyRequestSchema.parse(req.body).address))),
  )

  router.post(
    '/join',
    json,
    handle(async (req, res) => {
      if (!options.limiter.take(clientKey(req.socket.remoteAddress ?? 'unknown'))) {
        res.status(429).json({ error: 'rate_limited', message: 'too many requests from this address; try again in a few seconds' })
        return
      }
      res.status(202).json(await membership.requestJoin(joinRequestSchema.parse(req.body), Date.now() / 1000))
    }),
  )
  router.get('/join', operator, (_req, res) => res.json(membership.registry.pendingJoins()))
  router.get('/join/:agentId', (req, res) => {
    const status = membership.joinStatus(String(req.params.agentId))
    if (!status) res.status(404).json({ error: 'not_found', message: `no join request from ${req.params.agentId}` })
    else res.json(status)
  })
  router.post('/join/:agentId/approve', operator, handle(async (req, res) => res.json(await membership.approve(String(req.params.agentId)))))
  router.post(
    '/join/:agentId/refuse',
    operator,
    json,
    handle(async (req, res) => res.json(membership.refuse(String(req.params.agentId), refuseSchema.parse(req.body ?? {}).reason ?? null))),
  )
  return router
}

/**
 * The operator's bearer token, compared in constant time. Without a configured token every operator
 * call is refused with the setting to add.
 */
function requireOperator(token: string | undefined) {
  const expected = token ? digest(token) : null
  return (req: Request, res: Response, next: NextFunction) => {
    if (!expected) {
      res.status(401).json({ error: 'unauthorized', message: 'operator calls are disabled on this market: set operatorTokenFile in market.yaml' })
      return
    }
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    if (!given || !timingSafeEqual(digest(given), expected)) {
      res.status(401).json({ error: 'unauthorized', message: given ? 'wrong operator token' : 'operator token missing: send Authorization: Bearer <token> (vpp members … --token-file FILE, or VPP_OPERATOR_TOKEN)' })
      return
    }
    next()
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/** Runs an async route; a membership error becomes its status and message, anything else goes to the error handler. */
function handle(route: (req: Request, res: Response) => Promise<unknown>) {
  return (req: Request, res: Response, next: NextFunction) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof VppError && STATUS_FOR[error.code]) {
        res.status(STATUS_FOR[error.code]!).json({ error: error.code, message: error.message.replace(`${error.code}: `, '') })
      } else next(error)
    })
  }
}
