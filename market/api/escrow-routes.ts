import express, { type Router } from 'express'
import { verifyMessage, type Hex } from 'viem'
import { z } from 'zod'
import { escrowQueryMessage, type EscrowView } from '../../protocol/api.ts'
import { addressSchema, signatureSchema } from '../../protocol/order.ts'
import type { MarketService } from '../service/market-service.ts'

/** How far the time an escrow query was signed at may be from the market's clock. */
const QUERY_SKEW_SECONDS = 300


const querySchema = z.object({ at: z.coerce.number().int().positive().optional(), signature: signatureSchema.optional() })

/**
 * `GET /api/escrow/{address}`: what the owner's escrow is holding for, in base units. Its unsettled
 * trades are public (trades are published at clearing); what its open orders hold is shown only to
 * the owner, with `?at=UNIX&signature=` over `escrowQueryMessage`, since the open book is sealed until
 * gate closure. The shape is protocol/api.ts `escrowViewSchema`.
 */
export function escrowRoutes(market: MarketService): Router {
  const router = express.Router()
  // Public, as the chain is: every entry is an event of the settlement contract.
  router.get('/escrow/:address/history', async (req, res) => {
    res.json(await market.escrowHistory(addressSchema.parse(req.params.address)))
  })
  router.get('/escrow/:address', async (req, res) => {
    const owner = addressSchema.parse(req.params.address)
    const query = querySchema.parse(req.query)
    const holds = await market.escrowHolds(owner)
    let ownerSigned = false
    if (query.at !== undefined && query.signature) {
      if (Math.abs(query.at - Date.now() / 1000) > QUERY_SKEW_SECONDS) {
        res.status(400).json({ error: 'stale_signature', message: `the query was signed at ${query.at}, more than ${QUERY_SKEW_SECONDS} s from the market's clock: check the clock and sign again` })
        return
      }
      ownerSigned = await verifyMessage({ address: owner, message: escrowQueryMessage(owner, query.at), signature: query.signature as Hex }).catch(() => false)
      if (!ownerSigned) {
        res.status(403).json({ error: 'bad_signature', message: 'the query is not signed by the owner' })
        return
      }
    }
    const view: EscrowView = {
      owner,
      unsettledTradesBaseUnits: holds.unsettledTrades.toString(),
      openOrdersBaseUnits: ownerSigned ? holds.openOrders.toString() : null,
      // Free money less open orders would tell anyone what the sealed book holds.
      freeBaseUnits: ownerSigned ? holds.free.toString() : null,
      imbalancePrice: holds.imbalancePrice,
    }
    res.json(view)
  })
  return router
}
